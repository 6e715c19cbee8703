"""Grouped reads and writes by `_id`: what concurrent requests do to one collection goes out
together.

An HTTP service answers many callers at once (twenty agents claiming and submitting), and each
request reads and writes a few small documents by `_id`: a task, a lease, a result, a mark, an
audit entry. Sent one by one, every read and write is a command of its own: a round trip and the
driver's work in the service, and on FerretDB a query (and a transaction). Here an operation that
arrives while IN_FLIGHT commands of its kind are in flight on the collection waits, and leaves
with every operation of that kind that waited, in one command (reads: one `_id: {$in}`;
inserts: one `insert_many`; updates: `bulk_write`s; deletes: one `$in`). Nothing waits for a
timer: on an idle or lightly loaded service each goes at once, on a busy one commands get fewer
and larger (group commit). With one command in flight instead of three, every operation waited
for the one before it: the contact benchmark's claim p99 at half its capacity went from
25-29 ms to 66-76 ms (31 ms with three; services/contact/README.md).

Each caller gets its own outcome, as if it had been alone: its document or None, False for an
insert whose `_id` is taken (`insert_once`), and it returns only once its write is
acknowledged, so what it does next (read, publish, answer) follows its write.

The commands run in a task of their own: a caller that is cancelled (its client went away) does
not cancel the others'. A command that fails as a whole fails every caller in it (none is told
its write was made when it may not have been): FerretDB v1 stops an `update` command at its
first failing statement and answers without counts, so there one refused update fails the
callers of its command (a caller retries; the grouped writes here are `$set`s, inserts of
deterministic ids and deletes, which repeat safely). On MongoDB only its own caller fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, WriteError

from aftersales_runtime.bulk import DUPLICATE_KEY, IDS_PER_READ, UPDATES_PER_COMMAND, find_by_ids

Doc = dict[str, Any]
Item = TypeVar("Item")
Outcome = TypeVar("Outcome")
#: What one command did for each of its operations: its outcome, or the error of its statement.
Send = Callable[[list[Item]], Awaitable[list[Any]]]
#: Commands of one kind on one collection in flight at once: an operation that finds fewer goes
#: at once (an idle or lightly loaded service adds no wait); one that finds this many waits and
#: leaves with the others that waited.
IN_FLIGHT = 3


class _Batches(Generic[Item, Outcome]):
    """Operations waiting for a command of one kind, and the tasks that send them: at most
    `in_flight` commands at once, each taking every operation waiting when it starts."""

    def __init__(self, send: Send[Item], in_flight: int) -> None:
        self._send = send
        self._in_flight = in_flight
        self._waiting: list[tuple[Item, asyncio.Future[Outcome]]] = []
        self._senders: set[asyncio.Task[None]] = set()

    async def run(self, item: Item) -> Outcome:
        outcome: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, outcome))
        if len(self._senders) < self._in_flight:
            sender = asyncio.create_task(self._send_all())
            self._senders.add(sender)
            sender.add_done_callback(self._senders.discard)
        return await outcome

    async def _send_all(self) -> None:
        batch: list[tuple[Item, asyncio.Future[Outcome]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    results = await self._send([item for item, _ in batch])
                except Exception as error:  # the command failed as a whole: each operation did
                    results = [error] * len(batch)
                for (_, outcome), result in zip(batch, results, strict=True):
                    if outcome.done():  # its caller was cancelled
                        continue
                    if isinstance(result, BaseException):
                        outcome.set_exception(result)
                    else:
                        outcome.set_result(result)
                batch = []
        finally:  # cancelled (the service is stopping): no caller waits for ever
            stranded = batch if len(self._senders) > 1 else [*batch, *self._waiting]
            if len(self._senders) <= 1:
                self._waiting = []
            for _, outcome in stranded:
                outcome.cancel()


def _statement_errors(error: BulkWriteError, count: int) -> list[WriteError | None]:
    """Per statement of a bulk command: None, or the error it got (what a single write raises)."""
    errors: list[WriteError | None] = [None] * count
    for failed in error.details.get("writeErrors", []):
        errors[failed["index"]] = WriteError(failed.get("errmsg", ""), failed.get("code"), failed)
    return errors


class Grouped:
    """Reads, inserts, updates and deletes by `_id` on one collection, grouped across callers."""

    def __init__(self, collection: AsyncCollection[Doc], in_flight: int = IN_FLIGHT) -> None:
        self.collection = collection
        self._reads: _Batches[str, Doc | None] = _Batches(self._find_all, in_flight)
        self._inserts: _Batches[Doc, bool] = _Batches(self._insert_all, in_flight)
        self._updates: _Batches[tuple[str, Doc], None] = _Batches(self._update_all, in_flight)
        self._deletes: _Batches[str, None] = _Batches(self._delete_all, in_flight)

    async def find(self, doc_id: str) -> Doc | None:
        """The document with this `_id`, or None."""
        return await self._reads.run(doc_id)

    async def insert_once(self, document: Doc) -> bool:
        """Insert a document with a deterministic `_id`; False if the `_id` was taken (by
        another writer, or by another caller's document in the same command)."""
        return await self._inserts.run(document)

    async def update(self, doc_id: str, update: Doc) -> None:
        """Apply an update to the document with this `_id` (nothing if it does not exist)."""
        await self._updates.run((doc_id, update))

    async def delete(self, doc_id: str) -> None:
        await self._deletes.run(doc_id)

    async def _find_all(self, doc_ids: list[str]) -> list[Any]:
        found = await find_by_ids(self.collection.database, self.collection.name, doc_ids)
        # A copy each: two callers of one id must not share what either may change.
        return [dict(found[doc_id]) if doc_id in found else None for doc_id in doc_ids]

    async def _insert_all(self, documents: list[Doc]) -> list[Any]:
        try:
            await self.collection.insert_many(documents, ordered=False)
        except BulkWriteError as error:
            return [
                True if failed is None else (False if failed.code == DUPLICATE_KEY else failed)
                for failed in _statement_errors(error, len(documents))
            ]
        return [True] * len(documents)

    async def _update_all(self, updates: list[tuple[str, Doc]]) -> list[Any]:
        results: list[Any] = []
        for start in range(0, len(updates), UPDATES_PER_COMMAND):  # FerretDB: see bulk.py
            chunk = updates[start : start + UPDATES_PER_COMMAND]
            try:
                await self.collection.bulk_write(
                    [UpdateOne({"_id": doc_id}, update) for doc_id, update in chunk],
                    ordered=False,
                )
                results += [None] * len(chunk)
            except BulkWriteError as error:
                results += _statement_errors(error, len(chunk))
        return results

    async def _delete_all(self, doc_ids: Sequence[str]) -> list[Any]:
        unique = list(dict.fromkeys(doc_ids))
        for start in range(0, len(unique), IDS_PER_READ):
            # `_id: {$in}`: served from the index by the stack's FerretDB (sqlite-id-in.patch)
            await self.collection.delete_many(
                {"_id": {"$in": unique[start : start + IDS_PER_READ]}}
            )
        return [None] * len(doc_ids)
