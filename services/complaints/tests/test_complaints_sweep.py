"""The deadline sweep reads the deadlines falling due, never the tickets stored (FerretDB scans
anything but an `_id` lookup): its reads are counted here while many tickets wait."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import timedelta

import aftersales_complaints.desk as desk_module
import aftersales_complaints.store as store_module
import pytest
from aftersales_complaints.domain.ticket import Action
from aftersales_complaints.domain.transitions import Command, decide
from aftersales_complaints.opening import ticket_id_for
from aftersales_contracts import Scores
from aftersales_runtime.kafka import publish_event
from faststream.kafka import TestKafkaBroker

pytestmark = pytest.mark.stack


NOTE = Command(Action.NOTE, "sup", text="called the customer back")


def scores(**low: int) -> Scores:
    return Scores(**{item: low.get(item, 9) for item in Scores.ITEMS})


class Counting:
    """Wraps a collection and counts its queries (`find`; the store reads by `_id` elsewhere)."""

    def __init__(self, collection) -> None:
        self.inner, self.find_calls = collection, 0

    def find(self, *args, **kwargs):
        self.find_calls += 1
        return self.inner.find(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


class CountingReads:
    """Counts the store's reads by `_id` (one `$in` each), per collection."""

    def __init__(self, monkeypatch) -> None:
        self.calls: Counter[str] = Counter()
        self.ids: dict[str, set[str]] = defaultdict(set)
        real = store_module.find_by_ids

        async def counted(db, collection, ids):
            ids = list(ids)
            self.calls[collection] += 1
            self.ids[collection].update(ids)
            return await real(db, collection, ids)

        monkeypatch.setattr(store_module, "find_by_ids", counted)


async def test_the_sweep_reads_one_bucket_per_hour_and_only_the_tickets_due(
    service, settings, result, clock, monkeypatch
):
    store, broker = service.store, service.runtime.broker
    async with TestKafkaBroker(broker):
        for n in range(1, 41):  # 40 tickets opened Monday 10:00 …
            await publish_event(broker, settings, result(n, scores=scores(overall=7)))
        await service.desk.sweep()  # sets the watermark
        clock.advance(timedelta(hours=1))
        await publish_event(broker, settings, result(99, scores=scores(overall=7)))  # … one at 11
        tickets = store.tickets = Counting(store.tickets)  # type: ignore[assignment]
        counting = CountingReads(monkeypatch)
        reads = counting.calls
        monkeypatch.setattr(desk_module, "SWEEP_BATCH", 16)

        assert await service.desk.sweep() == 0  # 11:00: nothing falls due
        quiet = (reads["tickets"], tickets.find_calls, reads["deadlines"])
        # 13:40: the GM notice's warning (75 % of 4 h 45 min = 13:33:45) of the 40 first
        # tickets; the 41st's comes at 14:33:45.
        clock.advance(timedelta(hours=2, minutes=40))
        due = await service.desk.sweep()

    print(
        f"\nsweep reads: quiet pass (ticket reads, ticket queries, bucket reads) {quiet}; "
        f"at 13:40 {due} tickets due, {reads['tickets']} ticket reads, "
        f"{tickets.find_calls} ticket queries, {reads['deadlines'] - quiet[2]} bucket reads"
    )
    # The hours 10:00 and 11:00 (each hour's shards in one read); no ticket read, no query.
    assert quiet == (0, 0, 2)
    assert due == 40
    assert tickets.find_calls == 0  # never a query over the tickets
    assert reads["tickets"] == 3  # one `$in` per SWEEP_BATCH (16) tickets due
    assert counting.ids["tickets"] == {ticket_id_for(result(n).task_id) for n in range(1, 41)}
    assert reads["deadlines"] - quiet[2] == 3  # 11:00, 12:00, 13:00
    warned = await store.transitions.count_documents({"_id": {"$regex": "/2$"}})
    assert warned == 40  # each of them warned, in batches


async def test_tickets_waiting_for_one_moment_are_spread_over_the_hours_documents(
    service, settings, result, clock
):
    store, broker = service.store, service.runtime.broker
    async with TestKafkaBroker(broker):
        for n in range(1, 65):  # 64 tickets opened at one moment: their moments share an hour
            await publish_event(broker, settings, result(n, scores=scores(overall=7)))
        await service.desk.sweep()  # sets the watermark
        buckets = [doc async for doc in store.deadlines.find({})]
        sizes = sorted(len(doc["entries"]) for doc in buckets)
        print(f"\n64 tickets' moments over {len(buckets)} documents: {sizes}")
        # Each ticket in its hour's shard, so no document holds the hour's every ticket (its
        # `$addToSet` would rewrite them all): on average 2 a shard.
        assert len(buckets) > store_module.DEADLINE_SHARDS // 2
        assert max(sizes) <= 8
        assert len({e.split("|")[1] for d in buckets for e in d["entries"]}) == 64

        # An hour filed by an earlier version (one document, no shards) is read as well.
        first = buckets[0]
        hour_id = first["_id"].rsplit("/", 1)[0]
        await store.deadlines.delete_one({"_id": first["_id"]})
        await store.deadlines.insert_one({"_id": hour_id, "entries": first["entries"]})
        clock.advance(timedelta(hours=8))
        due = await service.desk.sweep()
        assert due == 64
        assert await store.deadlines.find_one({"_id": hour_id}) is None  # swept: dropped


