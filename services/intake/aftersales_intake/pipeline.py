"""The one pipeline every way in (Kafka, HTTP, file import, inbox replay) goes through.

raw bytes → rules (domain.records) → a pass over the batch decided in memory (domain.decisions:
vehicle file D1, revision of the record, event) → bulk writes → the outbox publishes and marks.
Each input ends in exactly one outcome: accepted, duplicate, corrected or rejected.

A batch costs a fixed number of round trips whatever its size: one `$in` read by `_id` of the
vehicle files and rejections it touches, then of the few stored records their files list, bulk
writes (index entries, vehicle files, records and rejections), one producer flush, one bulk
mark. A single input (an HTTP record) is a batch of one.

Crash safety: events are stored with their records before they are published, and marked after
(`aftersales_runtime.outbox`); a redelivery of the same content finds them unmarked and publishes
the stored events again (same event_id: downstream is idempotent).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from zoneinfo import ZoneInfo

from aftersales_runtime.clock import Clock
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.outbox import Outbox, Pending

from aftersales_intake.domain.decisions import Pass, record_key
from aftersales_intake.domain.events import Source, rejection_id_for
from aftersales_intake.domain.outcomes import CONTRACT_CODES, Outcome, Status
from aftersales_intake.domain.records import Kind, Normalised, Refusal, normalise
from aftersales_intake.domain.vehicle_file import file_id, filed
from aftersales_intake.store import RECORD_COLLECTIONS, REJECTIONS, IntakeStore

__all__ = ["CONTRACT_CODES", "Intake", "Outcome", "Source", "Status"]

#: How often a pass is decided again when another writer stored one of its new documents first.
MAX_PASSES = 5


class Intake:
    def __init__(
        self,
        store: IntakeStore,
        outbox: Outbox,
        dealers: DealerDirectory,
        clock: Clock,
        logger: logging.Logger,
        future_tolerance: timedelta = timedelta(minutes=5),
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.dealers = dealers
        self.clock = clock
        self.logger = logger
        self.future_tolerance = future_tolerance
        # One writer of vehicle files at a time in this process: the DMS consumers, the webhook
        # and the contact results read a file, merge and replace it (no transactions).
        self.files_lock = asyncio.Lock()

    def _zone_of(self, dealer_id: str) -> ZoneInfo | None:
        """The dealer's zone; None for a dealer the directory does not list (refused, D5)."""
        return self.dealers.zone_of(dealer_id) if dealer_id in self.dealers else None

    async def take_in(self, raw: bytes, kind: Kind, source: Source) -> Outcome:
        """THE pipeline: one raw DMS record in, exactly one outcome out."""
        [outcome] = await self.take_in_many([raw], kind, source)
        return outcome

    async def take_in_many(
        self, raws: Sequence[bytes], kind: Kind, source: Source
    ) -> list[Outcome]:
        """Several raw records of one kind, in arrival order: one outcome each, the same ones
        as taking them in one after the other."""
        now = self.clock.now()
        found = [normalise(raw, kind, self._zone_of, now, self.future_tolerance) for raw in raws]
        for attempt in range(1, MAX_PASSES + 1):
            async with self.files_lock:
                done, outcomes = await self._decide(raws, found, kind, source, attempt > 1)
                collided = await self.store.write_pass(done)
            if not collided:
                await self.outbox.flush(self._pending(done))
                break
            # A record we took for new is stored: another writer (a file import beside the
            # consumer) stored it first, or it is filed under another VIN (a DMS correction of
            # the VIN). Decide again, reading every record; what we wrote is idempotent.
            self.logger.info("intake pass met a stored record", extra={"attempt": attempt})
        else:
            raise RuntimeError(f"intake pass raced another writer {MAX_PASSES} times")
        for outcome in outcomes:
            self._log(outcome, source)
        return outcomes

    async def _decide(
        self,
        raws: Sequence[bytes],
        found: list[Normalised | Refusal],
        kind: Kind,
        source: Source,
        every_record: bool,
    ) -> tuple[Pass, list[Outcome]]:
        accepted = [f for f in found if isinstance(f, Normalised)]
        rejection_ids = [
            rejection_id_for(raw, kind, source)
            for raw, f in zip(raws, found, strict=True)
            if isinstance(f, Refusal)
        ]
        vehicles, rejections = await self.store.read_files_and_rejections(
            [file_id(r.dealer_id, r.vin) for r in accepted], rejection_ids
        )
        # A stored record is listed in its vehicle file's history, so only records their file
        # lists are read (most of a batch is new: no read at all). One that is stored but not
        # listed there makes its insert collide, and the pass is decided again reading all.
        keys = [
            record_key(r.dealer_id, r.record_id)
            for r in accepted
            if every_record or filed(vehicles.get(file_id(r.dealer_id, r.vin)), r)
        ]
        records = await self.store.records(kind, keys)
        # Marks exist only for stored documents (they are written after them): most records
        # of a batch are new, so this reads little.
        out, rejections_out = await asyncio.gather(
            self.outbox.published_revisions(RECORD_COLLECTIONS[kind], records),
            self.outbox.published_revisions(REJECTIONS, rejections),
        )
        done = Pass(kind, records, vehicles, rejections, out | rejections_out, self.clock.now())
        outcomes = [
            done.reject(raw, source, f) if isinstance(f, Refusal) else done.accept(f)
            for raw, f in zip(raws, found, strict=True)
        ]
        return done, outcomes

    @staticmethod
    def _pending(done: Pass) -> list[Pending]:
        collection = RECORD_COLLECTIONS[done.kind]
        pending = [
            Pending(collection, key, (event,), revision)
            for key, revision, event in done.record_events
        ]
        pending += [Pending(REJECTIONS, rid, (e,)) for rid, e in done.rejection_events.items()]
        return pending

    def _log(self, outcome: Outcome, source: Source) -> None:
        self.logger.info(
            "intake outcome",
            extra={
                "outcome": outcome.status,
                "kind": outcome.kind,
                "source": source,
                "dealer_id": outcome.dealer_id,
                "record_id": outcome.record_id,
                "revision": outcome.revision,
                "codes": [r.code for r in outcome.reasons + outcome.warnings],
            },
        )
