"""MongoDB through PyMongo's async client (FerretDB v1 locally and in tests, MongoDB 7+ in prod).

FerretDB v1 facts the services design around (ARCHITECTURE): no transactions, updates are not
atomic against a concurrent writer, inserts that collide on `_id`/a unique index are; only `_id`
lookups use an index on SQLite. Hence: deterministic `_id`s, insert-to-claim, one writer per key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError


def connect(
    url: str, app_name: str, listeners: Sequence[monitoring.CommandListener] = ()
) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(
        url,
        appname=app_name,
        serverSelectionTimeoutMS=5000,
        tz_aware=True,
        event_listeners=list(listeners),
    )


async def insert_once(
    db: AsyncDatabase[dict[str, Any]], collection: str, document: dict[str, Any]
) -> bool:
    """Insert a document with a deterministic `_id`; False if it was already there.

    The collision is atomic on every backend, which makes this the project's idempotency primitive.
    """
    try:
        await db[collection].insert_one(document)
    except DuplicateKeyError:
        return False
    return True
