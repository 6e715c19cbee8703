"""Synthetic timers filed in bulk, for the benchmark and the multi-process tests.

The same documents the planner writes (timer, and its entry in the day collection of its due
day), inserted many at a time, so a million pending timers can be laid down in minutes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime

from aftersales_contracts.envelope import correlation_id_for
from aftersales_runtime.mongo import insert_once
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_scheduler.domain.slots import timer_id
from aftersales_scheduler.planning import entry_for, filing_key
from aftersales_scheduler.store import MARKS, TIMERS, Doc, day_collection


def synthetic_timer(dealer_id: str, number: int, due_at: datetime) -> Doc:
    work_order_id = f"BULK-{number:08d}"
    doc: Doc = {
        "_id": timer_id(dealer_id, work_order_id, "call_day3"),
        "dealer_id": dealer_id,
        "kind": "after_service",
        "source_id": work_order_id,
        "step": "call_day3",
        "purposes": ["service_call_day3"],
        "channel": "phone",
        "nominal_at": due_at,
        "due_at": due_at,
        "attempt": 1,
        "version": 1,
        "state": "pending",
        "work_order_id": work_order_id,
        "correlation_id": correlation_id_for(dealer_id, work_order_id),
        "causation_id": f"bulk-{number}",
        "customer_id": f"C-{number}",
        "vin": "LSVAU218XN2183294",
        "revision": 1,
        "customer": {
            "customer_id": f"C-{number}",
            "name": "测试",
            "phone": "+8613800138000",
            "is_owner": True,
            "contact_consent": True,
        },
        "vehicle": {
            "vin": "LSVAU218XN2183294",
            "plate": "粤B12345",
            "brand": "大众",
            "model": "帕萨特",
        },
        "service_advisor": {"id": "SA-1", "name": "王芳"},
        "technicians": [],
        "trail": [],
    }
    home = due_at.date().isoformat()
    doc.update(filed_key=filing_key(doc), home=home, homes=[{"attempt": 1, "home": home}])
    return doc


async def _insert_chunks(db: AsyncDatabase[Doc], name: str, docs: list[Doc], size: int) -> None:
    for start in range(0, len(docs), size):
        await db[name].insert_many(docs[start : start + size], ordered=False)


async def file_in_bulk(
    db: AsyncDatabase[Doc], timers: Iterable[Doc], first_day: date, chunk: int = 5000
) -> int:
    """Insert timers and their entries (into days not being closed); returns how many."""
    await insert_once(db, MARKS, {"_id": "first_day", "day": first_day.isoformat()})
    docs = list(timers)
    by_day: dict[date, list[Doc]] = defaultdict(list)
    for doc in docs:
        entry = entry_for(doc)
        by_day[doc["due_at"].date()].append(
            {**entry, "_id": f"entry/{entry['key']}", "home": doc["home"]}
        )
    await _insert_chunks(db, TIMERS, docs, chunk)
    for day, entries in by_day.items():
        await _insert_chunks(db, day_collection(day), entries, chunk)
    return len(docs)
