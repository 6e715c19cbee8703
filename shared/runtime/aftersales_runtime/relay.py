"""Events accepted over HTTP get out even when the bus was down when they were accepted.

A consumer that stored an event and crashed before publishing gets its input again (it commits
only after publishing) and re-publishes (see `outbox.py`). An HTTP request has no such second
delivery: the caller may never come back. So a route that accepts something writes a pending
entry (its key and the time) *before* the document that holds the event, and removes it once the
event is published. A relay pass, run in the background, hands every entry older than a grace
period to the service's `republish(key)`: it publishes the stored event (same id: consumers are
idempotent) and returns True, or returns False while nothing is stored under the key yet. An
entry that found nothing stored after `abandon_after` is removed: the request failed before it
stored anything, and its caller got an error, not an acceptance.

The collection holds only what is in flight, so reading all of it is cheap.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from aftersales_runtime.clock import Clock
from aftersales_runtime.grouped import Grouped
from aftersales_runtime.outages import outage_of

Republish = Callable[[str], Awaitable[bool]]
COLLECTION = "pending_publications"


class PendingPublications:
    def __init__(
        self,
        db: AsyncDatabase[dict[str, Any]],
        clock: Clock,
        grace: timedelta = timedelta(seconds=15),
        abandon_after: timedelta = timedelta(minutes=10),
    ) -> None:
        self.entries = db[COLLECTION]
        self._writes = Grouped(self.entries)  # concurrent requests' entries go together
        self.clock = clock
        self.grace = grace
        self.abandon_after = abandon_after

    async def add(self, key: str) -> bool:
        """Before storing what `key` names: from now on the relay sees to its publication.
        False when the entry was there already (another request's, still under way or died
        before publishing): a caller that then finds `key` stored by someone else can tell that
        one's publication is not done, where True says it is (its entry had gone). An entry
        found is this request's too from now on: its time starts again, so the relay does not
        abandon it (left by a request that failed long ago) while this one stores."""
        if await self._writes.insert_once({"_id": key, "at": self.clock.now()}):
            return True
        await self._writes.update(key, {"$set": {"at": self.clock.now()}})
        return False

    async def add_all(self, keys: Sequence[str]) -> list[bool]:
        """`add` of each key, all at once: their inserts go grouped (`Grouped`: a few commands
        with the other requests' of the moment, not one per key), and the keys found there
        already are updated the same way."""
        return list(await asyncio.gather(*(self.add(key) for key in keys)))

    async def remove(self, key: str) -> None:
        """After its events are published (acknowledged by Kafka)."""
        await self._writes.delete(key)

    async def remove_all(self, keys: Sequence[str]) -> None:
        """`remove` of each key, all at once: their deletes go grouped (a few commands, not
        one per key)."""
        await asyncio.gather(*(self.remove(key) for key in keys))

    async def holds(self, key: str) -> bool:
        """Whether `key`'s entry is still here: what it names may not be published yet (an
        entry goes only once its events are out, or abandoned with nothing stored)."""
        return await self._writes.find(key) is not None

    async def relay_once(self, republish: Republish) -> int:
        """One pass: entries older than the grace period are published or, abandoned, removed.
        Returns how many were published."""
        now = self.clock.now()
        published = 0
        async for entry in self.entries.find({}):
            age = now - _aware(entry["at"], now)
            if age < self.grace:
                continue  # its request may still be under way
            if await republish(entry["_id"]):
                published += 1
                await self.remove(entry["_id"])
            elif age > self.abandon_after:
                await self.remove(entry["_id"])
        return published

    async def run_forever(
        self, republish: Republish, logger: logging.Logger, interval: float = 5.0
    ) -> None:
        while True:
            try:
                if count := await self.relay_once(republish):
                    logger.info("pending publications relayed", extra={"published": count})
            except Exception as error:  # the relay outlives outages and bugs: it tries again
                logger.warning(
                    "relay pass failed",
                    extra={"error_type": type(error).__name__, "outage": outage_of(error)},
                )
            await asyncio.sleep(interval)


def _aware(at: datetime, now: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=now.tzinfo)
