"""Bulk updates by `_id` (issue 19): what one update of a known document, and one upsert of a
missing one, costs the MongoDB server, through the services' own `write_each` (commands of
`UPDATES_PER_COMMAND` statements, one at a time). Prints figures; passes or fails nothing.

    python -m benchmarks.updates [--documents 20000] [--seconds 12] [--runs 2]

`--documents` documents shaped like a person file (a list of timer ids, a few fields) are
inserted into a database of their own; then, for `--seconds`, commands of `$set` + `$addToSet`
updates of random documents run one after the other; then, as long, commands of the same
updates as upserts of documents that do not exist yet (each makes one, as a customer index
entry or a report's row seen for the first time), in a database of their own holding the same
`--documents` documents first, so both figures are taken on a collection of that size. Against
this checkout's stack (MONGODB_PORT or MONGODB_URL); the database is removed afterwards. Run it
against an unpatched FerretDB build to compare
(`deploy/local/ferretdb/patches/sqlite-update-by-id.patch`).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from typing import Any

from aftersales_runtime.bulk import UPDATES_PER_COMMAND, write_each
from aftersales_runtime.testing import checkout_mongodb_url
from pymongo import AsyncMongoClient, UpdateOne

MONGODB = checkout_mongodb_url()


async def update_rate(documents: int, seconds: float, seed: int, upserts: bool = False) -> float:
    """Milliseconds per statement over `seconds` of bulk updates of existing documents, or of
    upserts of missing ones, in a new database holding `documents` documents either way."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB)
    db = client[f"bench_updates_{uuid.uuid4().hex[:8]}"]
    try:
        for start in range(0, documents, 1000):
            await db.people.insert_many(
                [
                    {"_id": f"dealer/{i:08d}", "timer_ids": [f"t{i}-{j}" for j in range(7)], "n": 0}
                    for i in range(start, min(documents, start + 1000))
                ]
            )
        rnd = random.Random(seed)
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            ids = (
                [f"new/{done + k:08d}" for k in range(UPDATES_PER_COMMAND)]
                if upserts
                else [f"dealer/{i:08d}" for i in rnd.sample(range(documents), UPDATES_PER_COMMAND)]
            )
            writes = [
                UpdateOne(
                    {"_id": doc_id},
                    {"$set": {"n": done + k}, "$addToSet": {"timer_ids": f"x{done + k}"}},
                    upsert=upserts,
                )
                for k, doc_id in enumerate(ids)
            ]
            await write_each(db, "people", writes)
            done += len(writes)
        return (time.perf_counter() - started) / done * 1000
    finally:
        await client.drop_database(db.name)
        await client.close()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.updates")
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args(argv)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(MONGODB)
    info = await client.admin.command("buildInfo")
    await client.close()
    server = "FerretDB" if "ferretdbVersion" in info else f"MongoDB {info['version']}"
    print(f"bulk updates by _id on {server}: {args.documents:,} documents, ", end="")
    print(f"{UPDATES_PER_COMMAND} updates per command, {args.seconds:.0f} s per run", flush=True)
    for run in range(args.runs):
        ms = await update_rate(args.documents, args.seconds, seed=run)
        print(f"updates: {ms:.3f} ms per update (run {run + 1})", flush=True)
        ms = await update_rate(args.documents, args.seconds, seed=run, upserts=True)
        print(f"upserts of missing documents: {ms:.3f} ms per upsert (run {run + 1})", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
