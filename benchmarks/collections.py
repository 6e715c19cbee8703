"""Collections per service database (issue 19: bounded whatever the dates and the history).

    python -m benchmarks.collections                   # the databases of `make run` (demo_*)
    python -m benchmarks.collections --history 50000   # first load a 50-store group's year
                                                       # into demo_intake and demo_scheduler

Prints one line per service database, before and (with --history) after loading; the history is
`benchmarks.history`'s (bulk inserts in the storage shape), left in place.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aftersales_runtime.testing import checkout_mongodb_url
from pymongo import AsyncMongoClient

from benchmarks.history import load_group_history
from benchmarks.pipeline import DEALERS, make_orders
from deploy.local.services import SERVICES


async def counts(mongo: AsyncMongoClient[dict[str, Any]], prefix: str) -> dict[str, int]:
    present = set(await mongo.list_database_names())
    return {
        service: len(await mongo[f"{prefix}_{service}"].list_collection_names())
        for service in SERVICES
        if f"{prefix}_{service}" in present
    }


def show(label: str, found: dict[str, int]) -> None:
    listed = ", ".join(f"{service} {n}" for service, n in found.items()) or "no databases"
    print(f"collections per service database {label}: {listed}", flush=True)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.collections")
    parser.add_argument("--prefix", default="demo", help="database prefix (make run: demo)")
    parser.add_argument("--history", type=int, default=0, help="work orders of history to load")
    args = parser.parse_args(argv)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        checkout_mongodb_url(), tz_aware=True
    )
    try:
        show(f"({args.prefix}_*)", await counts(mongo, args.prefix))
        if args.history:
            now = datetime.now(ZoneInfo("Asia/Shanghai"))
            seconds = await load_group_history(
                mongo[f"{args.prefix}_scheduler"],
                mongo[f"{args.prefix}_intake"],
                args.history,
                now=now + timedelta(days=400),  # its contacts fall due after the demo's
                dealers=DEALERS,
                template_orders=make_orders(200, now - timedelta(days=30), 10**7, seed=5),
                first_day=now.date(),
            )
            print(f"history: {args.history:,} work orders loaded ({seconds})", flush=True)
            show(f"({args.prefix}_*) after the history", await counts(mongo, args.prefix))
    finally:
        await mongo.close()


if __name__ == "__main__":
    asyncio.run(main())
