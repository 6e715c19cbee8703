"""Tier 3, D31: appointments booked on calls, across the services as processes.

Two customers' work orders settle on Monday. On Tuesday their maintenance reminder calls fall
due (D9); on those calls an agent books the first customer into Thursday 09:00 (one bay), the
second gets 409 with the nearest free slots and takes the first of them. On Wednesday both are
reminded (the scheduler plans the reminder the day before; contact queues it, merged with the
day-3 call that falls in the same window, D13). On Thursday the first customer's car comes in:
the new work order keeps the appointment. The second never comes: on Saturday the sweep marks it
a no-show and the scheduler queues a follow-up call.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime

import httpx
import pytest
from aftersales_contracts import topics
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.service import ensure_topics

from deploy.local.demo_data import demo_work_orders, work_order
from deploy.local.services import REPO
from tests.e2e.one_dealer import DEALER, claim, local, publish_orders
from tests.e2e.test_e2e_pipeline import eventually

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(600)]

WORKSHOP = {
    "slots": [
        {"id": "0900", "start": "09:00", "end": "10:30", "bays": 1},
        {"id": "1030", "start": "10:30", "end": "12:00", "bays": 1},
    ]
}


async def test_booked_reminded_kept_and_a_no_show_followed_up(
    stack, isolation, tokens, tmp_path, fleet_of_this_test
):
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(local("2026-11-16T18:00:00"))
    # The week after a visit already holds its day-3 call and day-7 survey, the D13 cap's
    # default (2 in 7 days): with it the no-show's follow-up would wait until the cap allows
    # (the scheduler's test shows that); this dealer allows 5, so it comes the next window.
    dealers = json.loads((REPO / "deploy/local/dealers.json").read_text(encoding="utf-8"))
    dealers["dealers"][DEALER].setdefault("settings", {})["scheduler"] = {
        "max_contacts_per_7_days": 5
    }
    dealers_file = tmp_path / "dealers.json"
    dealers_file.write_text(json.dumps(dealers, ensure_ascii=False), encoding="utf-8")
    fleet = fleet_of_this_test(
        clock,
        port_shift=50,
        AFTERSALES_DEALERS_FILE=str(dealers_file),
        AFTERSALES_RETRY_BACKOFF_SECONDS="0.05",
        APPOINTMENTS_WORKSHOP=json.dumps(WORKSHOP),
        APPOINTMENTS_SWEEP_INTERVAL_SECONDS="1",
    )
    first, second = demo_work_orders(2, [DEALER], datetime(2026, 11, 16, 9, 0), days=1, seed=5)
    assert all(o["customer"]["contact_consent"] for o in (first, second))
    for order in (first, second):  # D9: the maintenance reminder call falls on Tuesday
        order["next_maintenance"]["due_date"] = "2026-11-24"
        order["customer"]["preferred_channel"] = "phone"
    arrival = work_order(random.Random(1), DEALER, 3, datetime(2026, 11, 19, 11, 30), first["vin"])
    dms_topic = isolation.topic(topics.DMS_WORKORDER_CLOSED)
    await ensure_topics(stack.kafka_options(), [dms_topic])
    await asyncio.to_thread(fleet.start)
    agent = tokens.header("agent", sub="agent-1", dealers=[DEALER])
    advisor = tokens.header("service_advisor", sub="SA-1", dealers=[DEALER])
    contact, appointments = fleet["contact"].url, fleet["appointments"].url

    async def dms(*orders: dict) -> None:
        await publish_orders(stack.kafka_options(), dms_topic, *orders)

    try:
        await dms(first, second)
        async with httpx.AsyncClient(timeout=10) as http:

            async def book(order: dict, slot_id: str, request_id: str) -> httpx.Response:
                return await http.post(
                    f"{appointments}/v1/dealers/{DEALER}/appointments",
                    json={
                        "request_id": request_id,
                        "vin": order["vin"],
                        "customer_id": order["customer"]["customer_id"],
                        "day": "2026-11-19",
                        "slot_id": slot_id,
                        "service": "maintenance",
                        "parts_to_prepare": ["机油滤清器"],
                        "contact_id": reminder_calls[order["vin"]]["contact_id"],
                    },
                    headers=agent,
                )

            async def steps_of(order: dict) -> dict[str, str]:
                """The scheduler's planned contacts of the vehicle: step -> state."""
                answer = await http.get(
                    f"{fleet['scheduler'].url}/v1/dealers/{DEALER}/vehicles/"
                    f"{order['vin']}/contacts",
                    headers=agent,
                )
                assert answer.status_code == 200, answer.text
                return {c["step"]: c["state"] for c in answer.json()["contacts"]}

            async def planned() -> bool:  # a booking is made on a call: after the planning
                return all([await steps_of(order) for order in (first, second)])

            await eventually(planned, timeout=60)

            # Tuesday: the maintenance reminder calls; on each the customer books (D31).
            clock.set(local("2026-11-17T10:30:00"))
            reminder_calls: dict[str, dict] = {}

            async def reminder_calls_claimed() -> bool:
                while task := await claim(http, contact, agent):
                    if "maintenance_reminder" in task["purposes"]:
                        reminder_calls[task["vehicle"]["vin"]] = task
                return set(reminder_calls) == {first["vin"], second["vin"]}

            await eventually(reminder_calls_claimed, timeout=60)
            for task in reminder_calls.values():
                print(f"Tuesday: {task['vehicle']['vin']} {task['purposes']}")
                answered = await http.post(
                    f"{contact}/v1/tasks/{task['task_id']}/result",
                    json={"outcome": "reached", "comment": "客户同意周四进厂保养"},
                    headers=agent,
                )
                assert answered.status_code == 200, answered.text

            booked = await book(first, "0900", "call-1")
            assert booked.status_code == 201, booked.text
            full = await book(second, "0900", "call-2")
            assert full.status_code == 409, full.text
            alternatives = full.json()["alternatives"]
            print(f"\n409 for the second customer, alternatives: {alternatives}")
            assert alternatives[0] == {"day": "2026-11-19", "slot_id": "1030", "free": 1}
            taken = await book(second, "1030", "call-2b")
            assert taken.status_code == 201, taken.text
            kept_id, missed_id = booked.json()["appointment_id"], taken.json()["appointment_id"]

            async def claim_all() -> list[dict]:
                tasks = []
                while task := await claim(http, contact, agent):
                    tasks.append(task)
                return tasks

            async def reminders_planned() -> bool:
                steps = [await steps_of(order) for order in (first, second)]
                # Pending, or merged into the day-3 call of the same window (D13).
                return all(s.get("appointment_reminder") in ("pending", "merged") for s in steps)

            await eventually(reminders_planned, timeout=60)

            # Wednesday: the reminders fall due (and the day-3 calls, in the same window).
            clock.set(local("2026-11-18T09:30:00"))
            claimed: list[dict] = []

            async def reminded() -> bool:
                claimed.extend(await claim_all())
                vins = {
                    t["vehicle"]["vin"] for t in claimed if "appointment_reminder" in t["purposes"]
                }
                return vins == {first["vin"], second["vin"]}

            await eventually(reminded, timeout=60)
            for task in claimed:
                print(f"Wednesday: {task['vehicle']['vin']} {task['purposes']}")

            # Thursday: the first car comes in.
            clock.set(local("2026-11-19T11:45:00"))
            await dms(arrival)

            async def state_of(appointment_id: str) -> dict:
                answer = await http.get(
                    f"{appointments}/v1/appointments/{appointment_id}", headers=advisor
                )
                assert answer.status_code == 200, answer.text
                return answer.json()

            async def kept() -> dict | None:
                shown = await state_of(kept_id)
                return shown if shown["state"] == "kept" else None

            shown = await eventually(kept, timeout=60)
            assert shown["work_order_id"] == arrival["work_order_id"]
            day = await http.get(
                f"{appointments}/v1/dealers/{DEALER}/appointments",
                params={"day": "2026-11-19"},
                headers=advisor,
            )
            listed = [(a["slot_id"], a["state"]) for a in day.json()["items"]]
            print(f"workshop list 2026-11-19: {listed}")

            # Saturday: Friday is over without the second car: a no-show, followed up by a call.
            clock.set(local("2026-11-21T09:30:00"))

            async def missed() -> bool:
                return (await state_of(missed_id))["state"] == "no_show"

            await eventually(missed, timeout=60)
            follow_ups: list[dict] = []

            async def followed_up() -> bool:
                follow_ups.extend(
                    t for t in await claim_all() if "appointment_no_show" in t["purposes"]
                )
                return bool(follow_ups)

            await eventually(followed_up, timeout=60)
            print(f"Saturday: {[(t['vehicle']['vin'], t['purposes']) for t in follow_ups]}")
            assert [t["vehicle"]["vin"] for t in follow_ups] == [second["vin"]]
            history = [h["kind"] for h in (await state_of(missed_id))["history"]]
            assert history == ["booked", "no_show"]
    finally:
        await asyncio.to_thread(fleet.stop)
