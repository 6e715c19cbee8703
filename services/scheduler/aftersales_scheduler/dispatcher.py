"""The dispatcher: fires due timers, once, never early, and never loses one.

Each tick walks the days from the watermark (first day not yet settled) to today: it reads the
day's index (which 30-minute slots hold entries), then each slot that has begun, from where the
last tick stopped (buckets are immutable and numbered: a tick reads only what is new). A slot
whose end has passed is first marked `closing` (a day whose end has passed, the whole day), so a
late entry goes to an open slot instead (see `timeline`); a closed slot whose entries all fired
or were cancelled is marked `settled`, and once a day is settled the watermark moves past it.
So an idle tick costs a few `_id` reads, whatever is pending later and however full today is.

Firing one entry (never early: `due_at <= clock.now()`): insert the claim
`claim/{timer}/{attempt}` (two replicas: one insert wins), publish `ContactDue` with a
deterministic event_id, insert `sent/{timer}/{attempt}`. A claim whose owner died before `sent`
is taken over after the lease and published again with the same event_id (downstream is
idempotent): a crash between publish and mark never loses a contact. Entries are fired in
chunks: one bulk read of their tombstones and of the contact data they name (by `_id`), one
bulk insert of claims, the publishes, one bulk insert of `sent` markers.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from aftersales_contracts.envelope import deterministic_id
from aftersales_contracts.events import ContactDue
from aftersales_runtime.clock import Clock

from aftersales_scheduler import filing
from aftersales_scheduler.domain.slots import day_end, day_start
from aftersales_scheduler.filing import Doc
from aftersales_scheduler.store import lease_expired
from aftersales_scheduler.timeline import TimeLine

Publish = Callable[[ContactDue], Awaitable[None]]
#: Reads contact data by id (`TimerStore.contacts`).
ReadContacts = Callable[[Collection[str]], Awaitable[dict[str, Doc]]]
CHUNK = 200


@dataclass
class TickReport:
    fired: int = 0
    exhausted: bool = False  # the batch limit stopped the tick: run the next one at once


def contact_ids(entries: Iterable[Doc]) -> set[str]:
    """The contact data the entries name (entries filed before the slimming carry it)."""
    return {e["payload"]["contact_id"] for e in entries if "contact_id" in e["payload"]}


def contact_due_event(entry: Doc, contacts: Mapping[str, Doc]) -> ContactDue:
    timer_id, attempt = entry["timer_id"], entry["attempt"]
    payload = dict(entry["payload"])
    named = payload.pop("contact_id", None)
    if named is not None:
        if named not in contacts:  # written before the entry: the tick fails, nothing is lost
            raise LookupError(f"contact data {named} of {timer_id} not found")
        payload.update({f: contacts[named].get(f) for f in filing.CONTACT_FIELDS})
        payload["technicians"] = payload["technicians"] or []
    return ContactDue(
        event_id=deterministic_id("contact.due", timer_id, str(attempt)),
        occurred_at=entry["due_at"],
        contact_id=timer_id,
        due_at=entry["due_at"],
        attempt=attempt,
        **payload,
    )


@dataclass
class _Slot:
    """What this process has read of a slot, and which of its entries need nothing more."""

    cursor: int = 0
    entries: dict[str, Doc] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)


@dataclass
class _Day:
    cursor: int = 0
    slots: list[str] = field(default_factory=list)


class Dispatcher:
    def __init__(
        self,
        timeline: TimeLine,
        clock: Clock,
        publish: Publish,
        owner: str,
        batch: int,
        lease: timedelta,
        logger: logging.Logger,
        contacts: ReadContacts,
    ) -> None:
        self.timeline = timeline
        self.contacts = contacts
        self.clock = clock
        self.publish = publish
        self.owner = owner
        self.batch = batch
        self.lease = lease
        self.logger = logger
        # Replicas start at different points of a slot, so they share the work instead of
        # racing for the same claims in the same order.
        self._start = zlib.crc32(owner.encode())
        self._marked: set[str] = set()
        self._settled: set[str] = set()
        self._days: dict[date, _Day] = {}
        self._slots: dict[str, _Slot] = {}

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
        first_day = await self.timeline.first_day()
        if first_day is None:
            return report  # nothing was ever filed
        now = self.clock.now()
        watermark = max(first_day, await self.timeline.watermark() or first_day)
        day, settled_until, all_settled = watermark, watermark, True
        while day_start(day) <= now and not report.exhausted:
            settled = await self._drain_day(day, now, report)
            if settled and all_settled:
                settled_until = day + timedelta(days=1)
                self._forget(day)
            else:
                all_settled = False
            day += timedelta(days=1)
        if settled_until > watermark:
            await self.timeline.set_watermark(settled_until)
        return report

    async def _drain_day(self, day: date, now: datetime, report: TickReport) -> bool:
        past = day_end(day) <= now
        if past:
            await self._mark(filing.closing_day_id(day))
        known = self._days.setdefault(day, _Day())
        items, known.cursor = await self.timeline.read(filing.day_sequence(day), known.cursor)
        for slot in (s for bucket in items for s in bucket):
            if slot not in known.slots:
                known.slots.append(slot)
        begun = sorted(s for s in known.slots if filing.slot_start(s) <= now)
        unknown = [s for s in begun if s not in self._settled and filing.slot_end(s) <= now]
        if unknown:  # after a restart: what another run (or replica) already settled
            marks = await self.timeline.marked(filing.settled_id(s) for s in unknown)
            self._settled |= {s for s in unknown if filing.settled_id(s) in marks}
        settled = past and len(begun) == len(known.slots)
        for slot in begun:
            if report.exhausted:
                return False
            settled &= await self._drain_slot(slot, past, now, report)
        return settled

    async def _drain_slot(
        self, slot: str, day_past: bool, now: datetime, report: TickReport
    ) -> bool:
        if slot in self._settled:
            return True
        ended = filing.slot_end(slot) <= now
        if ended and not day_past:
            await self._mark(filing.closing_slot_id(slot))  # before the final read
        view = self._slots.setdefault(slot, _Slot())
        items, view.cursor = await self.timeline.read(filing.slot_sequence(slot), view.cursor)
        for entry in (e for bucket in items for e in bucket):
            view.entries.setdefault(entry["key"], entry)
        due = sorted(
            (e for k, e in view.entries.items() if k not in view.done and e["due_at"] <= now),
            key=lambda e: e["due_at"],
        )
        cut = self._start % len(due) if due else 0
        due = due[cut:] + due[:cut]
        while due and not report.exhausted:
            size = min(CHUNK, self.batch - report.fired)
            await self._fire(due[:size], view, now, report)
            due = due[size:]
        if ended and len(view.done) == len(view.entries):
            await self.timeline.mark(filing.settled_id(slot))
            self._settled.add(slot)
            self._slots.pop(slot, None)
            return True
        return False

    async def _fire(
        self, entries: list[Doc], view: _Slot, now: datetime, report: TickReport
    ) -> None:
        # Only tombstones are read up front: `sent` follows a claim, so an attempt whose claim
        # this tick wins cannot have gone out; a claim found taken is looked into (`_contest`).
        # The contact data is read with them, by `_id`: one wave of reads for the chunk.
        tombstones, contacts = await asyncio.gather(
            self.timeline.markers(filing.cancel_id(e["key"]) for e in entries),
            self.contacts(contact_ids(entries)),
        )
        # An entry filed twice (a late refile, a redelivered batch) fires once: by (timer, attempt).
        groups: dict[tuple[str, int], list[Doc]] = {}
        for e in entries:
            if filing.cancel_id(e["key"]) in tombstones:
                view.done.add(e["key"])
            else:
                groups.setdefault((e["timer_id"], e["attempt"]), []).append(e)
        claims = [filing.claim_document(t, a, self.owner, now) for t, a in groups]
        taken = await self.timeline.insert_markers(claims)
        if taken:
            await self._contest(groups, taken, view, now)
        events = [contact_due_event(group[0], contacts) for group in groups.values()]
        await asyncio.gather(*(self.publish(event) for event in events))
        await self.timeline.insert_markers(
            [
                filing.sent_document(event.contact_id, event.attempt, event.event_id, now)
                for event in events
            ]
        )
        for group in groups.values():
            view.done.update(e["key"] for e in group)
        report.fired += len(events)
        if report.fired >= self.batch:
            report.exhausted = True

    async def _contest(
        self, groups: dict[tuple[str, int], list[Doc]], taken: set[str], view: _Slot, now: datetime
    ) -> None:
        """Claims another run holds: sent already (done), alive (leave it), or dead (take over)."""
        contested = [(t, a) for t, a in groups if filing.claim_id(t, a) in taken]
        found = await self.timeline.markers(
            i for t, a in contested for i in (filing.claim_id(t, a), filing.sent_id(t, a))
        )
        for timer_id, attempt in contested:
            if filing.sent_id(timer_id, attempt) in found:
                view.done.update(e["key"] for e in groups.pop((timer_id, attempt)))
                continue
            claim = found.get(filing.claim_id(timer_id, attempt))
            if claim is None or claim["owner"] == self.owner:
                continue  # ours, from before a restart: publish again, same event_id
            if not lease_expired(claim, now, self.lease):
                groups.pop((timer_id, attempt))  # another replica is firing it right now
                continue
            await self.timeline.take_over_claim(timer_id, attempt, self.owner, now)
            self.logger.warning(
                "claim taken over after its lease",
                extra={"timer_id": timer_id, "attempt": attempt, "previous": claim["owner"]},
            )

    async def _mark(self, mark_id: str) -> None:
        if mark_id not in self._marked:
            await self.timeline.mark(mark_id)
            self._marked.add(mark_id)

    def _forget(self, day: date) -> None:
        known = self._days.pop(day, None)
        for slot in known.slots if known else []:
            self._settled.discard(slot)
            self._slots.pop(slot, None)
            self._marked.discard(filing.closing_slot_id(slot))
        self._marked.discard(filing.closing_day_id(day))

    def due_waiting(self, now: datetime) -> int:
        """Entries due by `now` that this process has read and not yet fired or found cancelled:
        a figure for /metrics, which grows when the dispatcher falls behind."""
        return sum(
            1
            for view in self._slots.values()
            for key, entry in view.entries.items()
            if key not in view.done and entry["due_at"] <= now
        )
