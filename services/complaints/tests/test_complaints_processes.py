"""The complaints service as an OS process on the real Kafka and FerretDB, on a controlled clock:

- a kill -9 between storing a transition and publishing it loses nothing and publishes nothing
  twice (the counts are printed);
- the worked example (run with -s): one ticket of each grade walked up its ladder from
  2026-09-30 across the National Day week (a weekend inside it), the deadlines as the API
  returns them, the warnings, breaches and penalties published, and a reopened ticket.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aftersales_complaints.opening import ticket_id_for
from aftersales_contracts import ComplaintEvent, ContactPurpose, ContactResult, Scores, topics
from aftersales_runtime.clock import ControlledClock
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from deploy.local.services import REPO, ServiceProcess

pytestmark = pytest.mark.stack

SH = ZoneInfo("Asia/Shanghai")
PORT = 8004 + int(os.environ.get("AFTERSALES_TEST_PORT_OFFSET", "100")) + 50
HERE = Path(__file__).resolve().parent


def scores(**low: int) -> Scores:
    return Scores(**{item: low.get(item, 9) for item in Scores.ITEMS})


@pytest.fixture
def clock(tmp_path: Path) -> ControlledClock:
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(datetime(2026, 9, 30, 16, 0, tzinfo=SH))  # Wednesday, the eve of 国庆节
    return clock


@pytest.fixture
def process(stack, isolation, clock, tmp_path) -> Callable[..., ServiceProcess]:
    env = {
        **os.environ,
        **isolation.service_env(stack),
        "AFTERSALES_CLOCK": "controlled",
        "AFTERSALES_CLOCK_FILE": str(clock.path),
        "AFTERSALES_DEALERS_FILE": str(REPO / "deploy/local/dealers.json"),
        "COMPLAINTS_HTTP_PORT": str(PORT),
        "COMPLAINTS_MONGODB_DATABASE": isolation.database,
        "COMPLAINTS_SWEEP_INTERVAL_SECONDS": "0.2",
    }
    started: list[ServiceProcess] = []

    def make(**extra: str) -> ServiceProcess:
        service = ServiceProcess("complaints", PORT, {**env, **extra}, tmp_path / "complaints.log")
        started.append(service)
        return service

    yield make
    for service in started:
        service.stop()


class Topics:
    def __init__(self, stack: Any, isolation: Any) -> None:
        self.kafka = stack.kafka_options()
        self.results = isolation.topic(topics.CONTACT_RESULT)
        self.events = isolation.topic(topics.COMPLAINT_EVENT)
        self.seen: list[ComplaintEvent] = []
        self.consumer: AIOKafkaConsumer | None = None

    async def send(self, *results: ContactResult) -> None:
        producer = AIOKafkaProducer(**self.kafka)
        await producer.start()
        try:
            for r in results:
                await producer.send_and_wait(self.results, r.model_dump_json().encode(), r.key())
        finally:
            await producer.stop()

    async def drain(self, quiet: float = 1.5) -> list[ComplaintEvent]:
        """Everything published so far: reads until nothing new came for `quiet` seconds."""
        if self.consumer is None:
            self.consumer = AIOKafkaConsumer(
                self.events, **self.kafka, auto_offset_reset="earliest"
            )
            await self.consumer.start()
        new: list[ComplaintEvent] = []
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            batch = await self.consumer.getmany(timeout_ms=200)
            for records in batch.values():
                for record in records:
                    new.append(ComplaintEvent.model_validate_json(record.value))
                    last = time.monotonic()
        self.seen += new
        return new

    async def close(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()


@pytest.fixture
async def kafka(stack, isolation) -> AsyncIterator[Topics]:
    found = Topics(stack, isolation)
    yield found
    await found.close()


def _start_crashing(service: ServiceProcess) -> None:
    """The service, but through crash_before_publish.py (kills itself after its Nth commit)."""
    with service.log_path.open("ab") as log:
        service.process = subprocess.Popen(
            [sys.executable, str(HERE / "crash_before_publish.py")],
            env=service.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def test_a_kill_9_between_storing_and_publishing_loses_nothing_and_doubles_nothing(
    process, kafka, result, mongo_db
):
    answers = [result(n, scores=scores(overall=6)) for n in range(1, 21)]
    crashing = process(CRASH_AFTER_COMMITS="7")
    _start_crashing(crashing)
    crashing.wait_ready()
    # Six tickets opened and published; then the batch whose commit stores the 7th (and what
    # else came with it) is killed before its events are out.
    await kafka.send(*answers[:6])
    for _ in range(60):
        if len(kafka.seen) >= 6:
            break
        await kafka.drain(quiet=0.2)
    assert len(kafka.seen) == 6
    await kafka.send(*answers[6:])
    await asyncio.to_thread(crashing.process.wait, 60)
    killed = crashing.process.returncode
    stored_before = await mongo_db["tickets"].count_documents({})
    left = await mongo_db["pending_publications"].count_documents({})
    await kafka.drain()
    published_before = len(kafka.seen)

    healthy = process()
    healthy.start()
    healthy.wait_ready()
    for _ in range(60):
        tickets = await mongo_db["tickets"].count_documents({})
        if tickets == 20 and await mongo_db["pending_publications"].count_documents({}) == 0:
            break
        await asyncio.sleep(0.5)
    await kafka.drain()
    ids = Counter(e.event_id for e in kafka.seen)
    stored = sum([len(t["history"]) async for t in mongo_db["tickets"].find()])

    print(
        f"\nkill -9: exit {killed}; before the restart {stored_before} tickets stored, "
        f"{published_before} events published, {left} pending entries left; after: "
        f"{await mongo_db['tickets'].count_documents({})} tickets, {stored} events stored, "
        f"{sum(ids.values())} published, {len(ids)} distinct, "
        f"{sum(n - 1 for n in ids.values())} duplicates"
    )
    assert killed == -9
    assert stored_before >= 7
    assert published_before == 6  # the killed batch's tickets were stored, never published
    assert left == stored_before - 6  # each of them left its pending entry
    assert stored == 20
    assert sum(ids.values()) == 20
    assert len(ids) == 20
    assert {ticket_id_for(a.task_id) for a in answers} == {e.ticket_id for e in kafka.seen}


def _local(value: str | None) -> str:
    if value is None:
        return "-"
    return datetime.fromisoformat(value).astimezone(SH).strftime("%a %m-%d %H:%M")


def _line(event: ComplaintEvent, grades: dict[str, str]) -> str:
    when = event.occurred_at.astimezone(SH).strftime("%a %m-%d %H:%M")
    parts = [f"  {when}  {grades[event.ticket_id]}  {event.kind.value:<22}"]
    if event.step:
        parts.append(f"step={event.step.value}")
    if event.kind == "escalated":
        parts.append(f"{event.from_role} -> {event.assigned_role}")
    if event.kind == "penalty":
        parts.append(f"{event.person} ({event.role}) {event.points} points {event.month}")
    if event.due_at and event.kind in ("warning", "breached", "escalated", "opened", "reopened"):
        parts.append(f"due {_local(event.due_at.isoformat())}")
    return " ".join(parts)


async def test_worked_example_every_grade_up_its_ladder_across_national_day(
    process, kafka, result, clock, tokens
):
    service = process()
    service.start()
    service.wait_ready()
    answers = {
        "A": result(1, scores=scores(overall=7), comment="再不解决我就找律师, 还要投诉到315"),
        "B": result(2, scores=scores(overall=3)),
        "C": result(3, scores=scores(overall=6)),
        "D": result(4, scores=scores(overall=7)),
    }
    await kafka.send(*answers.values())
    await kafka.drain(quiet=3)
    grades = {ticket_id_for(r.task_id): g for g, r in answers.items()}
    manager = tokens.header("service_manager", "cr_manager", "gm", dealers=["dealer-sz-001"])
    async with httpx.AsyncClient(base_url=service.url, headers=manager, timeout=10) as http:

        async def show(grade: str) -> dict[str, Any]:
            body = (
                await http.get(f"/v1/complaints/{ticket_id_for(answers[grade].task_id)}")
            ).json()
            print(f"\n  ticket {grade} ({body['rule']}), held by {body['owner_role']}:")
            for d in body["deadlines"]:
                print(
                    f"    {d['step']:<10} warn {_local(d['warn_at'])}  due {_local(d['due_at'])}"
                    f"  {d['status']:<9} holder {d['holder']}  escalations {d['escalations']}"
                )
            return body

        print("\n== opened Wed 2026-09-30 16:00 (Asia/Shanghai); deadlines as the API returns them")
        for grade in "ABCD":
            await show(grade)
        moments = [
            "2026-10-01T12:00",  # 国庆节: only the calendar-day feedback runs
            "2026-10-01T17:00",  # 75 % of the feedback's time: warnings
            "2026-10-02T00:30",  # feedback missed at midnight: breach, penalty, one level up
            "2026-10-03T13:00",  # Saturday in the holiday week: the new holders are warned
            "2026-10-04T09:00",  # Sunday: missed again
            "2026-10-08T10:30",  # first working day after the holiday
            "2026-10-08T17:00",  # the reply's working day has passed
            "2026-10-10T18:00",  # 调休 Saturday, a working day
        ]
        for moment in moments:
            clock.set(datetime.fromisoformat(moment).replace(tzinfo=SH))
            await asyncio.sleep(1)
            new = await kafka.drain()
            print(f"\n== clock set to {moment}: {len(new)} events")
            for event in new:
                print(_line(event, grades))
        print("\n== at the end")
        bodies = {grade: await show(grade) for grade in "ABCD"}

        penalties = Counter()
        for event in kafka.seen:
            if event.kind == "penalty":
                penalties[(event.person, event.role, event.month)] += event.points or 0
        print("\n== penalty points per person and month (D21, D27)")
        for (person, role, month), points in sorted(penalties.items()):
            print(f"  {month}  {person:<36} {role:<20} {points}")

        d_ticket = f"/v1/complaints/{ticket_id_for(answers['D'].task_id)}"
        for action, body in (
            ("acknowledge", {}),
            ("review", {}),
            ("reply", {"text": "we replaced the part"}),
            ("resolve", {"root_cause_category": "parts", "action_taken": "replaced the pump"}),
        ):
            answer = await http.post(f"{d_ticket}/{action}", json=body)
            assert answer.status_code == 200, (action, answer.text)
        confirming = (await http.get(d_ticket)).json()
        unhappy = result(
            40,
            contact_id=confirming["confirmation_contact_id"],
            purposes=[ContactPurpose.COMPLAINT_CONFIRMATION],
            scores=scores(overall=5),
            comment="还是有异响",
            vin=answers["D"].vin,
        )
        await kafka.send(unhappy)
        await kafka.drain(quiet=3)
        print("\n== ticket D resolved, the confirmation call finds the customer unhappy:")
        reopened = await show("D")
        for entry in reopened["history"][-6:]:
            print(f"    {entry['kind']:<24} {entry['state']}")

    assert reopened["state"] == "reopened"
    assert reopened["round"] == 2
    assert reopened["owner_role"] == "service_advisor"  # the ladder restarts
    kinds = Counter(e.kind.value for e in kafka.seen)
    assert kinds["warning"] >= 4
    assert kinds["breached"] >= 4
    assert kinds["escalated"] >= 3
    assert bodies["D"]["owner_role"] == "gm"  # D climbed the whole ladder
    assert bodies["A"]["owner_role"] == "gm"
    assert penalties[("SA-007", "service_advisor", "2026-10")] >= 10
    assert any(role == "cr_manager" for (_, role, _) in penalties)  # A/B's joint feedback
    assert len({e.event_id for e in kafka.seen}) == len(kafka.seen)
