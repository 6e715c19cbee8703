"""The scheduler's MongoDB collections, designed around what FerretDB-SQLite really indexes.

Measured on the local FerretDB v1 (SQLite): an insert that collides on `_id` is checked by an
index (about 1 ms at any size); `{_id: value}` reads and updates use the index only with the
stack's build patch (deploy/local/ferretdb/patches; unpatched they scan, 60 ms at 50,000), and
every other filter — `{_id: {$gte, $lt}}`, `$in`, any second field — scans the table.
So the dispatcher never reads a collection that grows with pending timers:

- `due_{YYYYMMDD}` (one collection per UTC day): the entries of the timers due that day, each
  with the whole ContactDue payload, and the day's markers — `cancel/{timer}/{attempt}/{version}`
  (tombstones), `claim/{timer}/{attempt}` (who fires it) and `sent/{timer}/{attempt}`.
  One scan of a day's collection tells the dispatcher everything about that day; its cost is
  the number of timers due that day, whatever is pending on other days.
- `timers`: one document per planned contact, `_id` = f"{dealer}/{source}/{step}"; read and
  written only by the handlers (Kafka serialises them per dealer: single writer) and the API.
- `people`: `customer/{dealer}/{id}` and `vehicle/{dealer}/{vin}` (timer ids, opt-out, visits).
- `closing_days`: one document per day the dispatcher is closing (late entries go elsewhere).
- `marks`: `first_day` (the first day the dispatcher scans) and `watermark` (first day not yet
  settled): two documents.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

from aftersales_runtime.mongo import insert_once
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

Doc = dict[str, Any]

TIMERS = "timers"
MARKS = "marks"
PEOPLE = "people"
JOBS = "job_runs"
DUE_LISTS = "monthly_due_lists"
DAY_PREFIX = "due_"
CLOSING = "closing_days"


def day_collection(day: date) -> str:
    return f"{DAY_PREFIX}{day:%Y%m%d}"


def entry_key(timer_id: str, attempt: int, version: int) -> str:
    return f"{timer_id}/{attempt}/{version}"


class TimerStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self._first_day: date | None = None

    # --- timers (handlers and API only) ----------------------------------------------------
    async def insert_timer(self, doc: Doc) -> bool:
        return await insert_once(self.db, TIMERS, doc)

    async def timer(self, timer_id: str) -> Doc | None:
        return await self.db[TIMERS].find_one({"_id": timer_id})

    async def timers(self, timer_ids: list[str]) -> list[Doc]:
        # One indexed `_id` lookup each: `$in` would scan the whole collection on FerretDB-SQLite.
        found = await asyncio.gather(*(self.timer(timer_id) for timer_id in timer_ids))
        return [doc for doc in found if doc is not None]

    async def update_timer(
        self, timer_id: str, changes: Doc, trail: list[Doc] | None = None
    ) -> None:
        update: Doc = {"$set": changes} if changes else {}
        if trail:
            update["$push"] = {"trail": {"$each": trail}}
        if update:
            await self.db[TIMERS].update_one({"_id": timer_id}, update)

    # --- filing into day collections -----------------------------------------------------------
    async def first_day(self) -> date | None:
        if self._first_day is None:  # set once, never changed: read it once
            doc = await self.db[MARKS].find_one({"_id": "first_day"})
            self._first_day = date.fromisoformat(doc["day"]) if doc else None
        return self._first_day

    async def file_entry(self, entry: Doc, now: datetime) -> date:
        """File one (timer, attempt, version) where the dispatcher will find it; returns its
        home day (where its claim, sent mark and tombstone live).

        Write-then-check here against the dispatcher's close-then-read: one of the two always
        sees the other. If the day is closing (or before the first scanned day), the entry is
        filed again in a day still open; claims keep a timer listed twice firing once.
        """
        if self._first_day is None:
            await insert_once(self.db, MARKS, {"_id": "first_day", "day": now.date().isoformat()})
        first_day = await self.first_day()
        assert first_day is not None
        due_at: datetime = entry["due_at"]
        home = day = due_at.date()
        while True:
            doc = {**entry, "_id": f"entry/{entry['key']}", "home": home.isoformat()}
            await insert_once(self.db, day_collection(day), doc)
            if day >= first_day and not await self.is_closing(day):
                return home
            day = max(day + timedelta(days=1), now.date())

    async def cancel_entry(self, home: date, key: str) -> None:
        """A tombstone: the dispatcher skips this (timer, attempt, version) (D4, D13)."""
        await insert_once(self.db, day_collection(home), {"_id": f"cancel/{key}"})

    # --- dispatcher side -----------------------------------------------------------------------
    async def day_docs(self, day: date) -> list[Doc]:
        """Everything about one day in one scan of its (small) collection."""
        return await self.db[day_collection(day)].find({}).to_list(None)

    async def is_closing(self, day: date) -> bool:
        # In their own small collection: a read of a day's collection would scan its entries.
        return await self.db[CLOSING].find_one({"_id": day.isoformat()}) is not None

    async def start_closing(self, day: date) -> None:
        await insert_once(self.db, CLOSING, {"_id": day.isoformat()})

    async def watermark(self) -> date | None:
        doc = await self.db[MARKS].find_one({"_id": "watermark"})
        return date.fromisoformat(doc["day"]) if doc else None

    async def set_watermark(self, day: date) -> None:
        # Replicas may overwrite each other with an older day: that only costs a re-scan.
        if not await insert_once(self.db, MARKS, {"_id": "watermark", "day": day.isoformat()}):
            await self.db[MARKS].update_one(
                {"_id": "watermark"}, {"$set": {"day": day.isoformat()}}
            )

    async def claim(
        self, home: date, timer_id: str, attempt: int, owner: str, now: datetime
    ) -> bool:
        return await insert_once(
            self.db,
            day_collection(home),
            {"_id": f"claim/{timer_id}/{attempt}", "owner": owner, "claimed_at": now},
        )

    async def marker(self, home: date, marker_id: str) -> Doc | None:
        return await self.db[day_collection(home)].find_one({"_id": marker_id})

    async def take_over_claim(
        self, home: date, timer_id: str, attempt: int, owner: str, now: datetime
    ) -> None:
        await self.db[day_collection(home)].update_one(
            {"_id": f"claim/{timer_id}/{attempt}"},
            {"$set": {"owner": owner, "claimed_at": now}},
        )

    async def mark_sent(
        self, days: set[date], timer_id: str, attempt: int, event_id: str, now: datetime
    ) -> None:
        for day in days:
            await insert_once(
                self.db,
                day_collection(day),
                {"_id": f"sent/{timer_id}/{attempt}", "event_id": event_id, "sent_at": now},
            )

    # --- people (customer and vehicle indexes) ---------------------------------------------
    async def person(self, key: str) -> Doc | None:
        return await self.db[PEOPLE].find_one({"_id": key})

    async def link_timer(self, key: str, timer_id: str) -> None:
        await self._upsert(PEOPLE, key, {"$addToSet": {"timer_ids": timer_id}})

    async def record_visit(self, key: str, visit: Doc, changes: Doc) -> None:
        # Visits are objects, not pairs: FerretDB v1 refuses nested arrays.
        await self._upsert(PEOPLE, key, {"$addToSet": {"visits": visit}, "$set": changes})

    async def set_person(self, key: str, changes: Doc) -> None:
        await self._upsert(PEOPLE, key, {"$set": changes})

    async def _upsert(self, collection: str, key: str, update: Doc) -> None:
        # Two first upserts of one `_id` can collide on FerretDB: the loser updates instead.
        try:
            await self.db[collection].update_one({"_id": key}, update, upsert=True)
        except DuplicateKeyError:
            await self.db[collection].update_one({"_id": key}, update)

    # --- periodic job runs ---------------------------------------------------------------------
    async def claim_job_run(
        self, job: str, period: str, owner: str, now: datetime, lease: timedelta
    ) -> bool:
        """One replica per periodic job run: the first insert wins; a run left unfinished
        (its runner died) is taken over once the lease is over."""
        key = f"{job}/{period}"
        if await insert_once(self.db, JOBS, {"_id": key, "owner": owner, "claimed_at": now}):
            return True
        run = await self.db[JOBS].find_one({"_id": key})
        if run is None or run.get("finished") or not lease_expired(run, now, lease):
            return False
        await self.db[JOBS].update_one({"_id": key}, {"$set": {"owner": owner, "claimed_at": now}})
        return True

    async def finish_job_run(self, job: str, period: str) -> None:
        await self.db[JOBS].update_one({"_id": f"{job}/{period}"}, {"$set": {"finished": True}})

    # --- D12 monthly due-maintenance lists -----------------------------------------------------
    async def due_list(self, dealer_id: str, month: str) -> Doc | None:
        return await self.db[DUE_LISTS].find_one({"_id": f"{dealer_id}/{month}"})

    async def save_due_list(
        self, dealer_id: str, month: str, entries: list[Doc], now: datetime
    ) -> None:
        await insert_once(
            self.db,
            DUE_LISTS,
            {
                "_id": f"{dealer_id}/{month}",
                "dealer_id": dealer_id,
                "month": month,
                "built_at": now,
                "vehicles": entries,
            },
        )


def customer_key(dealer_id: str, customer_id: str) -> str:
    return f"customer/{dealer_id}/{customer_id}"


def vehicle_key(dealer_id: str, vin: str) -> str:
    return f"vehicle/{dealer_id}/{vin}"


def lease_expired(claim: Doc, now: datetime, lease: timedelta) -> bool:
    claimed_at: datetime = claim["claimed_at"]
    return claimed_at + lease <= now
