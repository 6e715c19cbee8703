"""The SMS channel end to end (issue 10.6, D4, D7, D14, D18) on the real Kafka and FerretDB: the
five services as processes, contact sending through the official Alibaba Cloud SDK to the local
SMS gateway (its own process), which pushes the customer's replies back.

One work order settled on a Monday: the day-3 call is answered by an agent; the day-7 survey goes
out by SMS; the reply `9 9 8 10 9 7` becomes a result like a call's and, its overall score being
7, complaints opens a ticket (D18); then `退订` opts the customer out (D4): the scheduler cancels
what is pending and the day-30 call never comes, and no further SMS is sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from aftersales_contracts.topics import CONTACT_RESULT, DMS_WORKORDER_CLOSED
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.service import ensure_topics
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from deploy.local.demo_data import work_order
from deploy.local.services import REPO

pytestmark = [pytest.mark.stack, pytest.mark.e2e]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALER = "dealer-sz-001"
PHONE = "13912345678"  # as the provider writes it; E.164 +8613912345678
PORT_SHIFT = 30


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


async def eventually(probe, timeout: float = 60, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")


def the_order() -> dict:
    import random

    order = work_order(random.Random(7), DEALER, 1, datetime(2026, 11, 16, 10, 5))
    order["work_order_type"] = "repair"
    order["customer"].update(
        contact_consent=True, preferred_channel=None, phone=PHONE, birthday="1980-06-15"
    )
    order["insurance_expiry"] = "2027-09-30"
    order["licence_expiry"] = "2030-09-30"
    order["next_maintenance"] = {"due_date": "2027-05-16", "due_mileage_km": None}
    return order


def start_gateway(
    port: int, callback: str, tokens, key_secret: str, tmp_path
) -> subprocess.Popen[bytes]:
    """The local SMS gateway as its own process; its callbacks signed by the tests' issuer."""
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "deploy.local.smsgateway", "--port", str(port)),
            *("--callback", callback, "--issuer-dir", str(tokens.private_key_file.parent)),
            *("--access-key-id", "e2e", "--access-key-secret", key_secret),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "smsgateway.log").open("wb"),
    )


async def results_on_the_bus(kafka: dict, topic: str, at_least: int) -> list[dict]:
    consumer = AIOKafkaConsumer(topic, **kafka, auto_offset_reset="earliest")
    await consumer.start()
    found: list[dict] = []
    try:
        deadline = time.monotonic() + 30
        while len(found) < at_least and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                found += [json.loads(record.value) for record in batch]
    finally:
        await consumer.stop()
    return found


