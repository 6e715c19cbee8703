"""Contact's own figures on /metrics: `aftersales_contact_queue_depth{dealer_id, state}`, the
open tasks of each dealer (`open`) and those an agent may call now (`due`).

Read on scrape from the open queue (hour buckets by `_id`, open work only), so its cost follows
the open work, not the history; refreshed at most every `REFRESH_SECONDS`.
"""

from __future__ import annotations

import time

from aftersales_runtime.service import Runtime

from aftersales_contact.open_queue import OpenQueue

REFRESH_SECONDS = 30.0


def watch_queue_depth(runtime: Runtime, queue: OpenQueue) -> None:
    depth = runtime.metrics.gauge(
        "contact_queue_depth", "Open tasks per dealer; due: callable now.", ["dealer_id", "state"]
    )
    last = -REFRESH_SECONDS

    async def read_depth() -> None:
        nonlocal last
        if time.monotonic() - last < REFRESH_SECONDS:
            return
        last = time.monotonic()
        now = runtime.clock.now()
        for dealer_id in runtime.dealers.ids():
            open_tasks = due = 0
            async for entry in queue.entries(dealer_id):
                open_tasks += 1
                due += entry.due_at <= now
            depth.labels(dealer_id, "open").set(open_tasks)
            depth.labels(dealer_id, "due").set(due)

    runtime.metrics.on_scrape(read_depth)
