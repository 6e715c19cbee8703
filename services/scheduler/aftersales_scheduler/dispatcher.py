"""The dispatcher: fires due timers, once, never early, and never loses one.

Each tick walks the days from the watermark (first day not yet settled) to today. A day whose
end has passed is first marked `closing` (an entry filed late then goes to an open day, see
`TimerStore.file_entry`) and is settled once each of its entries fired or was cancelled; the
watermark then moves past it. A day costs one scan of its own collection: the cost of a tick
follows the timers due on the days it looks at, never the timers pending on later days.

Firing one entry (never early: `due_at <= clock.now()`): insert the claim
`claim/{timer}/{attempt}` in the entry's home day (two replicas: one insert wins), publish
`ContactDue` with a deterministic event_id, insert `sent/{timer}/{attempt}`. A claim whose owner
died before `sent` is taken over after the lease and published again with the same event_id
(downstream is idempotent): a crash between publish and mark never loses a contact.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aftersales_contracts.envelope import deterministic_id
from aftersales_contracts.events import ContactDue
from aftersales_runtime.clock import Clock

from aftersales_scheduler.domain.slots import day_end, day_start
from aftersales_scheduler.store import Doc, TimerStore, lease_expired

Publish = Callable[[ContactDue], Awaitable[None]]


@dataclass
class TickReport:
    fired: int = 0
    exhausted: bool = False  # the batch limit stopped the tick: run the next one at once


def contact_due_event(entry: Doc) -> ContactDue:
    timer_id, attempt = entry["timer_id"], entry["attempt"]
    payload = entry["payload"]
    return ContactDue(
        event_id=deterministic_id("contact.due", timer_id, str(attempt)),
        occurred_at=entry["due_at"],
        contact_id=timer_id,
        due_at=entry["due_at"],
        attempt=attempt,
        **payload,
    )


class _Day:
    """One scan of a day's collection, indexed by marker."""

    def __init__(self, docs: list[Doc], start: int = 0) -> None:
        self.ids = {d["_id"] for d in docs}
        entries = sorted(
            (d for d in docs if d["_id"].startswith("entry/")), key=lambda d: d["due_at"]
        )
        # Replicas start at different points of the day, so they share the work instead of
        # racing for the same claims in the same order.
        cut = start % len(entries) if entries else 0
        self.entries = entries[cut:] + entries[:cut]


class Dispatcher:
    def __init__(
        self,
        store: TimerStore,
        clock: Clock,
        publish: Publish,
        owner: str,
        batch: int,
        lease: timedelta,
        logger: logging.Logger,
    ) -> None:
        self.store = store
        self.clock = clock
        self.publish = publish
        self.owner = owner
        self.batch = batch
        self.lease = lease
        self.logger = logger
        self._start = zlib.crc32(owner.encode())

    async def run_forever(self, interval: float) -> None:
        while True:
            try:
                report = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database or Kafka is away: nothing was marked, the next tick retries.
                self.logger.exception("dispatch tick failed")
                report = TickReport()
            if not report.exhausted:
                await asyncio.sleep(interval)

    async def tick(self) -> TickReport:
        report = TickReport()
        first_day = await self.store.first_day()
        if first_day is None:
            return report  # nothing was ever filed
        now = self.clock.now()
        watermark = max(first_day, await self.store.watermark() or first_day)
        day, settled_until, all_settled = watermark, watermark, True
        while day_start(day) <= now and not report.exhausted:
            past = day_end(day) <= now
            if past:
                await self.store.start_closing(day)
            settled = await self._drain(day, now, report)
            if past and settled and all_settled:
                settled_until = day + timedelta(days=1)
            else:
                all_settled = False
            day += timedelta(days=1)
        if settled_until > watermark:
            await self.store.set_watermark(settled_until)
        return report

    async def _drain(self, day: date, now: datetime, report: TickReport) -> bool:
        scanned = _Day(await self.store.day_docs(day), self._start)
        homes: dict[date, _Day] = {day: scanned}
        settled = True
        for entry in scanned.entries:
            if report.exhausted:
                return False
            home_day = date.fromisoformat(entry["home"])
            if home_day not in homes:  # filed late, into another day than its own
                homes[home_day] = _Day(await self.store.day_docs(home_day))
            home = homes[home_day]
            key = f"{entry['timer_id']}/{entry['attempt']}"
            if f"cancel/{entry['key']}" in home.ids or f"sent/{key}" in home.ids:
                continue
            if entry["due_at"] > now:
                settled = False  # later today
                continue
            settled &= await self._fire(entry, home_day, day, now, report)
        return settled

    async def _fire(
        self, entry: Doc, home: date, day: date, now: datetime, report: TickReport
    ) -> bool:
        """True once this entry needs nothing more."""
        timer_id, attempt = entry["timer_id"], entry["attempt"]
        if not await self.store.claim(home, timer_id, attempt, self.owner, now):
            if await self.store.marker(home, f"sent/{timer_id}/{attempt}") is not None:
                return True  # another replica (or this entry's twin) fired it
            claim = await self.store.marker(home, f"claim/{timer_id}/{attempt}")
            if claim is not None and claim["owner"] != self.owner:
                if not lease_expired(claim, now, self.lease):
                    return False  # another replica is firing it right now
                await self.store.take_over_claim(home, timer_id, attempt, self.owner, now)
                self.logger.warning(
                    "claim taken over after its lease",
                    extra={"timer_id": timer_id, "attempt": attempt, "previous": claim["owner"]},
                )
        event = contact_due_event(entry)
        await self.publish(event)
        await self.store.mark_sent({home, day}, timer_id, attempt, event.event_id, now)
        report.fired += 1
        if report.fired >= self.batch:
            report.exhausted = True
        return True
