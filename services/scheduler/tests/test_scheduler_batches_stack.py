"""The scheduler's batch subscribers on the real Kafka and FerretDB (issue 19): a batch cut short
in the middle of its writes and delivered again to a restarted service ends in exactly the state
and the events of a clean run; a poison record inside a batch is parked while its neighbours are
planned."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from aftersales_contracts import ContactDue, WorkOrderClosed, topics
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.testing_topics import (
    committed,
    publish_records,
    read_topic,
    wait_committed,
    with_poison,
)
from aftersales_scheduler import filing
from aftersales_scheduler.app import build, load_policies
from aftersales_scheduler.dispatcher import Dispatcher
from aftersales_scheduler.domain.timer import is_settled
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.plan_work_orders import plan_work_orders
from aftersales_scheduler.planning.ports import Changes
from aftersales_scheduler.settings import SchedulerSettings
from aftersales_scheduler.store import TimerStore
from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect

from .conftest import DEALER, DIRECTORY, SETTLED

pytestmark = pytest.mark.stack

NOW = SETTLED + timedelta(minutes=5)
#: Late enough that every after-service contact of the inputs falls due (day 3, 7, 30).
LATER = SETTLED + timedelta(days=40)
STATE = (filing.TIMERS, filing.PEOPLE, filing.CONTACTS)


def inputs(work_order) -> list[WorkOrderClosed]:
    """One dealer's records meeting inside a batch: a customer's second visit in the same calling
    window (D13 merge, a visit cancelling reminders), a correction, a duplicate, a withdrawn
    consent (D4)."""
    return [
        work_order(1, customer_id="C-1"),
        work_order(2, customer_id="C-1", settled_at=SETTLED + timedelta(hours=1)),
        work_order(3, customer_id="C-2", vin="LGXCE4CB2N0123456"),
        work_order(1, customer_id="C-1", revision=2, name="张伟伟"),
        work_order(4, customer_id="C-3", vin="LFV3A23C9L3123456", contact_consent=False),
        work_order(1, customer_id="C-1"),  # the first revision again: a duplicate
    ]


@pytest.fixture
async def client(stack) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    yield mongo
    await mongo.close()


@pytest.fixture
def settings(service_settings) -> SchedulerSettings:
    return service_settings(
        SchedulerSettings, periodic_jobs=False, instance_id="batch-test", retry_backoff_seconds=0.01
    )


def kafka(settings: SchedulerSettings) -> dict[str, Any]:
    return kafka_client_options(settings)


async def publish(settings: SchedulerSettings, records: list[bytes]) -> None:
    source = settings.topic(topics.WORKORDER_CLOSED)
    await publish_records(kafka(settings), source, records, DEALER.encode())


async def work_orders_committed(settings: SchedulerSettings) -> int:
    group, source = settings.consumer_group("scheduler"), settings.topic(topics.WORKORDER_CLOSED)
    return await committed(kafka(settings), group, source)


async def wait_planned(settings: SchedulerSettings, count: int) -> None:
    group, source = settings.consumer_group("scheduler"), settings.topic(topics.WORKORDER_CLOSED)
    await wait_committed(kafka(settings), group, source, count)


async def dump(client: AsyncMongoClient[dict[str, Any]], database: str) -> dict[str, list[Any]]:
    """The state, as the service reads it (a timer changed by an update holds the change at the
    top level). A file's `settled` timers are left out, having been checked: which of them a
    file names depends on the batches that touched it since they settled, not on a decision."""
    db = client[database]
    state = {
        c: [filing.read_packed(d) for d in await db[c].find({}).sort("_id").to_list(None)]
        for c in STATE
    }
    timers = {t["_id"]: t for t in state[filing.TIMERS]}
    for person in state[filing.PEOPLE]:
        live = set(filing.live_timer_ids(person))
        for tid in set(person.get("timer_ids", [])) - live:
            assert is_settled(timers[tid], NOW), tid
        person.pop(filing.SETTLED, None)
    return state


async def fired(client: AsyncMongoClient[dict[str, Any]], database: str) -> list[str]:
    """Every ContactDue the time line holds up to LATER, as a dispatcher publishes them."""
    events: list[ContactDue] = []

    async def capture(event: ContactDue) -> None:
        events.append(event)

    store = TimerStore(client[database])
    dispatcher = Dispatcher(
        store.timeline,
        FixedClock(LATER),
        capture,
        "checker",
        batch=10_000,
        lease=timedelta(minutes=1),
        logger=logging.getLogger("checker"),
        contacts=store.contacts,
    )
    while (await dispatcher.tick()).fired:
        pass
    return sorted(e.model_dump_json() for e in events)


async def clean_run(client, database: str, events: list[WorkOrderClosed]) -> tuple[Any, Any]:
    """The reference: the same work orders planned one at a time on a database of their own."""
    ctx = PlanningContext(load_policies(DIRECTORY), DIRECTORY, FixedClock(NOW))
    store = TimerStore(client[database])
    for event in events:
        await plan_work_orders(ctx, store, [event])
    return await dump(client, database), await fired(client, database)


@pytest.mark.parametrize("crash_after", ["entries", "half the timers"])
async def test_a_half_applied_batch_redelivered_gives_exactly_a_clean_runs_state_and_events(
    crash_after, client, isolation, settings, work_order
):
    events = inputs(work_order)
    expected_state, expected_events = await clean_run(client, f"{isolation.database}_ref", events)
    await publish(settings, [e.model_dump_json().encode() for e in events])

    first = build(settings, FixedClock(NOW), DIRECTORY)
    applied = first.store.apply
    crashed = asyncio.Event()

    async def half_then_die(changes: Changes, now: Any) -> None:
        half = list(changes.new_timers.items())[: len(changes.new_timers) // 2]
        await applied(
            Changes(
                started=changes.started,
                contacts=changes.contacts,
                tombstones=changes.tombstones,
                entries=changes.entries,
                new_timers=dict(half) if crash_after == "half the timers" else {},
            ),
            now,
        )
        crashed.set()
        raise AutoReconnect("the database went away in the middle of the batch")

    first.store.apply = half_then_die  # type: ignore[method-assign]
    await first.runtime.start()
    await asyncio.wait_for(crashed.wait(), 60)
    await first.runtime.stop()  # the process dies with the batch uncommitted
    half_applied = await dump(client, isolation.database)
    assert half_applied != expected_state  # it really was cut short
    assert await work_orders_committed(settings) == 0

    second = build(settings, FixedClock(NOW), DIRECTORY)  # the restart: delivered again
    await second.runtime.start()
    try:
        await wait_planned(settings, len(events))
    finally:
        await second.runtime.stop()

    assert await dump(client, isolation.database) == expected_state
    assert await fired(client, isolation.database) == expected_events
    assert len(expected_events) >= 4  # day 3, 7 and 30 of C-1 (merged) and C-2 at least


async def test_a_poison_record_inside_a_batch_is_parked_while_its_neighbours_are_planned(
    client, isolation, settings, work_order
):
    good = [work_order(1, customer_id="C-1"), work_order(3, customer_id="C-2", vin="V" * 17)]
    first, last = (e.model_dump_json().encode() for e in good)
    records, poison = with_poison(first, last, DEALER)
    await publish(settings, records)  # all there before the consumer starts: one batch
    service = build(settings, FixedClock(NOW), DIRECTORY)
    batches: list[list[str]] = []
    applied = service.store.apply

    async def recording(changes: Changes, now: Any) -> None:
        batches.append(list(changes.started))
        await applied(changes, now)

    service.store.apply = recording  # type: ignore[method-assign]
    await service.runtime.start()
    try:
        await wait_planned(settings, len(records))
    finally:
        await service.runtime.stop()

    parked = await read_topic(kafka(settings), settings.topic(topics.DEAD_LETTER), 2)
    assert sorted(r.value for r in parked) == sorted(poison)
    assert batches == [[e.event_id for e in good]]  # the neighbours, together, once
    stored = await client[isolation.database][filing.TIMERS].find({}).to_list(None)
    timers = [filing.read_packed(t) for t in stored]
    assert {t["work_order_id"] for t in timers if t["kind"] == "after_service"} == {
        "WO-0001",
        "WO-0003",
    }
