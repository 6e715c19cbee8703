"""The migration from one collection per due day to the bounded layout, on the real FerretDB."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from aftersales_contracts import ContactDue
from aftersales_runtime.clock import FixedClock
from aftersales_scheduler import filing
from aftersales_scheduler.dispatcher import Dispatcher, contact_due_event
from aftersales_scheduler.migrate import migrate
from aftersales_scheduler.store import TimerStore
from aftersales_scheduler.timeline import TimeLine

from benchmarks.history import synthetic_contact, synthetic_timer

pytestmark = pytest.mark.stack

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DEALER = "dealer-sz-001"


def legacy_timer(number: int, due_at: datetime) -> dict:
    """A timer as stored before the slimming: its own copy of the contact data."""
    timer = synthetic_timer(DEALER, number, due_at)
    contact = synthetic_contact(DEALER, number)
    del timer["contact_id"]
    return {**timer, **{f: contact[f] for f in filing.CONTACT_FIELDS}}


def old_entry(number: int, due_at: datetime) -> dict:
    """An entry as the day collections held it (with its `entry/` id and home day)."""
    entry = filing.entry_for(legacy_timer(number, due_at))
    return {**entry, "_id": f"entry/{entry['key']}", "home": due_at.date().isoformat()}


async def test_the_day_collections_move_into_buckets_and_are_dropped(mongo_db):
    yesterday, today, ahead = (
        NOW - timedelta(days=1),
        NOW - timedelta(hours=1),
        NOW + timedelta(days=400),
    )
    await mongo_db["marks"].insert_one({"_id": "first_day", "day": "2026-11-20"})
    await mongo_db["marks"].insert_one({"_id": "watermark", "day": "2026-11-22"})
    await mongo_db["closing_days"].insert_one({"_id": "2026-11-22"})
    sent = old_entry(1, yesterday)
    await mongo_db["due_20261122"].insert_many(
        [
            sent,
            {"_id": f"claim/{sent['timer_id']}/1", "owner": "old", "claimed_at": yesterday},
            {"_id": f"sent/{sent['timer_id']}/1", "event_id": "e1", "sent_at": yesterday},
        ]
    )
    cancelled, due = old_entry(2, today), old_entry(3, today)
    await mongo_db["due_20261123"].insert_many(
        [cancelled, due, {"_id": f"cancel/{cancelled['key']}"}]
    )
    await mongo_db[f"due_{ahead:%Y%m%d}"].insert_one(old_entry(4, ahead))
    lines: list[str] = []

    first = await migrate(mongo_db, say=lines.append)
    again = await migrate(mongo_db, say=lines.append)  # idempotent: nothing left to move

    assert (first.collections, first.entries, first.markers) == (3, 4, 3)
    assert again.collections == 0
    names = set(await mongo_db.list_collection_names())
    assert not [n for n in names if n.startswith("due_") or n == "closing_days"]
    assert names <= set(filing.COLLECTIONS)
    assert lines[-1].startswith("migrate: moved 0 day collections")
    fired: list[ContactDue] = []

    async def publish(event: ContactDue) -> None:
        fired.append(event)

    dispatcher = Dispatcher(
        TimeLine(mongo_db),
        FixedClock(NOW),
        publish,
        "new",
        100,
        timedelta(seconds=30),
        logging.getLogger("test"),
        TimerStore(mongo_db).contacts,
    )
    await dispatcher.tick()
    await dispatcher.tick()
    # Sent before the move: not again; tombstoned: never; due: once; 400 days ahead: not yet.
    assert [e.contact_id for e in fired] == [due["timer_id"]]


async def test_timers_with_their_own_contact_data_are_slimmed_and_fire_the_same(mongo_db):
    due = NOW - timedelta(hours=1)
    legacy = [legacy_timer(n, due) for n in range(1, 4)]
    # A delivery's consultant is contact data; the timeliness window stays the timer's (D6/D8).
    legacy[1] |= {"sales_consultant": {"id": "SC-1", "name": "李娜"}, "timely_until": NOW}
    # A timer of work order 1 that a D30 correction refreshed: its copy differs from its
    # sibling's, so it must not share its contact data.
    fixed = legacy_timer(1, due)
    fixed |= {
        "_id": fixed["_id"].replace("call_day3", "call_day30"),
        "file_revision": 2,
        "customer": {**fixed["customer"], "phone": "+8613911112222"},
    }
    legacy.append(fixed)
    expected = {t["_id"]: filing.entry_for(t) for t in legacy}  # what they fired before
    await mongo_db[filing.TIMERS].insert_many(legacy)
    lines: list[str] = []

    report = await migrate(mongo_db, say=lines.append)
    again = await migrate(mongo_db, say=lines.append)

    assert (report.slimmed, again.slimmed) == (4, 0)
    timers = await mongo_db[filing.TIMERS].find({}).sort("_id").to_list(None)
    assert all("customer" not in t and "sales_consultant" not in t for t in timers)
    named = {t["_id"]: t["contact_id"] for t in timers}
    assert named == {
        **{t["_id"]: synthetic_timer(DEALER, n, due)["contact_id"] for n, t in
           zip(range(1, 4), legacy, strict=False)},
        fixed["_id"]: f"{synthetic_timer(DEALER, 1, due)['contact_id']}/file-2",
    }  # fmt: skip
    store = TimerStore(mongo_db)
    contacts = await store.contacts([t["contact_id"] for t in timers])
    slim = {t["_id"]: filing.entry_for(t) for t in timers}
    fired = {tid: contact_due_event(e, contacts) for tid, e in slim.items()}
    assert fired == {tid: contact_due_event(e, {}) for tid, e in expected.items()}
    assert fired[legacy[1]["_id"]].sales_consultant is not None
    assert fired[legacy[1]["_id"]].timely_until == NOW
    assert fired[fixed["_id"]].customer.phone == "+8613911112222"


async def test_a_bulk_load_in_several_calls_leaves_each_hint_where_the_next_writer_appends(
    mongo_db,
):
    """Loaders (`TimeLine.load`, as the migration and the history loaders) leave a slot's hint
    behind when a later call appends to it; `finish_load` moves it once, so a planner filing
    into that slot inserts at the next free bucket at the first try."""
    due = NOW + timedelta(days=3)
    slot = filing.slot_sequence(filing.slot_of(due))
    timeline = TimeLine(mongo_db)
    first = [filing.entry_for(synthetic_timer(DEALER, n, due)) for n in range(250)]
    await timeline.load(first)  # two buckets, its hint written: 2
    await timeline.load([filing.entry_for(synthetic_timer(DEALER, 250, due))])  # bucket 2

    assert await timeline.hints([slot]) == {slot: 2}
    await timeline.finish_load()
    assert await timeline.hints([slot]) == {slot: 3}

    await timeline.file([filing.entry_for(synthetic_timer(DEALER, 251, due))], NOW)
    buckets, cursor = await timeline.read(slot, 0)
    assert [len(b) for b in buckets] == [200, 50, 1, 1]
    assert cursor == 4