async def test_a_ticket_changed_by_another_writer_while_the_sweep_decides_is_decided_again(
    service, settings, result, clock, published
):
    desk, broker = service.desk, service.runtime.broker
    for n in (1, 2):
        await publish_event(broker, settings, result(n, scores=scores(overall=7)))
    await desk.sweep()  # sets the watermark
    raced = ticket_id_for(result(1).task_id)
    read = desk.tickets

    async def read_then_noted_elsewhere(ticket_ids):
        found = await read(ticket_ids)
        if raced in found:  # an HTTP action commits the next version before the sweep
            desk.tickets = read  # type: ignore[method-assign]
            rules = desk.rules_for(found[raced].dealer_id)
            await desk.change(raced, lambda t, now: decide(t, NOTE, now, rules))
        return found

    desk.tickets = read_then_noted_elsewhere  # type: ignore[method-assign]
    clock.advance(timedelta(hours=3, minutes=40))  # both tickets' first warning is due
    assert await desk.sweep() == 2

    # The note stands, and the sweep decided again on top of it: its warning, decided on the
    # ticket before the note, lost the race for version 2 and went out as version 3, once.
    raced_ticket = await service.store.ticket(raced)
    assert [h["kind"] for h in raced_ticket.history] == ["opened", "noted", "warning"]
    assert [e.kind for e in published if e.ticket_id == raced] == ["opened", "noted", "warning"]
    other = ticket_id_for(result(2).task_id)
    assert [e.kind for e in published if e.ticket_id == other] == ["opened", "warning"]
    assert await service.store.db["pending_publications"].count_documents({}) == 0


async def test_a_sweep_that_meets_a_version_being_published_here_publishes_after_it(
    service, settings, result, clock, published
):
    # An HTTP action stored version 2 of a ticket and is publishing it when the sweep reads the
    # ticket: the sweep's warning (version 3) must not go out before the note.
    desk, broker = service.desk, service.runtime.broker
    raced = ticket_id_for(result(1).task_id)
    await publish_event(broker, settings, result(1, scores=scores(overall=7)))
    await desk.sweep()  # sets the watermark
    flush, gate, at_gate = desk.outbox.flush, asyncio.Event(), asyncio.Event()

    async def slow_for_the_note(pending):
        if any(e.kind == "noted" for p in pending for e in p.events):
            at_gate.set()
            await gate.wait()
        await flush(pending)

    desk.outbox.flush = slow_for_the_note  # type: ignore[method-assign]
    rules = desk.rules_for("dealer-sz-001")
    note = asyncio.create_task(desk.change(raced, lambda t, now: decide(t, NOTE, now, rules)))
    await at_gate.wait()
    clock.advance(timedelta(hours=3, minutes=40))  # the ticket's first warning is due
    sweep = asyncio.create_task(desk.sweep())
    await asyncio.sleep(0.5)  # time enough for the sweep to publish, were it not to wait
    gate.set()
    await asyncio.gather(note, sweep)

    assert [(e.kind, e.ticket_id) for e in published] == [
        ("opened", raced),
        ("noted", raced),
        ("warning", raced),
    ]
    assert await service.store.db["pending_publications"].count_documents({}) == 0


async def test_a_ticket_the_sweep_cannot_decide_on_is_set_aside_while_the_others_go_on(
    service, settings, result, clock, published, monkeypatch, caplog
):
    desk, broker = service.desk, service.runtime.broker
    for n in (1, 2):
        await publish_event(broker, settings, result(n, scores=scores(overall=7)))
    await desk.sweep()  # sets the watermark
    broken, other = (ticket_id_for(result(n).task_id) for n in (1, 2))
    real_tick = desk_module.tick

    def failing_for_one(ticket, now, rules):
        if ticket.ticket_id == broken:
            raise ValueError("the dealer's ladder names no one for this role")
        return real_tick(ticket, now, rules)

    monkeypatch.setattr(desk_module, "tick", failing_for_one)
    clock.advance(timedelta(hours=3, minutes=40))  # both tickets' first warning is due
    assert await desk.sweep() == 2

    def kinds(ticket_id):
        return [e.kind for e in published if e.ticket_id == ticket_id]

    assert kinds(other) == ["opened", "warning"]  # the batch went on
    assert kinds(broken) == ["opened"]
    assert await service.store.watermark() == clock.now()  # nothing holds the next passes
    failed = [r for r in caplog.records if r.getMessage().startswith("deadline check failed")]
    assert [(r.ticket_id, r.error_type) for r in failed] == [(broken, "ValueError")]

    monkeypatch.setattr(desk_module, "tick", real_tick)  # mended (a fix deployed)
    clock.advance(desk_module.RETRY_FAILED_CHECK)
    await desk.sweep()
    assert kinds(broken) == ["opened", "warning"]  # looked at again, not forgotten
