"""Intake's MongoDB collections. Every hot lookup is by a deterministic `_id` (FerretDB: only
`_id` filters use an index), and the one writer per dealer (Kafka partition) keeps read-then-write
updates safe without transactions.

- vehicles      `{dealer}/{vin}`            the vehicle file (D1), stored as one BSON binary
                                            but `_id` and `dealer_id` (`stored_file`)
- work_orders   `{dealer}/{work_order_id}`  revisions with content hashes, the event to publish
- deliveries    `{dealer}/{delivery_id}`    the same for new-car handovers
- plates        `{dealer}/{plate}`          → VINs (lookup by plate)
- phones        `{dealer}/{e164}`           → VINs (search by phone)
- rejections    rejection id               the rejected inbox (D5)
- published     `{collection}/{_id}`        the outbox's marks: how far a document's events are out
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aftersales_runtime.bulk import find_by_ids, insert_new, replace_all, write_each
from aftersales_runtime.packing import pack_document, unpack_document, unpack_fields
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_intake.domain.decisions import Pass
from aftersales_intake.domain.records import Kind

Doc = dict[str, Any]
RECORD_COLLECTIONS: dict[Kind, str] = {"workorder": "work_orders", "delivery": "deliveries"}
REJECTIONS = "rejections"
VEHICLES = "vehicles"
#: The vehicle file's fields stored as they are; the rest is one BSON binary (`pack_document`).
#: A file is read by `_id` only and always written whole, and FerretDB's cost of reading and
#: writing a document follows the number of values in it: a returning vehicle's file cost it
#: 0.8-1.0 ms to find and 0.75-1.0 ms to replace with 25 top-level values (its growing lists
#: as JSON text), 0.3-0.4 ms each packed (issue 19).
FILE_TOP_LEVEL = ("dealer_id",)
#: How files were stored before: their growing lists as one JSON text each (or as arrays,
#: before that). `read_file` reads every shape; a file takes the new one when next written.
PACKED_FILE_FIELDS = ("history", "revisions")


def stored_file(file: Doc) -> Doc:
    """A vehicle file as stored: one BSON binary but `FILE_TOP_LEVEL`."""
    return pack_document(file, FILE_TOP_LEVEL)


def read_file(doc: Doc) -> Doc:
    """A stored vehicle file as the domain sees it, whichever shape it was stored in."""
    return unpack_fields(unpack_document(doc), PACKED_FILE_FIELDS)


class IntakeStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def create_indexes(self) -> None:
        # Listing the inbox filters on these; the collection stays small (refusals only).
        await self.db.rejections.create_index([("dealer_id", 1), ("state", 1)])

    # --- one pass of the pipeline (a batch): bulk reads, then bulk writes ----------------

    async def read_files_and_rejections(
        self, vehicle_ids: Iterable[str], rejection_ids: Iterable[str]
    ) -> tuple[dict[str, Doc], dict[str, Doc]]:
        """The vehicle files and rejections a pass touches, keyed by `_id`."""
        vehicles, rejections = await asyncio.gather(
            find_by_ids(self.db, VEHICLES, vehicle_ids),
            find_by_ids(self.db, REJECTIONS, rejection_ids),
        )
        return {k: read_file(v) for k, v in vehicles.items()}, rejections

    async def records(self, kind: Kind, record_keys: Iterable[str]) -> dict[str, Doc]:
        return await find_by_ids(self.db, RECORD_COLLECTIONS[kind], record_keys)

    async def write_pass(self, done: Pass) -> set[str]:
        """Write what a pass decided: index entries, then vehicle files, then records and
        rejections, so a stored record implies its file and a stored file its index entries
        (a redelivery after a crash then ends exactly as a clean run). Returns the ids of new
        documents that were stored already (nothing of those was written: the caller decides
        again from what is stored now). At most two update commands of `UPDATES_PER_COMMAND`
        run at once (`aftersales_runtime.bulk`: FerretDB deadlocks a database on ~100
        concurrent update statements)."""
        await asyncio.gather(
            *(self._index(index, entries) for index, entries in done.new_index_entries().items())
        )  # plates and phones side by side: inserts, then chunked updates, one chunk each
        # New files are inserted (one command); a file another writer created meanwhile is
        # replaced by ours, which merged what was stored when the pass read it.
        new_files, known_files = (
            [stored_file(f) for f in files] for files in done.changed_vehicle_files()
        )
        taken = await insert_new(self.db, VEHICLES, new_files)
        await replace_all(
            self.db, VEHICLES, [*known_files, *(f for f in new_files if f["_id"] in taken)]
        )
        collection = RECORD_COLLECTIONS[done.kind]
        records, rejections = await asyncio.gather(
            insert_new(self.db, collection, done.new_records()),
            insert_new(self.db, REJECTIONS, done.new_rejections()),
        )
        await replace_all(self.db, collection, done.replaced_records())
        return records | rejections

    async def _index(self, index: str, entries: list[tuple[str, str, str]]) -> None:
        """A value seen for the first time is a new document (one insert command); one that
        another file already has gets the VIN added. Which ones are known is read first (one
        `$in`): FerretDB inserts a whole chunk one document at a time, each its own
        transaction, as soon as one of them collides."""
        vins: dict[str, list[str]] = {}
        dealers: dict[str, str] = {}
        for dealer, value, vin in entries:
            key = f"{dealer}/{value}"
            vins.setdefault(key, []).append(vin)
            dealers[key] = dealer
        stored = set(await find_by_ids(self.db, index, vins))
        docs = [
            {"_id": k, "vins": v, "dealer_id": dealers[k]}
            for k, v in vins.items()
            if k not in stored
        ]
        known = stored | await insert_new(self.db, index, docs)
        additions = [
            UpdateOne({"_id": key}, {"$addToSet": {"vins": {"$each": vins[key]}}}) for key in known
        ]
        await write_each(self.db, index, additions)

    # --- records (work orders, deliveries) -------------------------------------------------

    async def record(self, kind: Kind, record_key: str) -> Doc | None:
        return await self.db[RECORD_COLLECTIONS[kind]].find_one({"_id": record_key})

    # --- vehicle files ------------------------------------------------------------------------

    async def vehicle(self, dealer_id: str, vin: str) -> Doc | None:
        found = await self.db[VEHICLES].find_one({"_id": f"{dealer_id}/{vin}"})
        return read_file(found) if found else None

    async def save_vehicle(self, file: Doc, before: Doc | None = None) -> None:
        """Store one file (outside a pass), indexing the plates and phones it gained since
        ``before`` (all of them without it)."""
        await self.db[VEHICLES].replace_one({"_id": file["_id"]}, stored_file(file), upsert=True)
        dealer, vin = file["dealer_id"], file["vin"]
        for collection in ("plates", "phones"):
            known = set((before or {}).get(collection, []))
            for value in (v for v in file[collection] if v not in known):
                await self.db[collection].update_one(
                    {"_id": f"{dealer}/{value}"},
                    {"$addToSet": {"vins": vin}, "$set": {"dealer_id": dealer}},
                    upsert=True,
                )

    async def vins_by(self, index: str, dealer_id: str, value: str) -> list[str]:
        found = await self.db[index].find_one({"_id": f"{dealer_id}/{value}"})
        return list(found["vins"]) if found else []

    # --- rejected inbox (D5) ------------------------------------------------------------------

    async def rejection(self, rejection_id: str) -> Doc | None:
        return await self.db.rejections.find_one({"_id": rejection_id})

    async def list_rejections(
        self, dealer_id: str | None, state: str | None, limit: int, skip: int
    ) -> list[Doc]:
        query: Doc = {}
        if dealer_id:
            query["dealer_id"] = dealer_id
        if state:
            query["state"] = state
        cursor = self.db.rejections.find(query).sort("received_at", 1).skip(skip).limit(limit)
        return [doc async for doc in cursor]

    async def resolve_rejection(self, rejection_id: str, attempt: Doc, resolved: bool) -> None:
        update: Doc = {"$push": {"attempts": attempt}}
        if resolved:
            update["$set"] = {"state": "resolved"}
        await self.db.rejections.update_one({"_id": rejection_id}, update)
