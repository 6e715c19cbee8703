"""A batch's working set: what its use case read (by `_id`, in bulk), the decisions applied to
it in memory, and the `Changes` they add up to — written once, at the end (`write`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import datetime

from aftersales_contracts.events import ContactPurpose

from aftersales_scheduler.domain.plan import OtherContact
from aftersales_scheduler.domain.timer import LIVE, Transition, is_pending, is_settled
from aftersales_scheduler.filing import (
    SETTLED,
    archive_of,
    entry_for,
    filing_key,
    live_timer_ids,
    visits_between,
)
from aftersales_scheduler.planning.ports import (
    Archive,
    Changes,
    Doc,
    PersonUpdate,
    PlanningStore,
    TimerUpdate,
)


class WorkingSet:
    def __init__(self, store: PlanningStore, now: datetime) -> None:
        self.store = store
        self.now = now
        self.changes = Changes()
        self._timers: dict[str, Doc | None] = {}
        self._people: dict[str, Doc | None] = {}
        self._read_people: dict[str, Doc] = {}  # as read (`_people` holds them as decided)
        self._sent: set[tuple[str, int]] = set()
        self._contacts: dict[str, Doc] = {}
        self._others: dict[str, OtherContact] = {}  # timer id -> as D13 sees it (see others_of)

    # --- reading (before deciding) -------------------------------------------------------------
    async def load_plans(
        self,
        plans: dict[str, list[str]],
        person_keys: Iterable[str],
        always: Iterable[str] = (),
    ) -> None:
        """Before planning events (event id -> the timer ids it plans): the people, the timers
        they link to, and the planned timers of the events a batch started before (or listed
        in `always`, e.g. corrections); the others' cannot exist yet (see `Changes`). Which
        events were started is read with the people: three waves of reads, as `load`."""
        self.changes.started = list(plans)
        started, people = await asyncio.gather(
            self._fetch_started(list(plans)), self._fetch_people(person_keys)
        )
        again = started | set(always)
        planned = [tid for event_id, ids in plans.items() if event_id in again for tid in ids]
        found = await self._fetch_timers([*planned, *_linked(people)])
        await self._fetch_sent(found.values())

    async def load(self, timer_ids: Iterable[str] = (), person_keys: Iterable[str] = ()) -> None:
        """Read timers and people not read yet, the timers the people link to (but the settled
        ones, `filing.live_timer_ids`), and which of the pending ones already went out: three
        waves of `$in` reads by `_id`."""
        timers, people = await asyncio.gather(
            self._fetch_timers(timer_ids), self._fetch_people(person_keys)
        )
        linked = await self._fetch_timers(_linked(people))
        await self._fetch_sent([*timers.values(), *linked.values()])

    async def _fetch_started(self, event_ids: list[str]) -> set[str]:
        return await self.store.find_started(event_ids) if event_ids else set()

    async def _fetch_people(self, person_keys: Iterable[str]) -> dict[str, Doc]:
        keys = [k for k in dict.fromkeys(person_keys) if k not in self._people]
        people = await self.store.find_people(keys) if keys else {}
        self._people.update({k: people.get(k) for k in keys})
        self._read_people.update(people)
        return people

    async def _fetch_timers(self, timer_ids: Iterable[str]) -> dict[str, Doc]:
        ids = [i for i in dict.fromkeys(timer_ids) if i not in self._timers]
        timers = await self.store.find_timers(ids) if ids else {}
        self._timers.update({i: timers.get(i) for i in ids})
        return timers

    async def _fetch_sent(self, timers: Iterable[Doc]) -> None:
        """Which of these timers, pending and due, already went out (`was_sent`)."""
        due = [
            (t["_id"], t["attempt"]) for t in timers if is_pending(t) and t["due_at"] <= self.now
        ]
        if due:
            self._sent |= await self.store.find_sent(due)

    # --- what the decisions see -------------------------------------------------------------
    async def load_contacts(self, contact_ids: Iterable[str]) -> None:
        """Contact data timers name, for the use cases that derive new contact data from it
        (D30 corrections) or plan from it (D22 confirmations of files planned before the
        vehicle kept its own)."""
        ids = [i for i in dict.fromkeys(contact_ids) if i not in self._contacts]
        if ids:
            self._contacts.update(await self.store.contacts(ids))

    def contact(self, contact_id: str) -> Doc | None:
        """Contact data read by `load_contacts` or added by this batch."""
        return self.changes.contacts.get(contact_id) or self._contacts.get(contact_id)

    def timer(self, timer_id: str) -> Doc | None:
        return self._timers.get(timer_id)

    def timers_of(self, person: Doc) -> list[Doc]:
        """The person's timers a decision may need (read, or added by this batch)."""
        return [t for i in live_timer_ids(person) if (t := self._timers.get(i)) is not None]

    def others_of(self, person: Doc) -> list[OtherContact]:
        """The person's contacts that count for D13 (`LIVE`), as `decide` sees them: each made
        once per batch and again only when its timer changes (a work order's every new contact
        is checked against all of them)."""
        others = []
        for timer in self.timers_of(person):
            if timer["state"] not in LIVE:
                continue
            other = self._others.get(timer["_id"])
            if other is None:
                other = self._others[timer["_id"]] = OtherContact(
                    timer_id=timer["_id"],
                    due_at=timer["due_at"],
                    pending=is_pending(timer),
                    purposes=tuple(ContactPurpose(p) for p in timer["purposes"]),
                )
            others.append(other)
        return others

    def person(self, key: str) -> Doc:
        return self._people.get(key) or {"_id": key}

    def was_sent(self, timer: Doc) -> bool:
        return (timer["_id"], timer["attempt"]) in self._sent

    # --- writing ----------------------------------------------------------------------------
    async def write(self) -> None:
        """The batch's changes, once. A file's update keeps only what differs from the file as
        read (a redelivered batch writes nothing), and marks the timers the file links that no
        decision needs any more (`domain.timer.is_settled`), so later batches neither read nor
        weigh them: no write of its own, whatever the history; past `filing.ARCHIVE_AFTER` of
        them, they move to the file's archive (`Changes.archived`)."""
        for key, update in list(self.changes.people.items()):
            read = self._read_people.get(key)
            if update.new or read is None:
                continue
            update.set = {k: v for k, v in update.set.items() if k not in read or read[k] != v}
            if update.set or update.add:
                self._settle_links(key)
            else:
                del self.changes.people[key]
            # Also when nothing else changed: a batch cut short before it archived does now.
            if archived := archive_of(self.person(key)):
                self.changes.archived[key] = Archive(archived, visits_between(self.person(key)))
        await self.store.apply(self.changes, self.now)

    def _settle_links(self, key: str) -> None:
        person = self.person(key)
        if "vin" in person and "contact_data" not in person:
            return  # its latest contact stands in for the contact data it lacks
        for timer in self.timers_of(person):
            if is_settled(timer, self.now):
                self.add_to_person(key, SETTLED, timer["_id"])

    # --- decisions --------------------------------------------------------------------------
    def add_timer(self, doc: Doc) -> None:
        """A new timer (inserted once); a pending one is filed under its first key."""
        if is_pending(doc):
            doc["filed_key"] = filing_key(doc)
            self.changes.entries.append(entry_for(doc))
        self._timers[doc["_id"]] = doc
        self.changes.new_timers[doc["_id"]] = doc

    def add_contact(self, doc: Doc) -> None:
        """Contact data timers of this batch name (inserted once; a redelivery's collides)."""
        self.changes.contacts.setdefault(doc["_id"], doc)

    def apply(self, transition: Transition | None) -> None:
        if transition is None:
            return
        timer = self._timers[transition.timer_id]
        assert timer is not None
        if transition.withdraw and timer.get("filed_key"):
            self.changes.tombstones.append(timer["filed_key"])
        changes = dict(transition.changes)
        timer.update(changes)
        self._others.pop(timer["_id"], None)
        timer["trail"] = [*timer.get("trail", []), *transition.trail]
        if transition.refile:
            changes["filed_key"] = timer["filed_key"] = filing_key(timer)
            self.changes.entries.append(entry_for(timer))
        if timer["_id"] in self.changes.new_timers:
            return  # still to be inserted: the document above carries the change
        update = self.changes.timer_updates.setdefault(timer["_id"], TimerUpdate())
        update.set.update(changes)
        update.trail.extend(transition.trail)

    def set_person(self, key: str, fields: Doc) -> None:
        update = self._person_update(key)
        person = self._people.get(key) or {"_id": key}
        self._people[key] = {**person, **fields}
        update.set.update(fields)

    def add_to_person(self, key: str, field: str, value: object) -> None:
        """$addToSet: a value already there changes nothing (and is not written)."""
        person = self._people.get(key) or {"_id": key}
        if value in person.get(field, []):
            return
        update = self._person_update(key)
        self._people[key] = {**person, field: [*person.get(field, []), value]}
        update.add.setdefault(field, []).append(value)

    def add_birthday(self, sequence: str, customer_key: str) -> None:
        """Index a customer under their birthday (`filing.birthday_sequence`)."""
        keys = self.changes.birthdays.setdefault(sequence, [])
        if customer_key not in keys:
            keys.append(customer_key)

    def _person_update(self, key: str) -> PersonUpdate:
        if key not in self.changes.people:
            self.changes.people[key] = PersonUpdate(new=self._people.get(key) is None)
        return self.changes.people[key]


def _linked(people: dict[str, Doc]) -> list[str]:
    """The timers these files link to that a decision may still need (`live_timer_ids`)."""
    return [tid for person in people.values() for tid in live_timer_ids(person)]
