"""Bulk reads and writes by `_id`: what a batch handler uses instead of a round trip per record.

FerretDB v1 facts behind the shapes here (its source, and measured on this stack):
- unpatched, only a filter that is exactly `{_id: value}` is served from an index. The local
  stack's FerretDB is built with `deploy/local/ferretdb/patches/sqlite-id-in.patch`, which serves
  `{_id: {$in: [up to 1,000 ids]}}` from the index too (500 ids out of 20,000 documents: 36 ms in
  one `$in`, 373 ms one `find_one` after the other). So `find_by_ids` sends one `$in` per
  `IDS_PER_READ` ids: a batch's read costs what the batch costs, not what the history costs
  (MongoDB serves `$in` on `_id` from its index anyway);
- the local stack's FerretDB runs an `update` command whose statements each address one
  document by `_id` (all different, none `multi`) as one `$in` query and one transaction, and
  the upserts of missing documents among them as one more (`sqlite-update-by-id.patch`:
  0.37–0.38 ms per update, 0.64–0.65 unpatched; 0.09–0.10 ms per upsert of a missing
  document, 0.24 without). Any other command, and one the patch hands back (a failing
  statement, an upsert whose document another writer inserted meanwhile), runs unpatched:
  each statement a query and a transaction, its cursor (and SQLite connection) kept open until
  the whole command ends, and a database has 100 connections: one such command of ~100
  updates of existing documents, or a few at once, deadlock the database for good (measured:
  80 updates in one command 0.08 s, 100 never returned). So updates go in commands of at most
  `UPDATES_PER_COMMAND`, one command at a time. MongoDB has no such limit; the chunks cost it a
  few round trips per batch;
- inserts hold no cursor and collide atomically on `_id`: `insert_new` sends a batch in one
  command and reports the ids that were already there instead of failing. But FerretDB inserts
  a command's documents in chunks of 100, and a chunk in which one collides is inserted again
  one document at a time, each in its own transaction: where collisions are expected (not only
  on a redelivery), read which ids exist first (`find_by_ids`) and insert only the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ReplaceOne, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

Doc = dict[str, Any]
DUPLICATE_KEY = 11000
#: Update statements per command (FerretDB: see above); keep well below 100.
UPDATES_PER_COMMAND = 20
#: Ids per `$in` read: within the patched FerretDB's pushdown limit (1,000), so the read stays
#: on the `_id` index.
IDS_PER_READ = 500


async def find_by_ids(
    db: AsyncDatabase[Doc], collection: str, ids: Iterable[str]
) -> dict[str, Doc]:
    """The documents found among `ids`, keyed by `_id`: one `$in` read per IDS_PER_READ ids."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, Doc] = {}
    for start in range(0, len(wanted), IDS_PER_READ):
        chunk = wanted[start : start + IDS_PER_READ]
        # At most one document per id: with the limit the answer closes the cursor (without
        # it, a first batch that holds all the ids left it open and cost a `getMore`).
        cursor = db[collection].find(
            {"_id": {"$in": chunk}}, limit=len(chunk), batch_size=len(chunk)
        )
        async for doc in cursor:
            found[doc["_id"]] = doc
    return found


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
