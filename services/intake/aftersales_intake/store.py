"""Intake's MongoDB collections. Every hot lookup is by a deterministic `_id` (FerretDB: only
`_id` filters use an index), and the one writer per dealer (Kafka partition) keeps read-then-write
updates safe without transactions.

- vehicles      `{dealer}/{vin}`            the vehicle file (D1)
- work_orders   `{dealer}/{work_order_id}`  revisions with content hashes, the event to publish
- deliveries    `{dealer}/{delivery_id}`    the same for new-car handovers
- plates        `{dealer}/{plate}`          → VINs (lookup by plate)
- phones        `{dealer}/{e164}`           → VINs (search by phone)
- rejections    rejection id               the rejected inbox (D5)
"""

from __future__ import annotations

from typing import Any

from aftersales_runtime.mongo import insert_once
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_intake.domain.records import Kind

Doc = dict[str, Any]
RECORD_COLLECTIONS: dict[Kind, str] = {"workorder": "work_orders", "delivery": "deliveries"}


class IntakeStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db

    async def create_indexes(self) -> None:
        # Listing the inbox filters on these; the collection stays small (refusals only).
        await self.db.rejections.create_index([("dealer_id", 1), ("state", 1)])

    # --- records (work orders, deliveries) -------------------------------------------------

    async def record(self, kind: Kind, record_key: str) -> Doc | None:
        return await self.db[RECORD_COLLECTIONS[kind]].find_one({"_id": record_key})

    async def insert_record(self, kind: Kind, doc: Doc) -> bool:
        return await insert_once(self.db, RECORD_COLLECTIONS[kind], doc)

    async def replace_record(self, kind: Kind, doc: Doc) -> None:
        await self.db[RECORD_COLLECTIONS[kind]].replace_one({"_id": doc["_id"]}, doc)

    async def mark_published(self, kind: Kind, record_key: str, revision: int) -> None:
        # $max: a late mark of revision n never hides an unpublished n+1. The filter is the _id
        # alone, the one FerretDB-SQLite serves from an index (any other key scans the table).
        await self.db[RECORD_COLLECTIONS[kind]].update_one(
            {"_id": record_key}, {"$max": {"published_revision": revision}}
        )

    # --- vehicle files ------------------------------------------------------------------------

    async def vehicle(self, dealer_id: str, vin: str) -> Doc | None:
        return await self.db.vehicles.find_one({"_id": f"{dealer_id}/{vin}"})

    async def save_vehicle(self, file: Doc) -> None:
        await self.db.vehicles.replace_one({"_id": file["_id"]}, file, upsert=True)
        dealer, vin = file["dealer_id"], file["vin"]
        for collection, values in (("plates", file["plates"]), ("phones", file["phones"])):
            for value in values:
                await self.db[collection].update_one(
                    {"_id": f"{dealer}/{value}"},
                    {"$addToSet": {"vins": vin}, "$set": {"dealer_id": dealer}},
                    upsert=True,
                )

    async def vins_by(self, index: str, dealer_id: str, value: str) -> list[str]:
        found = await self.db[index].find_one({"_id": f"{dealer_id}/{value}"})
        return list(found["vins"]) if found else []

    # --- rejected inbox (D5) ------------------------------------------------------------------

    async def insert_rejection(self, doc: Doc) -> bool:
        return await insert_once(self.db, "rejections", doc)

    async def rejection(self, rejection_id: str) -> Doc | None:
        return await self.db.rejections.find_one({"_id": rejection_id})

    async def mark_rejection_published(self, rejection_id: str) -> None:
        await self.db.rejections.update_one({"_id": rejection_id}, {"$set": {"published": True}})

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
