"""The reporting service's MongoDB: one fact per consumed event, keyed by its event id.

Replaying an event inserts nothing new, so every figure stays the same. FerretDB's `$group`
knows only `$sum`/`$count`, so the report reads a dealer-month's facts and computes its figures
in Python (`domain.monthly`): fine at one dealer's monthly volume (thousands of facts); a stored
per-month projection replaces this when volume asks for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aftersales_contracts import (
    CallOutcome,
    ComplaintEvent,
    ComplaintGrade,
    ContactResult,
    Scores,
)
from aftersales_runtime.mongo import insert_once
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_reporting.domain.monthly import ResultFact

Doc = dict[str, Any]


class ReportingStore:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.results = db["contact_results"]
        self.complaints = db["complaint_events"]

    async def create_indexes(self) -> None:
        await self.results.create_index([("dealer_id", 1), ("contacted_at", 1)])
        await self.complaints.create_index([("dealer_id", 1), ("kind", 1), ("opened_at", 1)])

    async def add_result(self, event: ContactResult) -> bool:
        return await insert_once(
            self.db,
            "contact_results",
            {
                "_id": event.event_id,
                "dealer_id": event.dealer_id,
                "task_id": event.task_id,
                "contacted_at": event.contacted_at,
                "outcome": event.outcome.value,
                "scores": event.scores.model_dump() if event.scores else None,
                "service_advisor_id": event.service_advisor.id if event.service_advisor else None,
            },
        )

    async def add_complaint_event(self, event: ComplaintEvent) -> bool:
        return await insert_once(
            self.db,
            "complaint_events",
            {
                "_id": event.event_id,
                "dealer_id": event.dealer_id,
                "ticket_id": event.ticket_id,
                "kind": event.kind.value,
                "grade": event.grade.value,
                "opened_at": event.opened_at,
                "occurred_at": event.occurred_at,
            },
        )

    async def results_between(self, dealer_id: str, start: datetime, end: datetime) -> list[Doc]:
        query = {"dealer_id": dealer_id, "contacted_at": {"$gte": start, "$lt": end}}
        return [doc async for doc in self.results.find(query)]

    async def opened_grades_between(
        self, dealer_id: str, start: datetime, end: datetime
    ) -> list[ComplaintGrade]:
        query = {
            "dealer_id": dealer_id,
            "kind": "opened",
            "opened_at": {"$gte": start, "$lt": end},
        }
        return [ComplaintGrade(doc["grade"]) async for doc in self.complaints.find(query)]


def result_fact(document: Doc) -> ResultFact:
    scores = document.get("scores")
    return ResultFact(
        outcome=CallOutcome(document["outcome"]), scores=Scores(**scores) if scores else None
    )
