"""Bulk reads and writes by `_id`: what a batch handler uses instead of a round trip per record.

FerretDB v1 facts behind the shapes here (its source, and measured on this stack):
- only a filter that is exactly `{_id: value}` is served from an index; `{_id: {$in: [...]}}`
  scans the whole collection. So `find_by_ids` sends one `find_one({_id})` per id, all at once,
  which costs what the batch costs, not what the history costs;
- an `update` command keeps every matched statement's cursor (and its SQLite connection) open
  until the whole command ends, and a database has 100 connections: one command of ~100 updates
  of existing documents, or a few such commands at once, deadlock the database for good
  (measured: 80 updates in one command 0.08 s, 100 never returned). So updates go in commands of
  at most `UPDATES_PER_COMMAND`, one command at a time. MongoDB has no such limit; the
  chunks cost it a few round trips per batch;
- inserts hold no cursor and collide atomically on `_id`: `insert_new` sends a batch in one
  command and reports the ids that were already there instead of failing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

Doc = dict[str, Any]
DUPLICATE_KEY = 11000
#: Update statements per command (FerretDB: see above); keep well below 100.
UPDATES_PER_COMMAND = 20
#: Reads in flight at once per call: more only queue (measured: 1,000 reads by `_id` in 0.18 s
#: at 32, 0.24 s at 8, 0.22-0.41 s all at once; one `$in` over 20,000 documents: 1.1 s). Well
#: below FerretDB's 100 connections per database, also when a pass reads three collections.
READS_IN_FLIGHT = 24


async def find_by_ids(
    db: AsyncDatabase[Doc], collection: str, ids: Iterable[str]
) -> dict[str, Doc]:
    """The documents found among `ids` (each read by `_id` alone), keyed by `_id`."""
    wanted = list(dict.fromkeys(ids))
    slots = asyncio.Semaphore(READS_IN_FLIGHT)

    async def read(document_id: str) -> Doc | None:
        async with slots:
            return await db[collection].find_one({"_id": document_id})

    found = await asyncio.gather(*(read(i) for i in wanted))
    return {i: doc for i, doc in zip(wanted, found, strict=True) if doc is not None}


async def insert_new(db: AsyncDatabase[Doc], collection: str, docs: Sequence[Doc]) -> set[str]:
    """Insert documents whose `_id` is new; returns the ids that collided (already there)."""
    if not docs:
        return set()
    try:
        await db[collection].insert_many(list(docs), ordered=False)
    except BulkWriteError as error:
        errors = error.details.get("writeErrors", [])
        collided = {docs[e["index"]]["_id"] for e in errors if e.get("code") == DUPLICATE_KEY}
        if len(collided) < len(errors):
            raise
        return collided
    return set()


async def write_each(
    db: AsyncDatabase[Doc], collection: str, writes: Sequence[UpdateOne | ReplaceOne]
) -> None:
    """Update statements in commands of at most UPDATES_PER_COMMAND, one after the other."""
    for start in range(0, len(writes), UPDATES_PER_COMMAND):
        chunk = list(writes[start : start + UPDATES_PER_COMMAND])
        await db[collection].bulk_write(chunk, ordered=False)


async def replace_all(db: AsyncDatabase[Doc], collection: str, docs: Iterable[Doc]) -> None:
    """Replace (or create) each document by its `_id`."""
    await write_each(db, collection, [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs])
