"""The dispatcher's guarantees: one fire per timer across replicas, nothing lost on a crash."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aftersales_contracts import ContactDue
from aftersales_runtime.kafka import publish_event
from aftersales_runtime.packing import PACKED
from aftersales_scheduler import filing
from aftersales_scheduler.dispatcher import Dispatcher

pytestmark = pytest.mark.stack

SETTLED = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)  # as in conftest


def replica(service, owner: str, sink: list[ContactDue], fail_after_publish: bool = False):
    async def publish(event: ContactDue) -> None:
        sink.append(event)
        if fail_after_publish:
            raise RuntimeError("killed between publish and mark-sent")

    return Dispatcher(
        service.store.timeline,
        service.runtime.clock,
        publish,
        owner=owner,
        batch=10_000,
        lease=timedelta(seconds=60),
        logger=logging.getLogger("test"),
        contacts=service.store.contacts,
    )


async def plan(service, settings, work_order, count: int) -> None:
    for number in range(1, count + 1):
        order = work_order(number, customer_id=f"C-{number}")
        await publish_event(service.runtime.broker, settings, order)


async def test_two_replicas_fire_each_timer_exactly_once(
    service, settings, work_order, due_events, clock
):
    orders = 60
    await plan(service, settings, work_order, orders)
    clock.set(SETTLED + timedelta(days=31))
    fired_a: list[ContactDue] = []
    fired_b: list[ContactDue] = []
    a, b = replica(service, "a", fired_a), replica(service, "b", fired_b)

    for _ in range(3):
        await asyncio.gather(a.tick(), b.tick())

    counts = Counter(e.event_id for e in fired_a + fired_b)
    assert len(counts) == orders * 3
    assert max(counts.values()) == 1  # zero doubles


async def test_a_slot_is_stored_packed_and_its_buckets_stored_unpacked_before_fire_too(
    service, settings, work_order, due_events, clock
):
    orders = 4
    await plan(service, settings, work_order, orders)
    due = service.store.db[filing.DUE]
    buckets = await due.find({"_id": {"$regex": "^slot/.*/[0-9]+$"}}).to_list()
    assert len(buckets) >= 3
    assert all(set(bucket) == {"_id", PACKED} for bucket in buckets)  # FerretDB reads 2 values
    # Every other bucket as inserted before the buckets were packed: its entries an array.
    for bucket in buckets[::2]:
        before = {"_id": bucket["_id"], "items": filing.bucket_items(bucket)}
        await due.replace_one({"_id": bucket["_id"]}, before)
    clock.set(SETTLED + timedelta(days=31))
    fired: list[ContactDue] = []
    dispatcher = replica(service, "a", fired)

    for _ in range(3):
        await dispatcher.tick()

    counts = Counter(e.event_id for e in fired)
    assert len(counts) == orders * 3
    assert max(counts.values()) == 1


async def test_a_crash_between_publish_and_mark_republishes_the_same_event(
    service, settings, work_order, due_events, clock
):
    await plan(service, settings, work_order, 1)
    clock.set(SETTLED + timedelta(days=3))
    first: list[ContactDue] = []
    with pytest.raises(RuntimeError):
        await replica(service, "dies", first, fail_after_publish=True).tick()
    assert len(first) == 1

    # Another replica leaves a fresh claim alone: its owner may still be publishing.
    second: list[ContactDue] = []
    survivor = replica(service, "survivor", second)
    await survivor.tick()
    assert second == []

    clock.advance(timedelta(seconds=61))  # the lease ran out: the owner is gone
    await survivor.tick()
    await survivor.tick()
    assert [e.event_id for e in second] == [first[0].event_id]
