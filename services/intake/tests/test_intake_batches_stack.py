"""Batches on the real Kafka and FerretDB (issue 19): a batch gives what one-by-one gives, and a
half-applied batch (stored but not published; published but not marked) redelivered to a
restarted service ends in exactly the same state and events, with the same event ids."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from aftersales_contracts import Event, topics
from aftersales_intake.app import build
from aftersales_intake.pipeline import Intake
from aftersales_intake.settings import IntakeSettings
from aftersales_intake.store import IntakeStore, read_file
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.outbox import Outbox
from aftersales_runtime.testing_topics import publish_records, read_topic
from aiokafka.errors import KafkaConnectionError
from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect

from .conftest import NOW, REPO, workorder

pytestmark = pytest.mark.stack

COLLECTIONS = ("work_orders", "vehicles", "plates", "phones", "rejections", "published")
LATER = {"opened_at": "2026-11-28 09:00:00", "settled_at": "2026-11-28 10:00:00"}


def inputs() -> list[bytes]:
    """One dealer's stream in which records meet inside a batch: the same work order corrected
    and re-sent, a second visit of the same VIN, a refusal, input that is not JSON."""
    records: list[Any] = [
        workorder(),
        workorder(work_order_id="WO-2", mileage_km=14000, customer__phone="13912345678", **LATER),
        workorder(total_amount=620.0, event_id="WO-1-corrected"),
        workorder(work_order_id="WO-3", vin="LGXCE4CB2N0123456", plate="粤B54321"),
        workorder(),  # revision 1 again: a duplicate
        workorder(work_order_id="WO-4", total_amount=-1.0),  # refused (a data rule)
        b"not json {",  # refused and dead-lettered (the contract)
        workorder(work_order_id="WO-5", vin="LGXCE4CB2N0123456", **LATER),
    ]
    return [
        r if isinstance(r, bytes) else json.dumps(r, ensure_ascii=False).encode() for r in records
    ]


class Captured:
    def __init__(self) -> None:
        self.events: list[Event] = []

    async def publish_all(self, events: Any) -> None:
        self.events.extend(events)


async def dump(client: AsyncMongoClient[dict[str, Any]], database: str) -> dict[str, list[Any]]:
    db = client[database]
    state = {
        c: sorted([d async for d in db[c].find({})], key=lambda d: d["_id"]) for c in COLLECTIONS
    }
    state["vehicles"] = [read_file(v) for v in state["vehicles"]]  # their lists unpacked
    return state


def reference_intake(
    client: AsyncMongoClient[dict[str, Any]], database: str
) -> tuple[Intake, Captured]:
    """The pipeline on its own database, its events captured instead of published."""
    captured = Captured()
    intake = Intake(
        IntakeStore(client[database]),
        Outbox(client[database], captured.publish_all),
        DealerDirectory.load(REPO / "deploy/local/dealers.json"),
        FixedClock(NOW),
        logging.getLogger("intake-reference"),
    )
    return intake, captured


@pytest.fixture
async def client(stack):
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    yield mongo
    await mongo.close()


async def one_by_one(client, database: str) -> tuple[dict[str, list[Any]], list[Event]]:
    intake, captured = reference_intake(client, database)
    for raw in inputs():
        await intake.take_in(raw, "workorder", "kafka")
    return await dump(client, database), captured.events


async def test_a_batch_gives_what_one_by_one_gives(client, isolation):
    expected_state, expected_events = await one_by_one(client, f"{isolation.database}_one")
    intake, captured = reference_intake(client, f"{isolation.database}_batch")

    outcomes = await intake.take_in_many(inputs(), "workorder", "kafka")

    assert [o.status for o in outcomes] == [
        "accepted", "accepted", "corrected", "accepted", "duplicate", "rejected", "rejected",
        "accepted",
    ]  # fmt: skip
    assert await dump(client, f"{isolation.database}_batch") == expected_state
    assert by_topic(captured.events) == by_topic(expected_events)
    [vehicle] = [v for v in expected_state["vehicles"] if v["vin"] == "LSVAU218XN2183294"]
    assert [h["record_id"] for h in vehicle["history"]] == ["WO-1", "WO-2"]
    assert vehicle["history"][0]["revision"] == 2


def by_topic(events: list[Event]) -> dict[str, list[str]]:
    """Events in publication order per topic (order across topics means nothing)."""
    found: dict[str, list[str]] = {}
    for event in events:
        found.setdefault(event.TOPIC, []).append(event.model_dump_json())
    return found


@pytest.mark.parametrize("crash", ["stored, not published", "published, not marked"])
async def test_a_half_applied_batch_redelivered_ends_exactly_as_a_clean_run(
    crash, client, isolation, service_settings
):
    expected_state, expected_events = await one_by_one(client, f"{isolation.database}_one")
    settings = service_settings(IntakeSettings, retry_backoff_seconds=0.01)
    source = settings.topic(topics.DMS_WORKORDER_CLOSED)
    await publish_records(kafka_client_options(settings), source, inputs(), b"dealer-sz-001")

    first = build(settings, FixedClock(NOW))
    crashed = asyncio.Event()
    outbox = first.intake.outbox

    async def flush_then_die(pending: Any) -> None:
        if crash == "published, not marked":
            await outbox.publish_all([e for p in pending for e in p.events])
            crashed.set()
            raise AutoReconnect("the database went away before the mark")
        crashed.set()
        raise KafkaConnectionError("Kafka went away before the publish")

    outbox.flush = flush_then_die  # type: ignore[method-assign]
    await first.runtime.start()
    await asyncio.wait_for(crashed.wait(), 30)
    await first.runtime.stop()  # the process dies with the batch uncommitted
    half_applied = await dump(client, isolation.database)
    assert len(half_applied["work_orders"]) == 4
    assert half_applied["published"] == []  # nothing marked

    second = build(settings, FixedClock(NOW))  # the restart: the batch is redelivered
    await second.runtime.start()
    expected = [e.encode() for e in by_topic(expected_events)[topics.WORKORDER_CLOSED]]
    published = await read_topic(
        kafka_client_options(settings),
        settings.topic(topics.WORKORDER_CLOSED),
        len(expected) * (2 if crash == "published, not marked" else 1),
    )
    await second.runtime.stop()

    assert await dump(client, isolation.database) == expected_state
    first_copies = {}
    for record in published:
        event_id = json.loads(record.value)["event_id"]
        assert first_copies.setdefault(event_id, record.value) == record.value  # same bytes again
    assert list(first_copies.values()) == expected
    dead_letters = settings.topic(topics.DEAD_LETTER)
    parked = await read_topic(kafka_client_options(settings), dead_letters, 1)
    assert [r.value for r in parked] == [b"not json {"]


async def test_a_work_order_resent_under_another_vin_is_its_next_revision(client, isolation):
    intake, captured = reference_intake(client, isolation.database)
    first = json.dumps(workorder(), ensure_ascii=False).encode()
    moved = json.dumps(workorder(vin="LGXCE4CB2N0123456"), ensure_ascii=False).encode()

    await intake.take_in(first, "workorder", "kafka")
    outcome = await intake.take_in(moved, "workorder", "kafka")

    # the new VIN's file does not list WO-1: its insert collides and the pass reads it
    assert (outcome.status, outcome.revision) == ("corrected", 2)
    assert [e.revision for e in captured.events] == [1, 2]  # type: ignore[attr-defined]
    state = await dump(client, isolation.database)
    assert [d["revision"] for d in state["work_orders"]] == [2]
    moved_to = next(v for v in state["vehicles"] if v["vin"] == "LGXCE4CB2N0123456")
    assert [h["revision"] for h in moved_to["history"]] == [2]


async def test_files_stored_without_their_records_end_as_a_clean_run(client, isolation):
    expected_state, expected_events = await one_by_one(client, f"{isolation.database}_one")
    intake, captured = reference_intake(client, isolation.database)
    for raw in inputs():
        await intake.take_in(raw, "workorder", "kafka")
    db = client[isolation.database]
    # a crash after the files, before the records and marks (and the commit): the files list
    # records that are not stored, which the pass then reads and does not find
    await db.work_orders.delete_many({})
    await db.rejections.delete_many({})
    await db.published.delete_many({})
    captured.events.clear()

    for raw in inputs():  # the redelivery
        await intake.take_in(raw, "workorder", "kafka")

    assert await dump(client, isolation.database) == expected_state
    assert by_topic(captured.events) == by_topic(expected_events)
