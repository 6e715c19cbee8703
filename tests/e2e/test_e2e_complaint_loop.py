"""Tier 3, D18-D22: the recovery loop closed across the services as processes.

A work order settled on Monday → the day-3 call on Wednesday (scheduler, contact) → an unhappy
answer (overall 5) → a graded ticket (complaints) → the supervisor acknowledges, reviews, replies
and resolves it → the confirmation contact `cc-{ticket}-r1` planned by the scheduler for the next
working day inside calling hours → an agent reaches the customer, who is satisfied → the ticket
closes. Each step is read back through the services' own APIs.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest
from aftersales_contracts import topics
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.service import ensure_topics

from deploy.local.demo_data import demo_work_orders
from tests.e2e.one_dealer import DEALER, answer_for, claim, local, publish_orders
from tests.e2e.test_e2e_pipeline import eventually

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(600)]


async def test_an_unhappy_customer_is_called_back_and_the_ticket_closes(
    stack, isolation, tokens, tmp_path, fleet_of_this_test
):
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(local("2026-11-16T18:00:00"))  # Monday evening, after the settlement
    fleet = fleet_of_this_test(clock, port_shift=30, AFTERSALES_RETRY_BACKOFF_SECONDS="0.05")
    [order] = demo_work_orders(1, [DEALER], datetime(2026, 11, 16, 9, 0), days=1, seed=5)
    assert order["customer"]["contact_consent"]  # D4: a customer who accepts calls
    assert order["customer"]["preferred_channel"] == "phone"
    dms_topic = isolation.topic(topics.DMS_WORKORDER_CLOSED)
    await ensure_topics(stack.kafka_options(), [dms_topic])
    await asyncio.to_thread(fleet.start)
    agent = tokens.header("agent", sub="agent-1", dealers=[DEALER])
    supervisor = tokens.header("service_supervisor", sub="SUP-01", dealers=[DEALER])
    contact, complaints = fleet["contact"].url, fleet["complaints"].url
    try:
        await publish_orders(stack.kafka_options(), dms_topic, order)
        async with httpx.AsyncClient(timeout=10) as http:

            async def claimed() -> dict | None:
                return await claim(http, contact, agent)

            clock.set(local("2026-11-18T09:30:00"))  # D6: the call is due Wednesday 09:00
            call = await eventually(claimed, timeout=60)
            assert call["purposes"] == ["service_call_day3"]
            sent = await http.post(
                f"{contact}/v1/tasks/{call['task_id']}/result",
                json=answer_for(call, overall=5),
                headers=agent,
            )
            assert sent.status_code == 200, sent.text

            async def ticket() -> list[dict]:
                listed = await http.get(
                    f"{complaints}/v1/dealers/{DEALER}/complaints", headers=supervisor
                )
                assert listed.status_code == 200, listed.text
                return listed.json()["complaints"]

            [opened] = await eventually(ticket, timeout=60)
            assert (opened["grade"], opened["owner_role"]) == ("C", "service_supervisor")
            url = f"{complaints}/v1/complaints/{opened['ticket_id']}"
            for action, body in [
                ("acknowledge", {"text": "已通知总经理"}),
                ("review", {"text": "复检空调"}),
                ("reply", {"text": "已致电客户"}),
                ("resolve", {"root_cause_category": "repair_quality", "action_taken": "重新加注"}),
            ]:
                moved = await http.post(f"{url}/{action}", json=body, headers=supervisor)
                assert moved.status_code == 200, (action, moved.text)
            assert moved.json()["state"] == "confirming"

            # D22: the scheduler plans the call back for the next working day, calling hours.
            clock.set(local("2026-11-19T10:00:00"))
            confirmation = await eventually(claimed, timeout=60)
            assert confirmation["purposes"] == ["complaint_confirmation"]
            assert confirmation["contact_id"].startswith(f"cc-{opened['ticket_id']}-r1")
            satisfied = await http.post(
                f"{contact}/v1/tasks/{confirmation['task_id']}/result",
                json=answer_for(confirmation, overall=9),
                headers=agent,
            )
            assert satisfied.status_code == 200, satisfied.text

            async def closed() -> dict | None:
                shown = (await http.get(url, headers=supervisor)).json()
                return shown if shown["state"] == "closed" else None

            final = await eventually(closed, timeout=60)
            kinds = [entry["kind"] for entry in final["history"]]
            assert kinds[:1] == ["opened"]
            assert kinds[-2:] == ["confirmation_requested", "closed"]
            print(f"\nticket {opened['ticket_id']}: {' → '.join(kinds)}")
    finally:
        await asyncio.to_thread(fleet.stop)
