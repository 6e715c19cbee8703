"""Bulk reads and writes by `_id`: what a batch handler uses instead of a round trip per record.

FerretDB serves only a filter that is exactly `{_id: value}` from an index; `{_id: {$in: [...]}}`
scans the whole collection. So `find_by_ids` sends one `find_one({_id})` per id, all at once on
the client's connection pool (measured with `benchmarks/intake.py`: see the intake README), which
costs what the batch costs, not what the history costs. Inserts collide atomically on `_id`:
`insert_new` reports the ids that were already there instead of failing the batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

Doc = dict[str, Any]
DUPLICATE_KEY = 11000


async def find_by_ids(
    db: AsyncDatabase[Doc], collection: str, ids: Iterable[str]
) -> dict[str, Doc]:
    """The documents found among `ids` (each read by `_id` alone), keyed by `_id`."""
    wanted = list(dict.fromkeys(ids))
    found = await asyncio.gather(*(db[collection].find_one({"_id": i}) for i in wanted))
    return {i: doc for i, doc in zip(wanted, found, strict=True) if doc is not None}


async def insert_new(db: AsyncDatabase[Doc], collection: str, docs: Sequence[Doc]) -> set[str]:
    """Insert documents whose `_id` is new; returns the ids that collided (already there)."""
    if not docs:
        return set()
    try:
        await db[collection].insert_many(list(docs), ordered=False)
    except BulkWriteError as error:
        collided = {
            docs[e["index"]]["_id"]
            for e in error.details.get("writeErrors", [])
            if e.get("code") == DUPLICATE_KEY
        }
        if len(collided) < len(error.details.get("writeErrors", [])):
            raise
        return collided
    return set()


async def replace_all(db: AsyncDatabase[Doc], collection: str, docs: Iterable[Doc]) -> None:
    """Replace (or create) each document by its `_id`, in one round trip."""
    writes = [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in docs]
    if writes:
        await db[collection].bulk_write(writes, ordered=False)
