"""The read models' storage: counter documents changed exactly once per event (D23-D27).

Every figure of every report lives in a few documents keyed by `_id` (FerretDB serves only an
exact `{_id: value}` filter from an index), in a fixed set of collections:

- `counters`: one document per source, dealer and period (`R/{dealer}/{2026-11}`), changed with
  `$inc` by one update statement per document and pass, and the drill-down rows of a day: an
  index (`RR/{dealer}/{2026-11}/{day}`, `pages`: the ids of its pages) and its pages
  (`RR/…/{day}/{topic:partition}/{n}`, `rows`), each holding the rows of the records at offsets
  `n × PAGE_ROWS` to `(n + 1) × PAGE_ROWS - 1` of one partition, so at most PAGE_ROWS. FerretDB
  reads and rewrites a whole document on every `$push`, at a cost that follows its number of
  values (measured: 3 ms a push to an empty page, 58 ms to a page of 3,000 rows, 113 ms to one
  of 6,000; the pipeline benchmark's busy day is thousands of results a dealer): a page's size,
  not its day's, is what a pass pays. Each row is one BSON binary value (`packing.pack_bson`).
  Pages are not guarded (1. below): a page's number comes from its record's offset, so a
  redelivered record pushes to the same page, and its row (which carries its event id) is
  dropped when read. A day document written before pages holds its rows itself (still read);
- `entities`: the state a projection needs across events (a ticket, a vehicle, a contact's masked
  phone), replaced whole; every transition is idempotent (it sets, never adds);
- `seen`: one marker per consumed event (`_id` = event id) with where it was read.

Exactly once without transactions, the two ways an event can come twice:
1. **redelivery** of the same record (a crash before the consumer committed): each counter
   document keeps, per topic partition, the highest offset it has absorbed (`offsets`), and the
   update adds only records above it. A dealer's events are on one partition (the key is the
   dealer id) and each document is written by one topic's subscriber, so there is one writer
   per document. Counters are written before entities, so a pass that died in between is
   recomputed from the same entity state and the counters take only what they lacked;
2. **a republished event** (the relay publishes a stored event again: same event id, another
   offset): its marker collides with one written by another record, so it is dropped. A marker
   written by this very record (same topic, partition and offset) means a redelivery (1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aftersales_runtime.batches import Received
from aftersales_runtime.bulk import find_by_ids, insert_new, replace_all, write_each
from aftersales_runtime.packing import pack_bson, unpack_bson
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
COUNTERS = "counters"
ENTITIES = "entities"
SEEN = "seen"
COLLECTIONS = (COUNTERS, ENTITIES, SEEN)
#: Drill-down rows per page (the records of PAGE_ROWS consecutive offsets of one partition).
PAGE_ROWS = 200


def unpack_row(stored: Any) -> Doc:
    """A stored row (packed by `pack_bson`, or a sub-document written before packing)."""
    if isinstance(stored, bytes):
        return unpack_bson(stored)
    return dict(stored)


def key_part(value: str) -> str:
    """A staff id or a code as one component of a dotted field path ('.', '$' escaped)."""
    return value.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def where(record: Received) -> str:
    """The field name of a record's topic partition in `offsets` (no dots)."""
    return key_part(f"{record.topic}:{record.partition}")


def page_id(day_id: str, record: Received) -> str:
    """The page of a day's rows that the record's row goes to: the same on a redelivery."""
    return f"{day_id}/{where(record)}/{record.offset // PAGE_ROWS}"


def _page_order(page: str) -> tuple[str, int]:
    """A day's pages in the order their rows were written: by partition, then by offset."""
    _, partition, number = page.rsplit("/", 2)
    return partition, int(number)


@dataclass
class Change:
    """What one event adds to one counter document (`inc`, `names`: guarded by the document's
    offsets), or the drill-down rows it adds to a day (`push`, `doc_id` the day's index: not
    guarded, a row pushed twice carries its event id and is dropped when read, so its page
    needs no read before its write)."""

    doc_id: str
    inc: dict[str, int] = field(default_factory=dict)
    push: list[Doc] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # `$set`: display names of staff

    def add(self, path: str, amount: int = 1) -> None:
        self.inc[path] = self.inc.get(path, 0) + amount


@dataclass
class Contribution:
    """Everything one record changes."""

    record: Received
    changes: list[Change]


