"""Accepted over HTTP, published even if the bus was down then: the relay of pending entries."""

from datetime import UTC, datetime, timedelta

import pytest
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.relay import PendingPublications

pytestmark = pytest.mark.stack

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


async def test_the_relay_publishes_what_was_stored_and_drops_what_never_was(mongo_db):
    clock = FixedClock(T0)
    pending = PendingPublications(mongo_db, clock, grace=timedelta(seconds=15))
    stored = {"task-1"}  # task-2's request failed before it stored anything
    published: list[str] = []

    async def republish(key: str) -> bool:
        if key not in stored:
            return False
        published.append(key)
        return True

    await pending.add("task-1")
    await pending.add("task-2")
    await pending.add("task-1")  # a retried request: still one entry
    assert await pending.relay_once(republish) == 0  # within the grace: requests under way
    clock.advance(timedelta(seconds=20))
    assert await pending.relay_once(republish) == 1
    assert published == ["task-1"]
    assert [e["_id"] async for e in mongo_db[pending.entries.name].find({})] == ["task-2"]
    clock.advance(timedelta(minutes=11))  # task-2 abandoned: its caller got an error
    assert await pending.relay_once(republish) == 0
    assert [e async for e in mongo_db[pending.entries.name].find({})] == []
    assert published == ["task-1"]


async def test_an_entry_removed_after_publishing_is_not_relayed(mongo_db):
    clock = FixedClock(T0)
    pending = PendingPublications(mongo_db, clock)
    await pending.add("task-9")
    await pending.remove("task-9")  # the request published it itself
    clock.advance(timedelta(hours=1))

    async def republish(key: str) -> bool:
        raise AssertionError(f"{key} relayed twice")

    assert await pending.relay_once(republish) == 0


async def test_an_entry_added_again_is_not_abandoned_under_the_request_that_added_it(mongo_db):
    """A request failed before storing anything and left its entry; the caller retries eleven
    minutes later. The retry finds the entry (False: not its own), and from then on the entry
    is the retry's: a relay pass before it stores does not abandon it."""
    clock = FixedClock(T0)
    pending = PendingPublications(mongo_db, clock, abandon_after=timedelta(minutes=10))
    assert await pending.add("task-7") is True
    clock.advance(timedelta(minutes=11))

    async def nothing_stored_yet(key: str) -> bool:
        return False

    assert await pending.add("task-7") is False
    assert await pending.relay_once(nothing_stored_yet) == 0
    assert await pending.holds("task-7")
    clock.advance(timedelta(minutes=11))  # this one failed too: now it is abandoned
    assert await pending.relay_once(nothing_stored_yet) == 0
    assert not await pending.holds("task-7")
