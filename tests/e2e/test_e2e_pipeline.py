"""Tier 3: one work order's whole journey, DMS → intake → scheduler → contact → complaints →
reporting, with the five services as separate OS processes on the real Kafka and FerretDB, driven
only through the external contracts (the DMS topic and the HTTP APIs) and a shared controlled clock.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

import httpx
import pytest
from aftersales_contracts import Scores
from aftersales_contracts.topics import DEAD_LETTER, DMS_WORKORDER_CLOSED
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.service import ensure_topics
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from deploy.local.demo_data import work_order
from deploy.local.services import Fleet

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(600)]

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALERS = ["dealer-sz-001", "dealer-gz-003", "dealer-bj-002"]
AFTER_SERVICE = {"call_day3", "sms_survey_day7", "call_day30"}
ITEMS = Scores.ITEMS  # the after-service CSI items (D16)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@dataclass
class Answer:
    """What the test's agent says for one work order's day-3 call, and what it should cause."""

    scores: dict[str, int]
    grade: str | None  # the complaint grade expected (None: no ticket, D18)


def scores(overall: int, **items: int) -> dict[str, int]:
    return {item: items.get(item, max(overall, 8)) for item in ITEMS[:-1]} | {"overall": overall}


# Grading rule under test (complaints' defaults): overall ≤ 4 → B, 5–6 → C, 7 → D, item ≤ 2 → B.
ANSWERS = [
    Answer(scores(10), None),
    Answer(scores(4), "B"),
    Answer(scores(7), "D"),
    Answer(scores(6), "C"),
    Answer(scores(9), None),
    Answer(scores(8, quality=2), "B"),
]


def make_orders() -> list[dict]:
    rng = random.Random(42)
    orders = []
    for number, _ in enumerate(ANSWERS, start=1):
        order = work_order(rng, DEALERS[number % 3], number, datetime(2026, 11, 16, 9 + number, 5))
        order["customer"]["contact_consent"] = True
        order["customer"]["preferred_channel"] = "phone"
        order["work_order_type"] = "repair"
        # Care dates far from the follow-up days, so no care contact merges into them (D13).
        order["customer"]["birthday"] = "1980-06-15"
        order["insurance_expiry"] = "2027-09-30"
        order["licence_expiry"] = "2030-09-30"
        order["next_maintenance"] = {"due_date": "2027-05-16", "due_mileage_km": None}
        orders.append(order)
    return orders


async def publish(kafka: dict, topic: str, payloads: list[bytes], keys: list[bytes]) -> None:
    producer = AIOKafkaProducer(**kafka, enable_idempotence=True)
    await producer.start()
    try:
        for payload, key in zip(payloads, keys, strict=True):
            await producer.send_and_wait(topic, payload, key=key)
    finally:
        await producer.stop()


async def read_topic(kafka: dict, topic: str, at_least: int, timeout: float = 30) -> list:
    consumer = AIOKafkaConsumer(
        topic, **kafka, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list = []
    try:
        deadline = time.monotonic() + timeout
        while len(records) < at_least and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def eventually(probe, timeout: float = 60, interval: float = 0.5):
    """Poll `probe` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")


@pytest.fixture
async def system(stack, isolation, tmp_path, fleet_of_this_test):
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(local("2026-11-16T18:00:00"))  # after the last settlement (15:05)
    fleet = fleet_of_this_test(clock, AFTERSALES_RETRY_BACKOFF_SECONDS="0.05", LOG_LEVEL="INFO")
    await ensure_topics(
        stack.kafka_options(),
        [isolation.topic(DMS_WORKORDER_CLOSED), isolation.topic(DEAD_LETTER)],
    )
    await asyncio.to_thread(fleet.start)
    try:
        yield fleet, clock
    finally:
        await asyncio.to_thread(fleet.stop)


