"""The reveal audit (D3): every time a whole phone number (or a raw record holding one) is shown
to a person, who saw what, when and why is written before it is shown. The customer-relations
manager reads it per dealer through the service that revealed it.

Stored in the revealing service's own database (collection `reveal_audit`); entries hold ids,
never the revealed values. Reading filters by dealer and scans: the audit is read rarely.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter
from pymongo import DESCENDING
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_runtime.auth import Caller, allow
from aftersales_runtime.clock import Clock
from aftersales_runtime.grouped import Grouped
from aftersales_runtime.paging import Paged

COLLECTION = "reveal_audit"


class RevealAudit:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], clock: Clock) -> None:
        self.entries = db[COLLECTION]
        self._writes = Grouped(self.entries)  # concurrent reveals' entries go together
        self.clock = clock

    async def record(
        self, caller: Caller, dealer_id: str | None, what: dict[str, Any], why: str
    ) -> None:
        """Write the entry; an exception here means the reveal must not happen (fail closed)."""
        written = await self._writes.insert_once(
            {
                "_id": uuid.uuid4().hex,
                "at": self.clock.now(),
                "dealer_id": dealer_id,
                "who": caller.sub,
                "roles": sorted(caller.roles),
                "what": what,
                "why": why,
            }
        )
        if not written:  # a random id taken: never shown without its entry
            raise RuntimeError("the reveal's audit entry could not be written")

    async def dealer_entries(self, dealer_id: str, limit: int, skip: int) -> list[dict[str, Any]]:
        cursor = (
            self.entries.find({"dealer_id": dealer_id})
            .sort([("at", DESCENDING), ("_id", DESCENDING)])
            .skip(skip)
            .limit(limit)
        )
        return [{"audit_id": doc.pop("_id"), **doc} async for doc in cursor]


def audit_router(audit: RevealAudit, service: str) -> APIRouter:
    """`GET /dealers/{dealer_id}/audit/reveals`, to include into the service's `/v1` router."""
    router = APIRouter(tags=["audit"])

    @router.get("/dealers/{dealer_id}/audit/reveals")
    async def reveals(
        dealer_id: str,
        caller: Annotated[Caller, allow("cr_manager")],
        page: Paged,
    ) -> dict[str, Any]:
        """Who saw a customer's whole phone number (or raw record), when and why; newest first."""
        entries = await audit.dealer_entries(dealer_id, page.limit, page.skip)
        return {"dealer_id": dealer_id, "service": service, "reveals": entries}

    return router
