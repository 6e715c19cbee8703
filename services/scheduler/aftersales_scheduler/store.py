"""The scheduler's MongoDB: the planning store (the use cases' `PlanningStore`), the reads of
the HTTP API and the periodic jobs' bookkeeping. The layout is `filing`'s; the time line is
`timeline`'s. Every hot read and write is addressed by `_id`, in bulk.

`timers` and `people` are written only by the use cases, one dealer at a time (Kafka
partition = dealer): a single writer per document, which keeps them right without transactions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime, timedelta

from aftersales_runtime.bulk import find_by_ids, write_each
from aftersales_runtime.mongo import insert_once
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_scheduler import filing
from aftersales_scheduler.filing import CONTACTS, DUE_LISTS, JOBS, PEOPLE, TIMERS, Doc
from aftersales_scheduler.planning.contacts import customer_key, vehicle_key
from aftersales_scheduler.planning.ports import Archive, Changes, PersonUpdate
from aftersales_scheduler.timeline import TimeLine, insert_all

__all__ = ["Doc", "TimerStore", "customer_key", "lease_expired", "vehicle_key"]


class TimerStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.timeline = TimeLine(db)

    # --- the use cases' store ------------------------------------------------------------------
    async def find_timers(self, timer_ids: Collection[str]) -> dict[str, Doc]:
        return await self._find(TIMERS, timer_ids, filing.read_packed)

    async def find_people(self, keys: Collection[str]) -> dict[str, Doc]:
        return await self._find(PEOPLE, keys, filing.read_person)

    async def _find(
        self, collection: str, ids: Collection[str], read: Callable[[Doc], Doc]
    ) -> dict[str, Doc]:
        """Documents by `_id`, in bulk, as the planner sees them (`read`: unpacked)."""
        found = await find_by_ids(self.db, collection, ids)
        return {k: read(doc) for k, doc in found.items()}

    async def find_sent(self, attempts: Collection[tuple[str, int]]) -> set[tuple[str, int]]:
        ids = {filing.sent_id(tid, attempt): (tid, attempt) for tid, attempt in attempts}
        return {ids[i] for i in await self.timeline.markers(ids)}

    async def find_started(self, event_ids: Collection[str]) -> set[str]:
        ids = {filing.planning_id(event_id): event_id for event_id in event_ids}
        return {ids[i] for i in await self.timeline.markers(ids)}

    async def apply(self, changes: Changes, now: datetime) -> None:
        """Write a batch's changes in the order `Changes` documents (each step idempotent)."""
        await asyncio.gather(
            self.timeline.insert_markers(
                [{"_id": filing.planning_id(event_id)} for event_id in changes.started]
            ),
            insert_all(
                self.db, CONTACTS, [filing.stored_contact(c) for c in changes.contacts.values()]
            ),
        )
        tombstones = [{"_id": filing.cancel_id(key)} for key in changes.tombstones]
        await self.timeline.insert_markers(tombstones)
        await self.timeline.file(changes.entries, now)
        await insert_all(
            self.db, TIMERS, [filing.stored_timer(t) for t in changes.new_timers.values()]
        )
        await write_each(
            self.db,
            TIMERS,
            [
                UpdateOne({"_id": tid}, _update(update.set, update.trail))
                for tid, update in changes.timer_updates.items()
                if update.set or update.trail
            ],
        )
        await self.index_birthdays(changes.birthdays)
        await self._write_people(changes)
        await self._archive(changes.archived)

    async def index_birthdays(self, birthdays: dict[str, list[str]]) -> None:
        """Add customers to the birthday index (sequence -> customer keys): buckets inserted
        after the last, so a write costs what it adds, not the customers born that day."""
        await self.timeline.append({s: filing.chunks(keys) for s, keys in birthdays.items()})

    async def _write_people(self, changes: Changes) -> None:
        # New people in one bulk insert; the others (and one that appeared since it was read)
        # in bulk updates: concurrent single updates made FerretDB's SQLite writers wait on
        # each other (83 ms per update with a history, against 14.8 ms per bulk command of
        # about 17 updates).
        new = [(k, p) for k, p in changes.people.items() if p.new]
        taken = {
            new[i][0]
            for i in await insert_all(
                self.db, PEOPLE, [filing.stored_person(p.document(k)) for k, p in new]
            )
        }
        await write_each(
            self.db,
            PEOPLE,
            [
                UpdateOne({"_id": key}, _person_update(person))
                for key, person in changes.people.items()
                if (not person.new or key in taken) and (person.set or person.add)
            ],
        )

    async def _archive(self, archived: dict[str, Archive]) -> None:
        """Settled timers out of their files: into the archive first, then pulled (`$pullAll`:
        only these ids and visits, so a link or a visit another use case adds meanwhile
        stays)."""
        await self.timeline.append(
            {filing.archive_sequence(k): filing.chunks(a.timer_ids) for k, a in archived.items()}
        )
        await write_each(
            self.db,
            PEOPLE,
            [UpdateOne({"_id": key}, _pull(archive)) for key, archive in archived.items()],
        )

    async def linked_timer_ids(self, person: Doc) -> list[str]:
        """Every timer a file ever linked: its archive's and its own (the decision trail)."""
        buckets, _ = await self.timeline.read(filing.archive_sequence(person["_id"]), 0)
        return filing.linked_timer_ids(person, [tid for bucket in buckets for tid in bucket])

    async def contacts(self, contact_ids: Collection[str]) -> dict[str, Doc]:
        """Contact data by id (the dispatcher, when entries fire)."""
        return await self._find(CONTACTS, contact_ids, filing.read_packed)

    async def load(
        self, timers: list[Doc], first_day: date, contacts: Sequence[Doc] = (), chunk: int = 5000
    ) -> int:
        """Store timers (and the contact data they name) as the planner would, in bulk (history
        loaders, benchmarks, tests); returns how many. Pending ones are filed on the time line;
        call `finish_load` after the last one."""
        await self.timeline.ensure_first_day(first_day)
        for start in range(0, len(contacts), chunk):
            await insert_all(
                self.db,
                CONTACTS,
                [filing.stored_contact(c) for c in contacts[start : start + chunk]],
            )
        docs = [{**t, "filed_key": filing.filing_key(t)} for t in timers]
        await self.timeline.load([filing.entry_for(d) for d in docs if d["state"] == "pending"])
        for start in range(0, len(docs), chunk):
            await insert_all(
                self.db, TIMERS, [filing.stored_timer(t) for t in docs[start : start + chunk]]
            )
        return len(docs)

    async def finish_load(self) -> None:
        """After the last `load`: the time line's hints where a planner's would be."""
        await self.timeline.finish_load()

    async def load_people(self, people: list[Doc], chunk: int = 5000) -> None:
        """Store people files in bulk (history loaders)."""
        for start in range(0, len(people), chunk):
            await insert_all(
                self.db, PEOPLE, [filing.stored_person(p) for p in people[start : start + chunk]]
            )

    # --- the HTTP API --------------------------------------------------------------------------
    async def timer(self, timer_id: str) -> Doc | None:
        return (await self.find_timers([timer_id])).get(timer_id)

    async def timers(self, timer_ids: list[str]) -> list[Doc]:
        found = await self.find_timers(timer_ids)
        return [found[i] for i in dict.fromkeys(timer_ids) if i in found]

    async def person(self, key: str) -> Doc | None:
        return (await self.find_people([key])).get(key)

    async def sent_marks(self, timer: Doc) -> dict[int, Doc]:
        """The `sent` marker of each attempt of a timer that went out."""
        attempts = range(1, timer["attempt"] + 1)
        found = await self.timeline.markers(filing.sent_id(timer["_id"], a) for a in attempts)
        return {
            a: found[filing.sent_id(timer["_id"], a)]
            for a in attempts
            if filing.sent_id(timer["_id"], a) in found
        }

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

    async def people_matching(self, query: Doc) -> list[Doc]:
        """A scan of `people`: for the periodic jobs only (daily / monthly), never a hot path."""
        return [filing.read_person(doc) for doc in await self.db[PEOPLE].find(query).to_list(None)]

    async def birthday_customers(self, dealer_id: str, month_days: Collection[str]) -> list[str]:
        """The keys of the customers the birthday index lists for these days (`MM-DD`): its
        buckets, and the one document per day that `people` held before them."""
        sequences = [filing.birthday_sequence(dealer_id, md) for md in month_days]
        before = await find_by_ids(self.db, PEOPLE, sequences)
        keys = [key for doc in before.values() for key in doc["customers"]]
        for sequence in sequences:
            buckets, _ = await self.timeline.read(sequence, 0)
            keys += [key for bucket in buckets for key in bucket]
        return list(dict.fromkeys(keys))

    async def last_run_day(self, job: str) -> date | None:
        """The day of a daily job's last finished run (`job_runs/{job}/last`)."""
        found = await self.db[JOBS].find_one({"_id": f"{job}/last"})
        return date.fromisoformat(found["day"]) if found else None

    async def record_run_day(self, job: str, day: date) -> None:
        await self.db[JOBS].update_one(
            {"_id": f"{job}/last"}, {"$set": {"day": day.isoformat()}}, upsert=True
        )

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


def _update(fields: Doc, trail: list[Doc]) -> Doc:
    update: Doc = {"$set": fields} if fields else {}
    if trail:
        update["$push"] = {"trail": {"$each": trail}}
    return update


def _pull(archive: Archive) -> Doc:
    pulled: Doc = {filing.LINKED: archive.timer_ids, filing.SETTLED: archive.timer_ids}
    if archive.visits:
        pulled["visits"] = archive.visits
    return {"$pullAll": pulled}


def _person_update(person: PersonUpdate) -> Doc:
    update: Doc = {"$set": filing.stored_person(person.set)} if person.set else {}
    if person.add:
        update["$addToSet"] = {field: {"$each": values} for field, values in person.add.items()}
    return update


def lease_expired(claim: Doc, now: datetime, lease: timedelta) -> bool:
    claimed_at: datetime = claim["claimed_at"]
    return claimed_at + lease <= now