class Api:
    def __init__(self, fleet: Fleet, http: httpx.AsyncClient) -> None:
        self.fleet, self.http = fleet, http

    async def claim(self, dealer: str, agent: str = "agent-1") -> dict | None:
        answer = await self.http.post(
            f"{self.fleet['contact'].url}/v1/dealers/{dealer}/tasks/claim", json={"agent_id": agent}
        )
        assert answer.status_code in (200, 204), answer.text
        return answer.json() if answer.status_code == 200 else None

    async def assert_nothing_due_at(self, clock: ControlledClock, moment: datetime, what: str):
        """Move the shared clock to `moment`, give the dispatcher a few ticks: no task is due."""
        clock.set(moment)
        await asyncio.sleep(4)
        for dealer in DEALERS:
            assert await self.claim(dealer) is None, f"{what} came due early ({dealer})"

    async def claim_all(self, expected: int, timeout: float = 60) -> list[dict]:
        tasks: list[dict] = []

        async def more() -> bool:
            for dealer in DEALERS:
                while task := await self.claim(dealer):
                    tasks.append(task)
            return len(tasks) >= expected

        await eventually(more, timeout)
        return tasks

    async def submit(self, task: dict, body: dict) -> dict:
        answer = await self.http.post(
            f"{self.fleet['contact'].url}/v1/tasks/{task['task_id']}/result",
            json={"agent_id": "agent-1", **body},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def planned(self, order: dict) -> list[dict]:
        """The scheduler's planned contacts of this work order (its decision trail API)."""
        answer = await self.http.get(
            f"{self.fleet['scheduler'].url}/v1/dealers/{order['dealer_id']}/vehicles/"
            f"{order['vin']}/contacts"
        )
        assert answer.status_code == 200, answer.text
        return [
            c for c in answer.json()["contacts"] if c["work_order_id"] == order["work_order_id"]
        ]

    async def tasks(self, dealer: str, state: str) -> list[dict]:
        answer = await self.http.get(
            f"{self.fleet['contact'].url}/v1/dealers/{dealer}/tasks", params={"state": state}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return body["tasks"] if isinstance(body, dict) else body

    async def complaints(self, dealer: str) -> list[dict]:
        answer = await self.http.get(
            f"{self.fleet['complaints'].url}/v1/dealers/{dealer}/complaints"
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        return body["complaints"] if isinstance(body, dict) else body

    async def report(self, dealer: str, month: str) -> dict:
        answer = await self.http.get(
            f"{self.fleet['reporting'].url}/v1/dealers/{dealer}/reports/monthly",
            params={"month": month},
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def counts(self, orders: list[dict]) -> dict:
        """Everything that must not change when events are replayed or a service crashes."""
        result: dict = {f"{o['work_order_id']}/planned": len(await self.planned(o)) for o in orders}
        for dealer in DEALERS:
            # Contact lists its open queue only; finished contacts are counted by the report.
            for state in ("open", "claimed"):
                result[f"{dealer}/tasks/{state}"] = len(await self.tasks(dealer, state))
            result[f"{dealer}/complaints"] = len(await self.complaints(dealer))
            result[f"{dealer}/report"] = await self.report(dealer, "2026-11")
        return result


def expected_report(dealer: str, results: list[tuple[dict, Answer]]) -> dict:
    """The monthly report computed from the answers the test gave (D23, D24)."""
    mine = [answer for order, answer in results if order["dealer_id"] == dealer]
    grades = [a.grade for a in mine if a.grade]
    return {
        "contacts_made": len(mine),
        "reached": len(mine),
        "unreached": 0,
        "average_scores": {
            i: pytest.approx(mean(a.scores[i] for a in mine if i in a.scores)) for i in ITEMS
        },
        "satisfaction_rate": pytest.approx(sum(a.scores["overall"] >= 8 for a in mine) / len(mine)),
        "complaints_opened": {g: grades.count(g) for g in "ABCD"} | {"total": len(grades)},
    }


# Every day-7 survey: satisfied, no ticket; its questionnaire is the six-item SMS survey (it
# asks neither the attitude nor the first-time fix).
SURVEY_ANSWER = Answer({k: v for k, v in scores(9).items() if k != "attitude"}, None)


async def test_work_orders_travel_the_whole_pipeline_exactly_once(stack, isolation, system, tokens):
    fleet, clock = system
    orders = make_orders()
    dms_topic = isolation.topic(DMS_WORKORDER_CLOSED)
    payloads = [json.dumps(o, ensure_ascii=False).encode() for o in orders]
    keys = [o["dealer_id"].encode() for o in orders]
    by_wo = {o["work_order_id"]: (o, a) for o, a in zip(orders, ANSWERS, strict=True)}

    # Malformed input first: it is parked with its reason and the valid messages still flow.
    bad = [b"this is not json", json.dumps({"dealer_id": "dealer-sz-001", "vin": 7}).encode()]
    await publish(stack.kafka_options(), dms_topic, bad + payloads, [b"dealer-sz-001"] * 2 + keys)
    parked = await read_topic(stack.kafka_options(), isolation.topic(DEAD_LETTER), 2)
    assert sorted(r.value for r in parked) == sorted(bad)
    assert {dict(r.headers)["dlq-service"] for r in parked} == {b"intake"}
    print("dead-lettered:", [(r.value[:20], dict(r.headers)["dlq-error-type"]) for r in parked])

    # The test's agent also reads the queues, tickets and reports: one token with those roles.
    staff = tokens.header("agent", "cr_manager", "service_manager", sub="agent-1", dealers=DEALERS)
    async with httpx.AsyncClient(timeout=10, headers=staff) as http:
        api = Api(fleet, http)

        # Three durable timers per work order: day-3 call, day-7 SMS survey, day-30 call (D6, D7).
        async def plans_stored():
            plans = {o["work_order_id"]: await api.planned(o) for o in orders}
            return plans if all(len(p) >= len(AFTER_SERVICE) for p in plans.values()) else None

        plans = await eventually(plans_stored, timeout=120)
        for wo, planned in plans.items():
            order, _ = by_wo[wo]
            settled = local(order["settled_at"])
            after_service = [c for c in planned if c["step"] in AFTER_SERVICE]
            assert len(after_service) == len(AFTER_SERVICE), wo  # one timer each, no doubles
            steps = {c["step"]: datetime.fromisoformat(c["due_at"]) for c in after_service}

            def day(n: int, at: datetime = settled, clock_time: str = "09:00") -> datetime:
                """D6/D7: day n after settlement at calling-hours start (09:00)."""
                return local(f"{(at.date() + timedelta(days=n)).isoformat()}T{clock_time}")

            assert steps == {
                "call_day3": day(2),  # D6: the customers settled two days before
                "sms_survey_day7": day(7),
                "call_day30": day(30),
            }, wo
            [call] = [c for c in after_service if c["step"] == "call_day3"]
            timely = day(4, clock_time="00:00")  # D6: to the end of day 3
            assert datetime.fromisoformat(call["timely_until"]) == timely, wo

        # Not before: the day-3 calls (settled 10:05–15:05 on Monday the 16th) fall due on
        # Wednesday the 18th at the start of calling hours.
        await api.assert_nothing_due_at(clock, local("2026-11-18T08:59:00"), "a day-3 call")

        # Day 3: six calls, one per work order.
        clock.set(local("2026-11-18T15:30:00"))
        day3 = await api.claim_all(expected=len(orders))
        assert sorted(t["work_order_id"] for t in day3) == sorted(by_wo)
        assert all(t["purposes"] == ["service_call_day3"] for t in day3)
        for task in day3:
            _, answer = by_wo[task["work_order_id"]]
            await api.submit(
                task,
                {
                    "outcome": "reached",
                    "scores": answer.scores,
                    "yes_no": {"fixed_first_time": True},
                    "comment": "谢谢",
                },
            )

        # Exactly one ticket per low-score result, with the expected grade (D18, D19).
        async def tickets_opened():
            found = [t for d in DEALERS for t in await api.complaints(d)]
            return found if len(found) >= sum(a.grade is not None for a in ANSWERS) else None

        tickets = await eventually(tickets_opened)
        assert sorted((t["work_order_id"], t["grade"]) for t in tickets) == sorted(
            (wo, a.grade) for wo, (_, a) in by_wo.items() if a.grade
        )

        # Day 7: the SMS surveys fall due, not before.
        await api.assert_nothing_due_at(clock, local("2026-11-23T08:59:00"), "a day-7 survey")
        clock.set(local("2026-11-23T15:30:00"))
        day7 = await api.claim_all(expected=len(orders))
        assert all(t["purposes"] == ["sms_survey_day7"] for t in day7)
        assert sorted(t["work_order_id"] for t in day7) == sorted(by_wo)
        for task in day7:
            await api.submit(
                task,
                {
                    "outcome": "reached",
                    "scores": SURVEY_ANSWER.scores,
                },
            )
        results = [(o, a) for o, a in zip(orders, ANSWERS, strict=True)]
        results += [(o, SURVEY_ANSWER) for o in orders]

        # Day 30: the second call, not before.
        await api.assert_nothing_due_at(clock, local("2026-12-16T08:59:00"), "a day-30 call")
        clock.set(local("2026-12-16T15:30:00"))
        day30 = await api.claim_all(expected=len(orders))
        assert all(t["purposes"] == ["service_call_day30"] for t in day30)
        assert sorted(t["work_order_id"] for t in day30) == sorted(by_wo)

        # The monthly report equals what the test computes from its own inputs (D23, D24).
        async def reports_complete():
            reports = {d: await api.report(d, "2026-11") for d in DEALERS}
            made = sum(r["contacts_made"] for r in reports.values())
            opened = sum(r["complaints_opened"]["total"] for r in reports.values())
            return reports if (made, opened) == (len(results), len(tickets)) else None

        reports = await eventually(reports_complete)
        for dealer in DEALERS:
            want = expected_report(dealer, results)
            got = reports[dealer]
            assert {k: got[k] for k in want} == want, dealer

        # Replay every DMS event and crash a service mid-flow: nothing changes.
        before = await api.counts(orders)
        await publish(stack.kafka_options(), dms_topic, payloads, keys)
        await asyncio.sleep(0.3)
        await asyncio.to_thread(fleet["intake"].kill9)
        await asyncio.to_thread(fleet["scheduler"].kill9)
        await asyncio.to_thread(fleet["intake"].start)
        await asyncio.to_thread(fleet["scheduler"].start)
        await asyncio.to_thread(fleet["intake"].wait_ready)
        await asyncio.to_thread(fleet["scheduler"].wait_ready)
        await asyncio.sleep(8)  # let the replayed events work their way through
        after = await api.counts(orders)
        print("counts before replay and kill -9:", json.dumps(before, ensure_ascii=False))
        print("counts after replay and kill -9: ", json.dumps(after, ensure_ascii=False))
        assert after == before
