"""One dealer's contact history and open queue, laid down in bulk through contact's own storage
module (`task_document`, `result_document`, `OpenQueue.load`): the same documents the service
writes, without the service's one-by-one path. For the contact benchmark and concurrency test."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from aftersales_contact.domain.queue import QueueEntry, task_priority
from aftersales_contact.open_queue import OpenQueue
from aftersales_contact.store import ContactStore, result_document, task_document
from aftersales_contracts import (
    Channel,
    ContactDue,
    ContactPurpose,
    Customer,
    Staff,
    Vehicle,
    correlation_id_for,
    deterministic_id,
)

CHUNK = 5_000


def due_event(dealer_id: str, n: int, due_at: datetime, kind: str = "open") -> ContactDue:
    work_order_id = f"WO-{kind}-{n:07d}"
    return ContactDue(
        event_id=deterministic_id("bench.due", dealer_id, work_order_id),
        occurred_at=due_at,
        dealer_id=dealer_id,
        correlation_id=correlation_id_for(dealer_id, work_order_id),
        contact_id=deterministic_id("bench.contact", dealer_id, work_order_id),
        purposes=[ContactPurpose.SERVICE_CALL_DAY3],
        channel=Channel.PHONE,
        due_at=due_at,
        attempt=1,
        work_order_id=work_order_id,
        vehicle=Vehicle(
            vin=f"LSVAU218XN{n:07d}", plate=f"粤B{n % 100000:05d}", brand="大众", model="帕萨特"
        ),
        customer=Customer(
            customer_id=f"C-{kind}-{n}",
            name="张伟",
            phone=f"+86138{n % 100_000_000:08d}",
            is_owner=True,
            contact_consent=True,
        ),
        service_advisor=Staff(id="SA-007", name="王芳"),
    )


def _documents(
    dealer_id: str, start: int, count: int, due_of: Any, kind: str, now: datetime
) -> list[dict[str, Any]]:
    return [
        task_document(due_event(dealer_id, n, due_of(n), kind), now)
        for n in range(start, start + count)
    ]


async def load_open(
    store: ContactStore,
    queue: OpenQueue,
    dealer_id: str,
    count: int,
    now: datetime,
    priorities: dict[str, int],
    per_hour: int = 100,
    kind: str = "open",
) -> list[str]:
    """`count` open tasks, `per_hour` due in each of the hours before `now` (a busy dealer's
    day-3 calls fall due together at the start of calling hours, D6). The hours must hold no
    open task yet: a second load passes an earlier `now`."""
    hours = (count + per_hour - 1) // per_hour
    end = now.replace(minute=0, second=0, microsecond=0)

    def due_of(n: int) -> datetime:
        return end - timedelta(hours=hours - n // per_hour) + timedelta(seconds=n % per_hour)

    documents = _documents(dealer_id, 0, count, due_of, kind, now)
    await store.load_tasks(documents)
    await queue.load(
        dealer_id,
        (
            QueueEntry(
                task_id=d["_id"],
                due_at=d["due_at"],
                priority=task_priority(d["purposes"], priorities),
                attempt=d["attempt"],
                purposes=tuple(d["purposes"]),
                channel=d["channel"],
            )
            for d in documents
        ),
    )
    return [d["_id"] for d in documents]


async def load_finished(
    store: ContactStore,
    dealer_id: str,
    count: int,
    now: datetime,
    offset: int = 0,
    report: bool = True,
) -> float:
    """`count` finished tasks (done, with their result), due over the years before `now`; they
    are history: the queue never holds them. Returns the seconds it took."""
    started = time.perf_counter()
    submission = {"outcome": "no_answer", "agent_id": "agent-history"}
    for start in range(offset, offset + count, CHUNK):
        size = min(CHUNK, offset + count - start)
        documents = _documents(
            dealer_id, start, size, lambda n: now - timedelta(days=2, minutes=n), "done", now
        )
        for d in documents:
            d["done"] = True
        await store.load_tasks(documents)
        await store.load_results(
            [result_document(d, submission, {"outcome": "no_answer"}, now) for d in documents]
        )
        if report and (start // CHUNK) % 20 == 19:
            took = time.perf_counter() - started
            print(f"  … {start + size:,} finished tasks stored ({took:.0f} s)", flush=True)
    return time.perf_counter() - started
