"""The complaints service's MongoDB: one recovery ticket per contact result (D18)."""

from __future__ import annotations

from typing import Any

from aftersales_runtime.mongo import insert_once
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]


class ComplaintsStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.tickets = db["tickets"]

    async def create_indexes(self) -> None:
        # Listings filter by dealer; on MongoDB this index serves them, FerretDB scans.
        await self.tickets.create_index([("dealer_id", 1), ("opened_at", 1)])

    async def ticket(self, ticket_id: str) -> Doc | None:
        return await self.tickets.find_one({"_id": ticket_id})

    async def add_ticket(self, document: Doc) -> bool:
        return await insert_once(self.db, "tickets", document)

    async def mark_published(self, ticket_id: str) -> None:
        await self.tickets.update_one({"_id": ticket_id}, {"$set": {"published": True}})

    async def dealer_tickets(self, dealer_id: str) -> list[Doc]:
        cursor = self.tickets.find({"dealer_id": dealer_id}).sort([("opened_at", 1), ("_id", 1)])
        return [ticket async for ticket in cursor]
