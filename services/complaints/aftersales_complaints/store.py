"""The complaints service's MongoDB, designed around `_id` lookups (FerretDB indexes only `_id`).

- `tickets`: one document per ticket (`_id` = ticket id), the ticket with its history.
- `transitions`: `_id` = "{ticket}/{version}", the ticket after that transition and its events.
  Inserting it is the commit: the insert collides atomically on `_id`, so of two writers of the
  same version one wins and the other re-reads (no transactions needed). A ticket document that
  lags behind its last transition (a crash in between) is rolled forward when read.
- `published` (the runtime's outbox marks, `_id` = "tickets/{ticket}") and
  `pending_publications` (the runtime's relay): see `desk.py`.
- `deadlines`: `_id` = "deadline/{UTC hour}/{shard}", the tickets to look at in that hour, each
  ticket in one of the hour's DEADLINE_SHARDS documents (by its id): FerretDB reads and rewrites
  a whole document on every `$addToSet`, at a cost that follows its entries (measured with other
  work running: 2.6 ms into an empty bucket, 46 ms into one of 2,000), and every ticket opened
  at one moment waits for the same hour (the pipeline benchmark opens ~4,000). The sweep reads
  the hours from its watermark (`sweep` in `state`) to now, each hour's shards in one `$in`,
  never a query over the tickets. An hour's document written before shards
  (`deadline/{UTC hour}`) is read and dropped with them.
- `links`: `_id` = "vehicle/{dealer}/{vin}" (the vehicle's last ticket, D18) and
  "confirmation/{contact_id}" (which ticket a confirmation contact answers, D22).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aftersales_contracts import ComplaintEvent
from aftersales_runtime.bulk import find_by_ids, insert_new, replace_all, write_each
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_complaints.domain.ticket import Ticket
from aftersales_complaints.domain.transitions import Transition

Doc = dict[str, Any]
TICKETS = "tickets"  # the collection whose documents' events the outbox marks
OLD_OUTBOX = "outbox"  # before the runtime's outbox: moved to the relay on start
HOUR = timedelta(hours=1)
_DERIVED = ("_id", "overdue", "due_soon")
#: Documents an hour's deadlines are spread over (a ticket's is fixed by its id).
DEADLINE_SHARDS = 32


def transition_key(ticket_id: str, version: int) -> str:
    return f"{ticket_id}/{version}"


def _hour_id(moment: datetime) -> str:
    return "deadline/" + moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def bucket_id(moment: datetime, ticket_id: str) -> str:
    """The document a ticket's moment is filed in: its hour's shard for this ticket."""
    return f"{_hour_id(moment)}/{zlib.crc32(ticket_id.encode()) % DEADLINE_SHARDS}"


def hour_bucket_ids(hour: datetime) -> list[str]:
    """Every document of an hour: its shards and the one an earlier version filed in."""
    return [_hour_id(hour), *(f"{_hour_id(hour)}/{n}" for n in range(DEADLINE_SHARDS))]


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def hours_between(after: datetime, until: datetime) -> Iterator[datetime]:
    hour = _hour(after)
    while hour <= until:
        yield hour
        hour += HOUR


def _ticket(doc: Doc) -> Ticket:
    return Ticket.model_validate({k: v for k, v in doc.items() if k not in _DERIVED})


def ticket_document(ticket: Ticket) -> Doc:
    doc = ticket.model_dump(mode="python")
    for c in doc["compensations"]:
        c["amount"] = str(c["amount"])  # BSON has no Decimal of Python's kind; exact as text
    # Listing filters (a dealer's tickets: state, grade, owner, overdue, due soon).
    return {"_id": ticket.ticket_id, **doc, "overdue": ticket.overdue, "due_soon": ticket.due_soon}


class ComplaintsStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.tickets = db[TICKETS]
        self.transitions = db["transitions"]
        self.deadlines = db["deadlines"]
        self.state = db["state"]
        self.links = db["links"]

    async def create_indexes(self) -> None:
        # Listings filter by dealer; on MongoDB this index serves them, FerretDB scans.
        await self.tickets.create_index([("dealer_id", 1), ("opened_at", 1)])

    async def ticket(self, ticket_id: str) -> Ticket | None:
        """The ticket as of its last committed transition (rolled forward if it lags)."""
        return (await self.tickets_by_ids([ticket_id])).get(ticket_id)

    async def tickets_by_ids(self, ticket_ids: Sequence[str]) -> dict[str, Ticket]:
        """The tickets found among `ticket_ids`, each as of its last committed transition: one
        read of the documents and one of the transitions that would follow them; a ticket that
        lags behind (a crash between a commit's two writes) is rolled forward and stored."""
        docs = await find_by_ids(self.db, TICKETS, ticket_ids)
        found = {ticket_id: _ticket(doc) for ticket_id, doc in docs.items()}
        version = {
            ticket_id: found[ticket_id].version if ticket_id in found else 0
            for ticket_id in ticket_ids
        }
        following = await find_by_ids(
            self.db, "transitions", [transition_key(t, v + 1) for t, v in version.items()]
        )
        for later in following.values():
            ticket_id = later["ticket"]["ticket_id"]
            found[ticket_id] = await self._rolled_forward(found.get(ticket_id), later)
        return {ticket_id: found[ticket_id] for ticket_id in ticket_ids if ticket_id in found}

    async def _rolled_forward(self, ticket: Ticket | None, later: Doc) -> Ticket:
        history = ticket.history if ticket else []
        while True:
            # A transition keeps the ticket without its history, plus its own events: the
            # history is the earlier one followed by them (each event's JSON as published).
            history = [*history, *later["events"]]
            rolled = _ticket({**later["ticket"], "history": history})
            following = await self.transitions.find_one(
                {"_id": transition_key(rolled.ticket_id, rolled.version + 1)}
            )
            if following is None:
                break
            later = following
        await self.tickets.replace_one(
            {"_id": rolled.ticket_id}, ticket_document(rolled), upsert=True
        )
        return rolled

    async def commit(self, transition: Transition) -> bool:
        """Store one transition; False when another writer stored this version first."""
        return (await self.commit_all([transition]))[0]

    async def commit_all(self, transitions: Sequence[Transition]) -> list[bool]:
        """Store transitions (of different tickets), each False when another writer stored its
        version first: their inserts in one command (each collides atomically on its `_id`),
        then the tickets won and their next moments."""
        if len({t.ticket.ticket_id for t in transitions}) < len(transitions):
            raise ValueError("one transition per ticket in a commit (their order would be lost)")
        records: list[Doc] = [
            {
                "_id": transition_key(t.ticket.ticket_id, t.ticket.version),
                "ticket": {**ticket_document(t.ticket), "history": []},
                "events": [e.model_dump(mode="json") for e in t.events],
            }
            for t in transitions
        ]
        collided = await insert_new(self.db, "transitions", records)
        claimed = [record["_id"] not in collided for record in records]
        won = [t.ticket for t, ours in zip(transitions, claimed, strict=True) if ours]
        await replace_all(self.db, TICKETS, [ticket_document(ticket) for ticket in won])
        await self.file_deadlines(
            [(ticket.ticket_id, wake) for ticket in won if (wake := ticket.wakes_at()) is not None]
        )
        return claimed

    async def stored_events(self, key: str) -> list[ComplaintEvent] | None:
        """The events of a stored transition; None when it was never stored."""
        doc = await self.transitions.find_one({"_id": key})
        if doc is None:
            return None
        return [ComplaintEvent.model_validate(e) for e in doc["events"]]

    async def keys_left_in_the_old_outbox(self) -> list[str]:
        """Transitions an earlier version left unpublished in its own `outbox` collection (the
        service moves them to the relay's entries on start, then drops the collection)."""
        if OLD_OUTBOX not in await self.db.list_collection_names():
            return []
        return [doc["_id"] async for doc in self.db[OLD_OUTBOX].find({}, {"_id": 1})]

    async def drop_the_old_outbox(self) -> None:
        await self.db.drop_collection(OLD_OUTBOX)

    # --- the deadline buckets ---------------------------------------------------------------

    async def file_deadlines(self, moments: Sequence[tuple[str, datetime]]) -> None:
        """File each ticket for its moment: one `$addToSet` per bucket touched."""
        entries: dict[str, list[str]] = {}
        for ticket_id, at in moments:
            entries.setdefault(bucket_id(at, ticket_id), []).append(f"{at.isoformat()}|{ticket_id}")
        await write_each(
            self.db,
            self.deadlines.name,
            [
                UpdateOne(
                    {"_id": bucket}, {"$addToSet": {"entries": {"$each": added}}}, upsert=True
                )
                for bucket, added in entries.items()
            ],
        )

    async def due_between(self, after: datetime, until: datetime) -> list[str]:
        """Ticket ids filed for a moment in (after, until], in the order of their moments, by
        reading each hour's documents in one `$in`."""
        due: list[tuple[datetime, str]] = []
        for hour in hours_between(after, until):
            found = await find_by_ids(self.db, self.deadlines.name, hour_bucket_ids(hour))
            for doc in found.values():
                for entry in doc["entries"]:
                    at_text, ticket_id = entry.split("|", 1)
                    at = datetime.fromisoformat(at_text)
                    if after < at <= until:
                        due.append((at, ticket_id))
        return list(dict.fromkeys(ticket_id for _, ticket_id in sorted(due)))

    async def drop_buckets_before(self, after: datetime, until: datetime) -> None:
        for hour in hours_between(after, until - HOUR):
            # `_id: {$in}`: served from the index by the stack's FerretDB (sqlite-id-in.patch)
            await self.deadlines.delete_many({"_id": {"$in": hour_bucket_ids(hour)}})

    async def watermark(self) -> datetime | None:
        doc = await self.state.find_one({"_id": "sweep"})
        return doc["watermark"] if doc else None

    async def set_watermark(self, at: datetime) -> None:
        await self.state.replace_one(
            {"_id": "sweep"}, {"_id": "sweep", "watermark": at}, upsert=True
        )

    # --- links ------------------------------------------------------------------------------

    async def links_by_keys(self, keys: Iterable[str]) -> dict[str, Doc]:
        return await find_by_ids(self.db, self.links.name, keys)

    async def set_links(self, links: Iterable[Doc]) -> None:
        """Store links (each a document with its `_id`), replacing those there."""
        await replace_all(self.db, self.links.name, links)

    async def dealer_tickets(
        self, dealer_id: str, filters: Doc, skip: int, limit: int
    ) -> list[Ticket]:
        cursor = (
            self.tickets.find({"dealer_id": dealer_id, **filters})
            .sort([("opened_at", 1), ("_id", 1)])
            .skip(skip)
            .limit(limit)
        )
        return [_ticket(doc) async for doc in cursor]
