"""The time line on MongoDB: entries filed into slot buckets, and the dispatcher's markers.

Every read and write here addresses documents by `_id` (the filters FerretDB-SQLite serves from
its index, with the stack's build patches), in bulk: `insert_many` for inserts, `find_by_ids`
(one `$in` per 500 ids) for reads. The layout itself (ids, shapes) is `filing`'s.

Filing against closing: a writer inserts its bucket, then looks for the closing marks of its
slot and day; the dispatcher inserts a closing mark, then reads. One of the two always sees the
other, so an entry filed into a slot the dispatcher has finished with is filed again into an
open slot (claims keep an entry filed twice firing once).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from aftersales_runtime.bulk import find_by_ids, write_each
from aftersales_runtime.mongo import insert_once
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

from aftersales_scheduler import filing
from aftersales_scheduler.filing import DUE, MARKERS, MARKS, Doc

#: A writer's clock and the dispatcher's may differ a little: slots ending later than this
#: ahead of the writer's now cannot be closing, so filing skips their check.
CLOCK_SKEW = timedelta(minutes=2)


async def insert_all(db: AsyncDatabase[Doc], collection: str, docs: list[Doc]) -> list[int]:
    """Insert many; returns the positions that collided on `_id` (already there)."""
    if not docs:
        return []
    try:
        await db[collection].insert_many(docs, ordered=False)
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        if any(e.get("code") != 11000 for e in errors):
            raise
        return [e["index"] for e in errors]
    return []


class TimeLine:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self._first_day: date | None = None
        # What `load` wrote so far (it runs alone): the next free position of each sequence
        # and the slots already in their day's index, so chunk after chunk never collides.
        self._loaded_next: dict[str, int] = {}
        self._loaded_slots: set[str] = set()
        self._stale_hints: set[str] = set()  # sequences `load` appended to past their hint

    # --- sequences of immutable documents -----------------------------------------------------
    async def hints(self, sequences: Iterable[str]) -> dict[str, int]:
        names = list(sequences)
        docs = await find_by_ids(self.db, DUE, (filing.hint_id(s) for s in names))
        return {s: docs.get(filing.hint_id(s), {}).get("n", 0) for s in names}

    async def append(
        self,
        groups: dict[str, list[list[Any]]],
        hints: dict[str, int] | None = None,
        move_hints: bool = True,
    ) -> None:
        """Insert each sequence's chunks at its next free positions (insert-once: a position
        taken by another writer is retried at the next one), then move the hints on (new
        sequences' hints are always written; `move_hints=False` leaves older ones behind, which
        costs a reader or writer a few probes beyond them, never an entry)."""
        if not groups:
            return
        start = dict(hints) if hints is not None else await self.hints(groups)
        free = dict(start)
        waiting = [(seq, chunk) for seq, chunks in groups.items() for chunk in chunks]
        while waiting:
            docs = []
            for seq, chunk in waiting:
                docs.append(filing.item_document(seq, free[seq], chunk))
                free[seq] += 1
            waiting = [waiting[i] for i in await insert_all(self.db, DUE, docs)]
        fresh = [s for s in groups if start[s] == 0]
        hint_docs = [{"_id": filing.hint_id(s), "n": free[s]} for s in fresh]
        taken = {fresh[i] for i in await insert_all(self.db, DUE, hint_docs)}
        await write_each(
            self.db,
            DUE,
            [
                UpdateOne({"_id": filing.hint_id(s)}, {"$max": {"n": free[s]}})
                for s in groups
                if (s not in fresh and move_hints) or s in taken
            ],
        )

    async def read(self, sequence: str, start: int) -> tuple[list[list[Any]], int]:
        """The items of a sequence from position `start`, and the first position not read.
        A position missing below the hint (a writer still at work) stops the cursor there;
        what lies beyond it is returned too (callers ignore what they have seen)."""
        hint_doc, first = await asyncio.gather(
            self.db[DUE].find_one({"_id": filing.hint_id(sequence)}),
            self.db[DUE].find_one({"_id": filing.item_id(sequence, start)}),
        )
        hint = (hint_doc or {}).get("n", 0)
        if first is None and hint <= start:
            return [], start
        found: dict[int, Doc | None] = {start: first} if first is not None else {}
        ids = [filing.item_id(sequence, n) for n in range(start + 1, hint)]
        docs = await find_by_ids(self.db, DUE, ids)
        for n in range(start + 1, hint):
            found[n] = docs.get(filing.item_id(sequence, n))
        n = max(hint, start + 1)
        while (
            doc := await self.db[DUE].find_one({"_id": filing.item_id(sequence, n)})
        ) is not None:
            found[n] = doc
            n += 1
        cursor = next((k for k in range(start, n) if found.get(k) is None), n)
        return [filing.bucket_items(doc) for _, doc in sorted(found.items()) if doc], cursor

    # --- filing ------------------------------------------------------------------------------
    async def first_day(self) -> date | None:
        if self._first_day is None:  # set once, never changed: read it once
            doc = await self.db[MARKS].find_one({"_id": filing.FIRST_DAY})
            self._first_day = date.fromisoformat(doc["day"]) if doc else None
        return self._first_day

    async def ensure_first_day(self, day: date) -> date:
        if await self.first_day() is None:
            await insert_once(self.db, MARKS, {"_id": filing.FIRST_DAY, "day": day.isoformat()})
            self._first_day = None
        first = await self.first_day()
        assert first is not None
        return first

    async def file(self, entries: list[Doc], now: datetime) -> None:
        """File entries where the dispatcher will find them (see the module's docstring)."""
        if not entries:
            return
        first_day = await self.ensure_first_day(now.date())
        placed = [(filing.slot_of(e["due_at"]), e) for e in entries]
        while placed:
            await self._append_entries(placed)
            closed = await self._closed({slot for slot, _ in placed}, first_day, now)
            now_slot = filing.slot_of(now)
            placed = [
                (max(filing.next_slot(slot), now_slot), e) for slot, e in placed if slot in closed
            ]

    async def load(self, entries: list[Doc], chunk: int = 20_000) -> None:
        """File entries in bulk for loaders and the migration, which run while no dispatcher
        does: no closing check, and slots taken for empty at first, then where this timeline's
        last `load` stopped (a bucket position found taken is retried at the next one), so a
        chunk costs a few bulk inserts and no reads. Call `finish_load` after the last one."""
        placed = sorted(((filing.slot_of(e["due_at"]), e) for e in entries), key=lambda p: p[0])
        for start in range(0, len(placed), chunk):
            by_slot: dict[str, list[Doc]] = defaultdict(list)
            for slot, entry in placed[start : start + chunk]:
                by_slot[slot].append(entry)
            by_day: dict[str, list[str]] = defaultdict(list)
            for slot in by_slot:
                if slot not in self._loaded_slots:
                    by_day[filing.day_sequence(filing.day_of(slot))].append(slot)
            self._loaded_slots.update(by_slot)
            days = {day: filing.chunks(slots) for day, slots in by_day.items()}
            await self._load_append(days)
            await self._load_append(
                {filing.slot_sequence(s): filing.chunks(es) for s, es in by_slot.items()}
            )

    async def finish_load(self) -> None:
        """After the last `load`: move the hints it left behind, once each (a writer appending
        to a sequence whose hint lags collides once per bucket it lags by)."""
        stale = sorted(self._stale_hints)
        self._stale_hints.clear()
        await write_each(
            self.db,
            DUE,
            [
                UpdateOne({"_id": filing.hint_id(s)}, {"$max": {"n": self._loaded_next[s]}})
                for s in stale
            ],
        )

    async def _load_append(self, groups: dict[str, list[list[Any]]]) -> None:
        # A hint left behind costs a later reader a few probes: cheaper than one update per
        # sequence per chunk (it was most of a loader's time). `finish_load` moves them once.
        await self.append(
            groups, {s: self._loaded_next.get(s, 0) for s in groups}, move_hints=False
        )
        for sequence, chunks in groups.items():
            if sequence in self._loaded_next:
                self._stale_hints.add(sequence)
            self._loaded_next[sequence] = self._loaded_next.get(sequence, 0) + len(chunks)

    async def _append_entries(self, placed: list[tuple[str, Doc]]) -> None:
        by_slot: dict[str, list[Doc]] = defaultdict(list)
        for slot, entry in placed:
            by_slot[slot].append(entry)
        hints = await self.hints(filing.slot_sequence(s) for s in by_slot)
        # A slot gets into its day's index before its first bucket exists, so the dispatcher
        # never misses a slot that holds entries (a slot listed twice costs nothing).
        new_by_day: dict[str, list[str]] = defaultdict(list)
        for slot in sorted(by_slot):
            if hints[filing.slot_sequence(slot)] == 0:
                new_by_day[filing.day_sequence(filing.day_of(slot))].append(slot)
        await self.append({day: filing.chunks(slots) for day, slots in new_by_day.items()})
        await self.append(
            {filing.slot_sequence(s): filing.chunks(es) for s, es in by_slot.items()}, hints
        )

    async def _closed(self, slots: set[str], first_day: date, now: datetime) -> set[str]:
        near = [s for s in slots if filing.slot_end(s) <= now + CLOCK_SKEW]
        early = {s for s in slots if filing.day_of(s) < first_day}
        ids = {
            s: (filing.closing_slot_id(s), filing.closing_day_id(filing.day_of(s))) for s in near
        }
        marks = await find_by_ids(self.db, MARKS, (i for pair in ids.values() for i in pair))
        return early | {s for s, pair in ids.items() if any(i in marks for i in pair)}

    # --- marks ---------------------------------------------------------------------------------
    async def mark(self, mark_id: str, **fields: Any) -> None:
        await insert_once(self.db, MARKS, {"_id": mark_id, **fields})

    async def marked(self, mark_ids: Iterable[str]) -> set[str]:
        return set(await find_by_ids(self.db, MARKS, mark_ids))

    async def watermark(self) -> date | None:
        doc = await self.db[MARKS].find_one({"_id": filing.WATERMARK})
        return date.fromisoformat(doc["day"]) if doc else None

    async def set_watermark(self, day: date) -> None:
        # Replicas may overwrite each other with an older day: that only costs a re-read.
        watermark = {"_id": filing.WATERMARK, "day": day.isoformat()}
        if not await insert_once(self.db, MARKS, watermark):
            await self.db[MARKS].update_one(
                {"_id": filing.WATERMARK}, {"$set": {"day": day.isoformat()}}
            )

    # --- markers (claims, sent, tombstones) ----------------------------------------------------
    async def markers(self, marker_ids: Iterable[str]) -> dict[str, Doc]:
        return await find_by_ids(self.db, MARKERS, marker_ids)

    async def insert_markers(self, docs: list[Doc]) -> set[str]:
        """Insert-once each; returns the ids that were already there."""
        return {docs[i]["_id"] for i in await insert_all(self.db, MARKERS, docs)}

    async def take_over_claim(self, timer_id: str, attempt: int, owner: str, now: datetime) -> None:
        await self.db[MARKERS].update_one(
            {"_id": filing.claim_id(timer_id, attempt)},
            {"$set": {"owner": owner, "claimed_at": now}},
        )