async def test_a_day7_sms_survey_reply_opens_a_ticket_and_td_stops_every_contact(
    stack, isolation, tmp_path, fleet_of_this_test, tokens
):
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(local("2026-11-16T18:00:00"))
    offset = int(os.environ.get("AFTERSALES_TEST_PORT_OFFSET", "100")) + PORT_SHIFT
    gateway_port, key_secret = 8010 + offset, secrets.token_hex(16)
    fleet = fleet_of_this_test(
        clock,
        port_shift=PORT_SHIFT,
        AFTERSALES_RETRY_BACKOFF_SECONDS="0.05",
        CONTACT_SMS_PROVIDER="alibaba",
        CONTACT_SMS_ENDPOINT=f"127.0.0.1:{gateway_port}",
        CONTACT_SMS_PROTOCOL="http",
        CONTACT_SMS_ACCESS_KEY_ID="e2e",
        CONTACT_SMS_ACCESS_KEY_SECRET=key_secret,
        CONTACT_SMS_SIGN_NAME="深圳宝安店",
    )
    gateway = start_gateway(gateway_port, fleet["contact"].url, tokens, key_secret, tmp_path)
    kafka = stack.kafka_options()
    await ensure_topics(kafka, [isolation.topic(DMS_WORKORDER_CLOSED)])
    await asyncio.to_thread(fleet.start)
    agent = tokens.header("agent", dealers=[DEALER], sub="agent-1")
    manager = tokens.header("service_manager", "agent", dealers=[DEALER])
    order = the_order()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            sms = f"http://127.0.0.1:{gateway_port}"
            contact, complaints = fleet["contact"].url, fleet["complaints"].url
            scheduler = fleet["scheduler"].url
            producer = AIOKafkaProducer(**kafka, enable_idempotence=True)
            await producer.start()
            try:
                await producer.send_and_wait(
                    isolation.topic(DMS_WORKORDER_CLOSED),
                    json.dumps(order, ensure_ascii=False).encode(),
                    key=DEALER.encode(),
                )
            finally:
                await producer.stop()

            async def claimed():
                answer = await http.post(
                    f"{contact}/v1/dealers/{DEALER}/tasks/claim", headers=agent
                )
                return answer.json() if answer.status_code == 200 else None

            # Day 3: the call, answered by an agent with the questionnaire the task shows.
            clock.set(local("2026-11-19T15:30:00"))
            day3 = await eventually(claimed)
            items = day3["questionnaires"][0]["items"]
            body = {
                "outcome": "reached",
                "scores": {i["id"]: 9 for i in items if i["kind"] == "score"},
                "yes_no": {i["id"]: True for i in items if i["kind"] == "yes_no"},
            }
            answer = await http.post(
                f"{contact}/v1/tasks/{day3['task_id']}/result", json=body, headers=agent
            )
            assert answer.status_code == 200, answer.text

            # Day 7: the survey goes out by SMS, through the SDK to the gateway; no agent task.
            clock.set(local("2026-11-23T15:30:00"))

            async def survey_sent():
                return (await http.get(f"{sms}/messages", params={"phone": PHONE})).json()

            [survey] = await eventually(survey_sent)
            print("\nSMS sent through the SDK:", json.dumps(survey, ensure_ascii=False))
            assert survey["template_code"] == "SMS_AFTERSALES_SURVEY"
            assert await claimed() is None

            reply = await http.post(
                f"{sms}/replies", json={"phone": PHONE, "content": "9 9 8 10 9 7"}
            )
            assert reply.json()["callback"]["handled"] == ["answered"], reply.text

            async def tickets():
                answer = await http.get(
                    f"{complaints}/v1/dealers/{DEALER}/complaints", headers=manager
                )
                return answer.json()["complaints"] if answer.status_code == 200 else None

            [ticket] = await eventually(tickets)
            print("ticket opened by complaints:", json.dumps(ticket, ensure_ascii=False))
            results = await results_on_the_bus(kafka, isolation.topic(CONTACT_RESULT), 2)
            by_sms = [r for r in results if r["channel"] == "sms"]
            print("result event:", json.dumps(by_sms[0], ensure_ascii=False))
            assert by_sms[0]["scores"] == {
                "environment": 9,
                "service_process": 9,
                "quality": 8,
                "charges": 10,
                "timeliness": 9,
                "overall": 7,
            }
            assert ticket["work_order_id"] == order["work_order_id"]

            # 退订: opted out at once; the scheduler cancels what is pending (D4).
            reply = await http.post(f"{sms}/replies", json={"phone": PHONE, "content": "退订"})
            assert reply.json()["callback"]["handled"] == ["opted_out"], reply.text

            async def opted_out():
                answer = await http.get(
                    f"{scheduler}/v1/dealers/{DEALER}/customers/"
                    f"{order['customer']['customer_id']}/contacts",
                    headers=agent,
                )
                view = answer.json()
                return view if view.get("opted_out") else None

            view = await eventually(opted_out)
            states = {c["step"]: c["state"] for c in view["contacts"]}
            print("the scheduler's contacts after 退订:", states)
            assert "pending" not in states.values()

            # Day 30: the second call never comes, and nothing more is sent by SMS.
            clock.set(local("2026-12-16T15:30:00"))
            await asyncio.sleep(5)
            assert await claimed() is None
            assert len(await survey_sent()) == 1
    finally:
        await asyncio.to_thread(fleet.stop)
        gateway.terminate()
        gateway.wait(10)
