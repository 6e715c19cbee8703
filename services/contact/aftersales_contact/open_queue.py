"""The open queue in MongoDB: per-dealer time buckets addressed by `_id`, holding open work only.

Layout (collection `queue`, every read by `_id`, an hour's buckets in one `{_id: {$in: [...]}}`,
which FerretDB serves from its index, with the stack's build patches):
- `head/{dealer}`: `{hours: {"YYYYMMDDHH": parts}, stamps: {"YYYYMMDDHH": [stamp, …]}}`, the
  hours that still hold open tasks, and per bucket the stamp of its last write;
- `open/{dealer}/{hour}/{part}`: `{lines: "…"}`, up to BUCKET_SIZE open tasks due in that hour,
  packed one per line (domain.queue.pack: a document of few values is what FerretDB reads fast).
A task enters its hour's bucket when it is queued and leaves it when it is finished (a result or
its expiry), so claims and lists never touch finished work, however much history is stored.

Every write of buckets writes the head after them (in the same command), with a new random stamp
for each bucket written. A process keeps the text of each bucket it read or wrote under the
stamp the head gave it (`bucket_stamps.BucketTexts`), and reads again only the buckets whose
stamp changed: a claim reads the head and the bucket a finished task just left, not the whole
hour (a busy dealer's hour holds hundreds of tasks in several buckets). The head is read before
the buckets, so a text kept is never older than its stamp (a claim joins another's read of a
bucket only if that read was sent after its head came back); a head without stamps (written
before them) reads every bucket, as before.

Expiry has its own time index, by the hour a task expires (so a sweep reads what expires, not
what is stored): `expiry/{dealer}/{hour}` `{lines: "…"}` (task, due, expires; packed) and
`expiry-cursor/{dealer}` `{hour}`, the first hour not swept yet. Swept hours are deleted.

Bucket and head documents are read-modify-written; FerretDB's updates are not atomic against a
concurrent writer, so every write of one dealer's queue goes through that dealer's lock here: one
writer per dealer and process. (Claims never write here: a claim is an atomic lease insert.)
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from aftersales_runtime.bulk import UPDATES_PER_COMMAND, find_by_ids
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_contact.arrivals import Arrivals
from aftersales_contact.bucket_stamps import BucketTexts, Head, new_stamp
from aftersales_contact.domain.queue import (
    BUCKET_SIZE,
    Expiring,
    ParsedHours,
    QueueEntry,
    hour_of,
    pack,
    pack_expiring,
    pack_lines,
    packed_text,
    split_lines,
    task_of,
    unpack_expiring,
    without_tasks,
)

Doc = dict[str, Any]
QUEUE = "queue"


def expiry_id(dealer_id: str, hour: str) -> str:
    return f"expiry/{dealer_id}/{hour}"


def expiry_cursor_id(dealer_id: str) -> str:
    return f"expiry-cursor/{dealer_id}"


def _next_hour(hour: str) -> str:
    return (datetime.strptime(hour, "%Y%m%d%H") + timedelta(hours=1)).strftime("%Y%m%d%H")


def head_id(dealer_id: str) -> str:
    return f"head/{dealer_id}"


def bucket_id(dealer_id: str, hour: str, part: int) -> str:
    return f"open/{dealer_id}/{hour}/{part}"


class OpenQueue:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.queue = db[QUEUE]
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._pending: defaultdict[str, dict[str, str]] = defaultdict(dict)  # task -> hour
        self._arrivals = Arrivals(self._pending)
        # lookups under way, by the `_id`s they read: when each was sent, and its future
        self._reads: dict[tuple[str, ...], tuple[float, asyncio.Future[list[Doc | None]]]] = {}
        self._parsed = ParsedHours()
        self._texts = BucketTexts()

    async def _read(self, doc_ids: list[str]) -> list[Doc | None]:
        """Documents by `_id`, in the order asked (None where absent): one `$in` read."""
        found = await find_by_ids(self.db, QUEUE, doc_ids)
        return [found.get(i) for i in doc_ids]

    async def _shared_read(
        self, doc_ids: tuple[str, ...], sent_after: float = 0.0
    ) -> list[Doc | None]:
        """Concurrent readers of the same documents share one lookup: 20 agents claiming at
        once read the dealer's head and first hour once, not 20 times (FerretDB's time is the
        claim's). Only for readers that check what they read (a claim's lease insert decides);
        a writer reads fresh under the dealer's lock. A lookup sent before `sent_after`
        (monotonic) is not joined: what it returns may be older than what the reader knows."""
        pending = self._reads.get(doc_ids)
        if pending is None or pending[0] < sent_after:
            future = asyncio.ensure_future(self._read(list(doc_ids)))
            pending = self._reads[doc_ids] = time.monotonic(), future
            future.add_done_callback(lambda done: self._forget_read(doc_ids, done))
        return await asyncio.shield(pending[1])

    def _forget_read(
        self, doc_ids: tuple[str, ...], done: asyncio.Future[list[Doc | None]]
    ) -> None:
        pending = self._reads.get(doc_ids)
        if pending is not None and pending[1] is done:
            del self._reads[doc_ids]

    async def head(self, dealer_id: str, shared: bool = False) -> Head:
        if shared:
            [doc] = await self._shared_read((head_id(dealer_id),))
        else:
            doc = await self.queue.find_one({"_id": head_id(dealer_id)})
        return Head.of(doc)

    async def hour_texts(
        self, dealer_id: str, hour: str, head: Head, head_read_at: float | None = None
    ) -> list[str]:
        """The texts of an hour's buckets: kept ones whose stamp is the head's, the others in
        one read. Given `head_read_at` (when the head came back, monotonic), the read is shared
        with concurrent claims that read it since: a text read before the head may be older
        than the stamp it would be kept under (another read's, the bucket rewritten in
        between). Without it, a writer's own read, under the dealer's lock."""
        ids = [bucket_id(dealer_id, hour, p) for p in range(head.hours.get(hour, 0))]
        stamps = head.stamps_of(hour)
        texts = [self._texts.get(i, s) for i, s in zip(ids, stamps, strict=True)]
        missing = tuple(i for i, text in zip(ids, texts, strict=True) if text is None)
        if not missing:
            return [t for t in texts if t is not None]
        docs = await (
            self._read(list(missing))
            if head_read_at is None
            else self._shared_read(missing, sent_after=head_read_at)
        )
        read = dict(zip(missing, docs, strict=True))
        found = []
        for doc_id, stamp, text in zip(ids, stamps, texts, strict=True):
            if text is None:
                text = packed_text(read[doc_id])
                self._texts.put(doc_id, stamp, text)
            found.append(text)
        return found

    async def hour_entries(
        self, dealer_id: str, hour: str, head: Head, head_read_at: float | None = None
    ) -> tuple[QueueEntry, ...]:
        """An hour's open entries in queue order (`ParsedHours`: ordered again only when a
        bucket's text changed). `head_read_at`: when `head` came back (left out: now)."""
        read_at = time.monotonic() if head_read_at is None else head_read_at
        texts = await self.hour_texts(dealer_id, hour, head, head_read_at=read_at)
        return self._parsed.ordered((dealer_id, hour), tuple(texts))

    async def entries(
        self, dealer_id: str, due_by: datetime | None = None
    ) -> AsyncIterator[QueueEntry]:
        """The dealer's open entries in queue order (due by `due_by` when given), an hour's
        buckets at a time: a caller that stops early reads only the first buckets."""
        head = await self.head(dealer_id, shared=True)
        head_read_at = time.monotonic()
        last = hour_of(due_by) if due_by is not None else None
        for hour in sorted(head.hours):
            if last is not None and hour > last:
                return
            for entry in await self.hour_entries(dealer_id, hour, head, head_read_at):
                if due_by is not None and entry.due_at > due_by:
                    return
                yield entry

    async def add(self, dealer_id: str, entries: Iterable[QueueEntry]) -> set[str]:
        """Queue open tasks of one dealer (a batch: one read per hour's bucket and one write
        per bucket changed); returns the task ids added, not those queued already (a
        redelivery)."""
        by_hour: defaultdict[str, dict[str, QueueEntry]] = defaultdict(dict)
        for entry in entries:
            by_hour[hour_of(entry.due_at)][entry.task_id] = entry
        added: set[str] = set()
        async with self._locks[dealer_id]:
            head = await self.head(dealer_id)
            hours = dict(head.hours)
            written: dict[tuple[str, int], list[str]] = {}
            for hour, wanted in sorted(by_hour.items()):
                buckets = [split_lines(t) for t in await self.hour_texts(dealer_id, hour, head)]
                queued = {task_of(line) for bucket in buckets for line in bucket}
                fresh = [e.to_line() for t, e in wanted.items() if t not in queued]
                if not fresh:
                    continue
                if not buckets or len(buckets[-1]) >= BUCKET_SIZE:
                    buckets.append([])
                last = len(buckets) - 1
                room = BUCKET_SIZE - len(buckets[last])
                buckets[last] += fresh[:room]
                buckets += [
                    fresh[start : start + BUCKET_SIZE]
                    for start in range(room, len(fresh), BUCKET_SIZE)
                ]
                for part in range(last, len(buckets)):
                    written[hour, part] = buckets[part]
                hours[hour] = len(buckets)
                added.update(map(task_of, fresh))
            if written:
                await self._commit(dealer_id, head, hours, written)
        return added

    def removal_coming(self, dealer_id: str) -> AbstractContextManager[None]:
        """Announce a removal of the dealer's that may come while the block runs (an agent's
        submit, from when it knows the task's dealer): see `arrivals`."""
        return self._arrivals.announced(dealer_id)

    async def remove(
        self, dealer_id: str, task_id: str, due_at: datetime, linger: float = 0.0
    ) -> None:
        """The task is finished: it leaves the queue (nothing happens if it already left).

        Group commit: removals wait for the dealer's lock together, and whoever gets it waits
        up to `linger` seconds for more (the agents' submits of the moment, announced by
        `removal_coming`: it goes when they have all come; a sweep that finishes one task after
        another passes 0), then takes out every removal waiting, one read of the head and one
        write of it and of each bucket touched; the others find theirs done. 20 agents
        submitting at once cost a few writes, not 20 rounds of them.
        """
        pending = self._pending[dealer_id]
        pending[task_id] = hour_of(due_at)
        self._arrivals.note(dealer_id)
        async with self._locks[dealer_id]:
            if task_id not in pending:
                return  # taken out by the removal that held the lock before
            if linger > 0:
                await self._arrivals.linger(dealer_id, linger)
            batch = dict(pending)
            pending.clear()
            try:
                await self._remove_all(dealer_id, batch)
            except BaseException:
                # The waiters would find their tasks gone and return as if removed: the batch
                # goes back, and the next of them (or the dealer's next removal) takes it out.
                for waiting, hour in batch.items():
                    pending.setdefault(waiting, hour)
                raise

    async def _remove_all(self, dealer_id: str, batch: dict[str, str]) -> None:
        head = await self.head(dealer_id)
        hours = dict(head.hours)
        written: dict[tuple[str, int], list[str]] = {}
        emptied = []
        for hour in sorted(set(batch.values())):
            gone = {t for t, h in batch.items() if h == hour}
            remaining = 0
            changes = {}
            for part, text in enumerate(await self.hour_texts(dealer_id, hour, head)):
                kept, left = without_tasks(text, gone)
                if kept is not None:
                    changes[hour, part] = kept
                remaining += left
            if hours.get(hour) and remaining == 0:
                # The hour is empty: its buckets go, so the queue's reads stay as small as its work.
                emptied.append(hour)
                del hours[hour]
            else:
                written.update(changes)
        if written or emptied:
            await self._commit(dealer_id, head, hours, written)
        for hour in emptied:
            for part in range(head.hours[hour]):
                await self.queue.delete_one({"_id": bucket_id(dealer_id, hour, part)})

    async def load(self, dealer_id: str, entries: Iterable[QueueEntry]) -> None:
        """Bulk-queue many open tasks of one dealer whose hours hold nothing yet (loaders and
        benchmarks; the service itself queues one task at a time through `add`)."""
        by_hour: defaultdict[str, list[QueueEntry]] = defaultdict(list)
        for entry in entries:
            by_hour[hour_of(entry.due_at)].append(entry)
        async with self._locks[dealer_id]:
            head = await self.head(dealer_id)
            hours = dict(head.hours)
            if set(by_hour) & set(hours):
                raise ValueError("load() only fills hours that hold no open task yet")
            documents = []
            for hour, listed in by_hour.items():
                chunks = [listed[i : i + BUCKET_SIZE] for i in range(0, len(listed), BUCKET_SIZE)]
                hours[hour] = len(chunks)
                head.stamps[hour] = [new_stamp() for _ in chunks]
                documents += [
                    {"_id": bucket_id(dealer_id, hour, n), **pack(chunk)}
                    for n, chunk in enumerate(chunks)
                ]
            for start in range(0, len(documents), 100):
                await self.queue.insert_many(documents[start : start + 100])
            await self._write_head(dealer_id, Head(hours, head.stamps))

    async def add_expiries(self, dealer_id: str, items: Iterable[Expiring]) -> None:
        """File tasks under the hours they expire (a redelivery files nothing twice)."""
        by_hour: defaultdict[str, dict[str, Expiring]] = defaultdict(dict)
        for item in items:
            by_hour[hour_of(item.expires_at)][item.task_id] = item
        if not by_hour:
            return
        async with self._locks[dealer_id]:
            ids = [expiry_id(dealer_id, hour) for hour in sorted(by_hour)]
            docs = await self._read([*ids, expiry_cursor_id(dealer_id)])
            cursor = docs.pop()
            for doc_id, doc, hour in zip(ids, docs, sorted(by_hour), strict=True):
                filed = unpack_expiring(doc)
                known = {e.task_id for e in filed}
                fresh = [e for t, e in by_hour[hour].items() if t not in known]
                if fresh:
                    await self.queue.update_one(
                        {"_id": doc_id},
                        {"$set": pack_expiring([*filed, *fresh]), "$unset": {"entries": ""}},
                        upsert=True,
                    )
            first = min(by_hour)
            if cursor is None or cursor["hour"] > first:
                await self.queue.update_one(
                    {"_id": expiry_cursor_id(dealer_id)}, {"$set": {"hour": first}}, upsert=True
                )

    async def expiring(
        self, dealer_id: str, now: datetime
    ) -> AsyncIterator[tuple[str, list[Expiring]]]:
        """(hour, entries) of the hours from the cursor's to `now`'s that hold tasks filed to
        expire, one `_id` lookup per hour: a sweep costs the hours passed and what expires."""
        cursor = await self.queue.find_one({"_id": expiry_cursor_id(dealer_id)})
        if cursor is None:
            return
        hour, last = cursor["hour"], hour_of(now)
        while hour <= last:
            doc = await self.queue.find_one({"_id": expiry_id(dealer_id, hour)})
            if doc:
                yield hour, unpack_expiring(doc)
            hour = _next_hour(hour)

    async def swept(self, dealer_id: str, done_hours: list[str], next_hour: str) -> None:
        """The hours in `done_hours` hold nothing left to expire; the next sweep starts at
        `next_hour` (never later than the current hour, which may still be filled)."""
        async with self._locks[dealer_id]:
            for hour in done_hours:
                await self.queue.delete_one({"_id": expiry_id(dealer_id, hour)})
            await self.queue.update_one(
                {"_id": expiry_cursor_id(dealer_id)}, {"$set": {"hour": next_hour}}, upsert=True
            )

    async def _commit(
        self,
        dealer_id: str,
        head: Head,
        hours: dict[str, int],
        written: dict[tuple[str, int], list[str]],
    ) -> None:
        """Write the changed buckets, then the head with their new stamps (under the dealer's
        lock), in one command where they fit; `entries` (the old sub-documents) goes when a
        bucket written before packing is rewritten. Keeps what it wrote."""
        stamps = {hour: head.stamps_of(hour)[:parts] for hour, parts in hours.items()}
        writes, kept = [], []
        for (hour, part), lines in sorted(written.items()):
            stamp, fields = new_stamp(), pack_lines(lines)
            stamps[hour] += [None] * (part + 1 - len(stamps[hour]))
            stamps[hour][part] = stamp
            doc_id = bucket_id(dealer_id, hour, part)
            writes.append(
                UpdateOne({"_id": doc_id}, {"$set": fields, "$unset": {"entries": ""}}, upsert=True)
            )
            kept.append((doc_id, stamp, packed_text(fields)))
        for hour_stamps in stamps.values():  # buckets written before stamps get one now
            hour_stamps[:] = [s or new_stamp() for s in hour_stamps]
        writes.append(self._head_write(dealer_id, Head(hours, dict(stamps))))
        for start in range(0, len(writes), UPDATES_PER_COMMAND):  # in order: the head last
            await self.queue.bulk_write(writes[start : start + UPDATES_PER_COMMAND], ordered=True)
        for doc_id, stamp, text in kept:
            self._texts.put(doc_id, stamp, text)

    def _head_write(self, dealer_id: str, head: Head) -> UpdateOne:
        return UpdateOne(
            {"_id": head_id(dealer_id)},
            {"$set": {"hours": head.hours, "stamps": head.stamps}},
            upsert=True,
        )

    async def _write_head(self, dealer_id: str, head: Head) -> None:
        await self.queue.bulk_write([self._head_write(dealer_id, head)])
