"""The open queue in one busy hour (issue 19): claims and removals against the queue's storage
as the contact process runs them, for hours of several sizes. Prints figures; passes or fails
nothing.

    python -m benchmarks.contact_hours [--sizes 667 2000 6667] [--pairs 600] [--workers 20]

A day-3 call falls due at the start of calling hours (D6), so a dealer's whole day of work
orders lands in one hour of its queue: 2,000 work orders of 3 dealers make hours of about 667
open tasks, the pipeline benchmark's 20,000 about 6,667. Per size, one dealer's hour is queued,
then `--workers` workers (one `OpenQueue`: one contact process) each read the queue in order,
take the first task no worker took yet (as a claim passes over the tasks its process holds) and
remove it (a finished task), until `--pairs` are done. It prints the pairs per second and the
CPU that FerretDB and this process spent per pair. A claim's and a removal's cost should follow
what changed, not the size of the hour. Own database, removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psutil
from aftersales_contact.domain.queue import QueueEntry
from aftersales_contact.domain.tasks import task_id_for
from aftersales_contact.open_queue import OpenQueue
from aftersales_runtime.testing import checkout_mongodb_url
from pymongo import AsyncMongoClient

from benchmarks.cpu import Cpu

DEALER = "dealer-sz-001"


async def one_hour(
    mongo: AsyncMongoClient[dict[str, Any]], size: int, pairs: int, workers: int
) -> dict[str, float]:
    """CPU ms per claim and removal, by process, and the pairs per second."""
    database = f"bench_hours_{uuid.uuid4().hex[:8]}"
    db = mongo[database]
    await db.create_collection("queue")
    queue = OpenQueue(db)
    at = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    purposes = ("service_call_day3",)
    await queue.add(
        DEALER,
        [QueueEntry(task_id_for(f"c-{n}", 1), at, 10, 1, purposes, "phone") for n in range(size)],
    )
    taken: set[str] = set()
    started = 0

    async def worker() -> None:
        nonlocal started
        while started < pairs:
            started += 1
            async for entry in queue.entries(DEALER):
                if entry.task_id not in taken:
                    taken.add(entry.task_id)
                    await queue.remove(DEALER, entry.task_id, entry.due_at)
                    break

    cpu = Cpu.of({"contact": psutil.Process().pid})
    cpu.start()
    began = time.perf_counter()
    try:
        await asyncio.gather(*(worker() for _ in range(workers)))
        seconds = time.perf_counter() - began
        spent = {name: 1000 * s / pairs for name, s in cpu.seconds().items()}
    finally:
        await mongo.drop_database(database)
    return {"pairs/s": pairs / seconds, **spent}


async def run(args: argparse.Namespace) -> None:
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        checkout_mongodb_url(), tz_aware=True
    )
    print(
        f"contact queue, one busy hour: {args.workers} workers claim and finish {args.pairs:,} "
        "tasks per hour size (one contact process; the machine is shared: figures are noisy)"
    )
    results = {}
    try:
        for size in args.sizes:
            results[size] = figures = await one_hour(mongo, size, args.pairs, args.workers)
            print(
                f"  hour of {size:>6,} open tasks: {figures['pairs/s']:7.0f} claims+removals/s; "
                f"cpu ms each: ferretdb {figures['ferretdb']:.2f}, "
                f"contact {figures['contact']:.2f}",
                flush=True,
            )
    finally:
        await mongo.close()
    small, large = results[min(results)], results[max(results)]
    print(
        f"contact queue: cpu per claim+removal, hour of {max(results):,} / of {min(results):,}: "
        f"ferretdb {large['ferretdb'] / small['ferretdb']:.2f}, "
        f"contact {large['contact'] / small['contact']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.contact_hours")
    parser.add_argument("--sizes", type=int, nargs="+", default=[667, 2000, 6667])
    parser.add_argument("--pairs", type=int, default=600)
    parser.add_argument("--workers", type=int, default=20)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
