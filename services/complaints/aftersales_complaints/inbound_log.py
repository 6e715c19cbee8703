"""The register of inbound calls and letters (来电来函登记, D29): every call, letter, e-mail or
visit a person logs, complaint or not, listed per dealer and local day.

One document per dealer and day (`_id` = `{dealer}/{YYYY-MM-DD}`), its entries a map by entry
id, so logging is one upsert by `_id` and a retried request (same entry id) changes nothing;
a day's list is one read.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from aftersales_contracts import ComplaintSource
from pydantic import AwareDatetime, BaseModel, ConfigDict
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]


class InboundKind(StrEnum):
    """How it reached the dealer (a complaint's `source`, D29)."""

    HOTLINE = "hotline"
    WEBSITE = "website"
    EMAIL = "email"
    LETTER = "letter"
    WALK_IN = "walk_in"
    OEM = "oem"
    COLLEAGUE = "colleague"


class InboundEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entry_id: str
    dealer_id: str
    day: date  # the dealer's local day it was received
    received_at: AwareDatetime
    kind: InboundKind
    subject: str  # e.g. complaint, enquiry, appointment, praise
    text: str | None = None
    logged_by: str  # the token's subject, or "oem"
    is_complaint: bool
    ticket_id: str | None = None  # the recovery ticket it opened
    customer_id: str | None = None
    vin: str | None = None
    unmatched: bool = False  # named a customer the dealer's files do not know


def source_of(kind: InboundKind) -> ComplaintSource:
    return ComplaintSource(kind.value)


def _day_id(dealer_id: str, day: date) -> str:
    return f"{dealer_id}/{day.isoformat()}"


class InboundLog:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.days = db["inbound_log"]

    async def record(self, entry: InboundEntry) -> InboundEntry:
        """Log it once; a second call with the same entry id returns the first one."""
        key = _day_id(entry.dealer_id, entry.day)
        path = f"entries.{entry.entry_id}"
        found = await self.days.find_one({"_id": key})
        known = (found or {}).get("entries", {}).get(entry.entry_id)
        if known is not None:
            return InboundEntry.model_validate(known)
        await self.days.update_one(
            {"_id": key}, {"$set": {path: entry.model_dump(mode="json")}}, upsert=True
        )
        return entry

    async def day(self, dealer_id: str, day: date) -> list[InboundEntry]:
        doc = await self.days.find_one({"_id": _day_id(dealer_id, day)})
        entries = [InboundEntry.model_validate(e) for e in (doc or {}).get("entries", {}).values()]
        return sorted(entries, key=lambda e: (e.received_at, e.entry_id))