class Ledger:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def first_seen(self, records: Sequence[tuple[Received, str]]) -> list[Received]:
        """The records (with their event ids) not already consumed from another record."""
        markers: list[Doc] = [
            {"_id": event_id, "at": where(record), "offset": record.offset}
            for record, event_id in records
        ]
        unique: dict[str, Doc] = {}
        for marker in markers:
            unique.setdefault(marker["_id"], marker)
        collided = await insert_new(self.db, SEEN, list(unique.values()))
        found = await find_by_ids(self.db, SEEN, collided) if collided else {}
        kept: list[Received] = []
        for (record, event_id), marker in zip(records, markers, strict=True):
            owner = found.get(event_id) or unique[event_id]
            if (owner["at"], owner["offset"]) == (marker["at"], marker["offset"]):
                kept.append(record)
        return kept

    async def apply(self, contributions: Iterable[Contribution]) -> None:
        """Add every change to its document unless that document already absorbed its record."""
        by_doc: dict[str, list[tuple[Received, Change]]] = defaultdict(list)
        for contribution in contributions:
            for change in contribution.changes:
                by_doc[change.doc_id].append((contribution.record, change))
        if not by_doc:
            return
        guarded = [d for d, items in by_doc.items() if not items[0][1].push]
        current = await find_by_ids(self.db, COUNTERS, guarded)
        writes: list[UpdateOne] = []
        for doc_id, items in by_doc.items():
            if items[0][1].push:
                writes += _page_writes(doc_id, items)
                continue
            absorbed: dict[str, int] = (current.get(doc_id) or {}).get("offsets", {})
            inc: dict[str, int] = defaultdict(int)
            names: dict[str, str] = {}
            highest: dict[str, int] = {}
            for record, change in items:
                at = where(record)
                if record.offset <= absorbed.get(at, -1):
                    continue  # D23: a redelivered record counts once
                for path, amount in change.inc.items():
                    inc[path] += amount
                names.update(change.names)
                highest[at] = max(highest.get(at, -1), record.offset)
            if not highest:
                continue
            update: Doc = {"$max": {f"offsets.{at}": offset for at, offset in highest.items()}}
            if inc:
                update["$inc"] = dict(inc)
            if names:
                update["$set"] = names
            writes.append(UpdateOne({"_id": doc_id}, update, upsert=True))
        await write_each(self.db, COUNTERS, writes)

    async def read(self, ids: Iterable[str]) -> dict[str, Doc]:
        return await find_by_ids(self.db, COUNTERS, ids)

    async def day_rows(self, day_ids: Iterable[str]) -> list[Any]:
        """The stored rows of the days (indexes by `_id`), day after day, each day's in the
        order they were written: two reads by `_id`, whatever the number of pages."""
        days = await find_by_ids(self.db, COUNTERS, day_ids)
        listed = {d: sorted(days[d].get("pages", []), key=_page_order) for d in sorted(days)}
        pages = await find_by_ids(self.db, COUNTERS, (p for ps in listed.values() for p in ps))
        rows: list[Any] = []
        for day_id, page_ids in listed.items():
            rows += days[day_id].get("rows", [])  # a day written before pages
            for page in page_ids:
                rows += pages.get(page, {}).get("rows", [])
        return rows

    async def entities(self, ids: Iterable[str]) -> dict[str, Doc]:
        return await find_by_ids(self.db, ENTITIES, ids)

    async def keep_entities(self, docs: Iterable[Doc]) -> None:
        await replace_all(self.db, ENTITIES, docs)

    async def add_entities(self, docs: Sequence[Doc]) -> None:
        """Entities written once and never changed (a contact's masked phone)."""
        await insert_new(self.db, ENTITIES, docs)


def _page_writes(day_id: str, items: list[tuple[Received, Change]]) -> list[UpdateOne]:
    """A day's new rows: its index names their pages, each page gets its rows (a pass cut
    short between the two is delivered again and writes both)."""
    rows: defaultdict[str, list[Doc]] = defaultdict(list)
    for record, change in items:
        rows[page_id(day_id, record)].extend(change.push)
    index = UpdateOne({"_id": day_id}, {"$addToSet": {"pages": {"$each": list(rows)}}}, upsert=True)
    return [
        index,
        *(
            UpdateOne(
                {"_id": page},
                {"$push": {"rows": {"$each": [pack_bson(row) for row in pushed]}}},
                upsert=True,
            )
            for page, pushed in rows.items()
        ),
    ]
