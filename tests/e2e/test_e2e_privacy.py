"""Tier 3, D3: a `make run`-style pass (the five services as processes, demo work orders of three
dealers, an agent working the calls, complaints, reports) and then a scan of everything it left
behind for the customers' names and phone numbers:

- every line every service logged;
- every message (key, value, headers) of every topic, except the ones that must carry the
  customer towards the call (ALLOWED, each with its reason);
- every answer of the reporting, complaints and decision-trail APIs.

It prints what it scanned and what it found; it finds nothing where nothing belongs.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from aftersales_contracts import topics
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.service import ensure_topics
from aiokafka import AIOKafkaConsumer

from deploy.local.demo_data import demo_work_orders
from tests.e2e.test_e2e_pipeline import eventually, publish

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(600)]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALERS = ["dealer-sz-001", "dealer-gz-003", "dealer-bj-002"]
STAFF = {"王芳", "陈静", "赵磊", "刘强", "孙杰", "周涛"}  # demo_data's advisors and technicians
ALLOWED = {
    topics.DMS_WORKORDER_CLOSED: "the DMS's own input",
    topics.DMS_VEHICLE_DELIVERED: "the DMS's own input",
    topics.WORKORDER_CLOSED: "carries the customer to the scheduler, which plans the call",
    topics.VEHICLE_DELIVERED: "carries the buyer to the scheduler, which plans the call",
    topics.CONTACT_DUE: "what the agent calls (D3: the agent working the task)",
    topics.INTAKE_REJECTED: "the raw record, for the data steward to fix (D5)",
    topics.DEAD_LETTER: "raw input parked until it is replayed",
}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def secrets_of(orders: list[dict]) -> dict[str, str]:
    """Each customer's name and phone spellings → the work order they came with."""
    found: dict[str, str] = {}
    for order in orders:
        customer = order["customer"]
        digits = "".join(c for c in customer["phone"] if c.isdigit())
        national = digits[-11:]
        for secret in {national, f"+86{national}", customer["phone"]}:
            found[secret] = order["work_order_id"]
        if customer["name"] not in STAFF:  # a name shared with staff would be a false alarm
            found[customer["name"]] = order["work_order_id"]
    return found


def hits_in(text: str, secrets: dict[str, str]) -> list[str]:
    return [f"{secret!r} of {wo}" for secret, wo in secrets.items() if secret in text]


async def read_all(kafka: dict, topic: str) -> list[str]:
    """Every message of `topic` as text (key, value, headers), from the first offset to the end."""
    consumer = AIOKafkaConsumer(
        topic, **kafka, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()  # no group: every partition is assigned at once
    try:
        partitions = list(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        texts: list[str] = []

        async def behind() -> bool:
            return any([await consumer.position(p) < ends[p] for p in partitions])

        while await behind():
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    headers = " ".join(f"{k}={v!r}" for k, v in r.headers)
                    texts.append(
                        f"{(r.key or b'').decode(errors='replace')} "
                        f"{(r.value or b'').decode(errors='replace')} {headers}"
                    )
        return texts
    finally:
        await consumer.stop()


async def test_no_name_or_phone_where_none_belongs(
    stack, isolation, tokens, tmp_path, fleet_of_this_test
):
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(local("2026-11-16T18:00:00"))
    fleet = fleet_of_this_test(clock, port_shift=10, LOG_LEVEL="DEBUG")  # the most it writes
    orders = list(demo_work_orders(30, DEALERS, datetime(2026, 11, 11, 9, 0), days=5, seed=11))
    broken = {**orders[0], "work_order_id": "WO-broken", "vin": "SHORT"}  # → rejected inbox
    secrets = secrets_of([*orders, broken])
    dms_topic = isolation.topic(topics.DMS_WORKORDER_CLOSED)
    await ensure_topics(stack.kafka_options(), [dms_topic])
    await asyncio.to_thread(fleet.start)
    rng = random.Random(5)
    try:
        payloads = [json.dumps(o, ensure_ascii=False).encode() for o in [*orders, broken]]
        keys = [o["dealer_id"].encode() for o in [*orders, broken]]
        await publish(stack.kafka_options(), dms_topic, payloads, keys)
        clock.set(local("2026-11-19T15:30:00"))  # every day-3 call is due
        staff = tokens.header("agent", "cr_manager", sub="agent-1", dealers=DEALERS)
        async with httpx.AsyncClient(timeout=10, headers=staff) as http:
            contact = fleet["contact"].url

            async def answer_all() -> int:
                answered = 0
                for dealer in DEALERS:
                    while (
                        claim := await http.post(f"{contact}/v1/dealers/{dealer}/tasks/claim")
                    ).status_code == 200:
                        task = claim.json()
                        overall = rng.choice([10, 9, 6, 3])
                        body: dict = {"outcome": "reached", "comment": "还行"}
                        if task["questionnaires"]:  # answer what the task asks (D16/D17)
                            questionnaire = task["questionnaires"][0]
                            items = questionnaire["items"]
                            body["questionnaire"] = {
                                "id": questionnaire["id"],
                                "version": questionnaire["version"],
                            }
                            scored = [i["id"] for i in items if i["kind"] == "score"]
                            body["scores"] = dict.fromkeys(scored, 8) | {"overall": overall}
                            asked = [i["id"] for i in items if i["kind"] == "yes_no"]
                            if asked:
                                body["yes_no"] = dict.fromkeys(asked, True)
                        url = f"{contact}/v1/tasks/{task['task_id']}/result"
                        result = await http.post(url, json=body)
                        assert result.status_code == 200, result.text
                        answered += 1
                return answered

            answered = 0

            async def enough_answered() -> bool:
                nonlocal answered
                answered += await answer_all()
                return answered >= 20

            await eventually(enough_answered, timeout=120, interval=2)

            async def reported() -> dict | None:
                reports = {}
                for dealer in DEALERS:
                    answer = await http.get(
                        f"{fleet['reporting'].url}/v1/dealers/{dealer}/reports/monthly",
                        params={"month": "2026-11"},
                        headers=tokens.header("cr_manager", dealers=DEALERS),
                    )
                    reports[dealer] = answer.text
                made = sum(json.loads(r)["contacts_made"] for r in reports.values())
                return reports if made >= answered else None

            reports = await eventually(reported)
            manager = tokens.header("service_manager", "cr_manager", dealers=DEALERS)
            answers = list(reports.values())
            for order in orders:
                dealer = order["dealer_id"]
                trail = await http.get(
                    f"{fleet['scheduler'].url}/v1/dealers/{dealer}/vehicles/{order['vin']}/contacts",
                    headers=manager,
                )
                answers.append(trail.text)
            for dealer in DEALERS:
                answers.append(
                    (
                        await http.get(
                            f"{fleet['complaints'].url}/v1/dealers/{dealer}/complaints",
                            headers=manager,
                        )
                    ).text
                )
    finally:
        await asyncio.to_thread(fleet.stop)

    rows: list[tuple[str, int, list[str], str]] = []  # source, scanned, hits, why allowed
    for log in sorted((tmp_path / "logs").glob("*.log")):
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        rows.append(
            (f"log {log.name}", len(lines), [h for x in lines for h in hits_in(x, secrets)], "")
        )
    for topic in topics.ALL_TOPICS:
        messages = await read_all(stack.kafka_options(), isolation.topic(topic))
        hits = [h for m in messages for h in hits_in(m, secrets)]
        rows.append((f"topic {topic}", len(messages), hits, ALLOWED.get(topic, "")))
    api_hits = [h for text in answers for h in hits_in(text, secrets)]
    rows.append(("API: reports, complaints, decision trails", len(answers), api_hits, ""))

    print(f"\nlooked for {len(secrets)} names and phone spellings of {len(orders) + 1} work "
          f"orders' customers; calls answered: {answered}")  # fmt: skip
    for source, count, hits, allowed in rows:
        verdict = f"{len(hits)} found" + (f" (allowed: {allowed})" if allowed else "")
        print(f"  {source:<45} {count:>6} scanned  {verdict}")
    scanned = {source: count for source, count, _, _ in rows}
    assert scanned["topic aftersales.contact.result"] >= answered  # the scan saw real traffic
    assert all(count > 0 for source, count in scanned.items() if source.startswith("log "))
    leaks = {source: hits[:5] for source, _, hits, allowed in rows if hits and not allowed}
    assert leaks == {}
