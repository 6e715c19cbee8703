"""The contacts, tickets, vehicles and deliveries behind a figure of the monthly report.

Rows are read from the month's days (their indexes, then their pages: two reads by `_id`),
filtered by the figure, and joined with the customer's masked phone (D3: `138****8000`); no
name, no whole phone. Meant for the dealer's own managers (the route's roles).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aftersales_reporting.ledger import Ledger, unpack_row
from aftersales_reporting.periods import days_of
from aftersales_reporting.reports.figures import UNREACHED_OUTCOMES, Doc

Row = dict[str, Any]
Test = Callable[[Row, str], bool]


#: figure -> (pages, test of a row against the figure's argument, e.g. `issue:waiting_time`)
FIGURES: dict[str, tuple[str, Test]] = {
    "made": ("RR", lambda r, _: True),
    "reached": ("RR", lambda r, _: r["outcome"] == "reached"),
    "unreached": ("RR", lambda r, arg: r["outcome"] in ((arg,) if arg else UNREACHED_OUTCOMES)),
    # D24: `arg` is the threshold, default REPORTING_SATISFIED_MIN_SCORE (Drilldown.rows)
    "satisfied": ("RR", lambda r, arg: r.get("overall") is not None and r["overall"] >= int(arg)),
    "dissatisfied": ("RR", lambda r, arg: r.get("overall") is not None and r["overall"] < int(arg)),
    "timely": ("RR", lambda r, _: r.get("timely") is True),
    "late": ("RR", lambda r, _: r.get("timely") is False),
    "come_back": ("RR", lambda r, _: r.get("fixed_first_time") is False),
    "issue": ("RR", lambda r, arg: arg in r.get("issues", [])),
    "lapse_reason": ("RR", lambda r, arg: r.get("lapse_reason") == arg),
    "advisor": ("RR", lambda r, arg: r.get("service_advisor") == arg),
    "technician": ("RR", lambda r, arg: arg in r.get("technicians", [])),
    "agent": ("RR", lambda r, arg: r.get("agent") == arg),
    "planned": ("DR", lambda r, _: True),
    "expired": ("XR", lambda r, _: True),
    "tickets": ("CR", lambda r, arg: not arg or r.get("grade") == arg),
    "due_maintenance": ("WR", lambda r, _: r["kind"] == "due"),
    "due_arrived": ("WR", lambda r, _: r["kind"] == "arrived"),
    "first_maintenance_due": ("NR", lambda r, _: True),
    # D34: the month's deliveries still without a face-to-face questionnaire [+ consultant id]
    "face_to_face_missed": (
        "SR",
        lambda r, arg: (
            r["kind"] == "delivered"
            and not r["surveyed"]
            and (not arg or r["sales_consultant"] == arg)
        ),
    ),
}


def _row_key(row: Row) -> str:
    """What a row is: its event, or its kind and subject (rows written without an event id)."""
    if row.get("event_id"):
        return str(row["event_id"])
    subject = [row.get(k) for k in ("vin", "work_order_id", "delivery_id")]
    return "/".join(str(part) for part in (row.get("kind"), *subject))


def _join_surveys(rows: list[Row]) -> list[Row]:
    """D34: a delivery's row is surveyed when its page also holds its `surveyed` row."""
    surveyed = {r["delivery_id"] for r in rows if r.get("kind") == "surveyed"}
    deliveries = [r for r in rows if r.get("kind") == "delivered"]
    for row in deliveries:
        row["surveyed"] = row["delivery_id"] in surveyed
    return deliveries


@dataclass
class Drilldown:
    ledger: Ledger
    satisfied_min: int = 8

    async def rows(
        self, dealer_id: str, month: str, figure: str, arg: str, offset: int, limit: int
    ) -> Doc:
        prefix, test = FIGURES[figure]
        if figure in ("satisfied", "dissatisfied"):
            arg = str(self.satisfied_min)
        stored = await self.ledger.day_rows(
            f"{prefix}/{dealer_id}/{month}/{d}" for d in days_of(month)
        )
        seen: set[str] = set()
        rows: list[Row] = []
        for row in map(unpack_row, stored):
            key = _row_key(row)
            if key in seen:  # a page write redone after a crash (ledger.py)
                continue
            seen.add(key)
            rows.append(row)
        if prefix == "SR":
            rows = _join_surveys(rows)
        rows = [row for row in rows if test(row, arg)]
        page = rows[offset : offset + limit]
        await self._join(dealer_id, prefix, page)
        return {
            "figure": figure,
            "arg": arg or None,
            "total": len(rows),
            "offset": offset,
            "rows": page,
        }

    async def _join(self, dealer_id: str, prefix: str, page: list[Row]) -> None:
        contacts = {f"K/{dealer_id}/{r['contact_id']}" for r in page if r.get("contact_id")}
        tickets = {f"T/{dealer_id}/{r['ticket_id']}" for r in page if prefix == "CR"}
        known, states = await asyncio.gather(
            self.ledger.entities(contacts), self.ledger.entities(tickets)
        )
        for row in page:
            row.pop("event_id", None)
            if "phone" not in row:  # a delivery's row keeps its own (masked) phone
                phone = known.get(f"K/{dealer_id}/{row.get('contact_id')}")
                row["phone"] = phone["phone"] if phone else None  # D3: masked when stored
            ticket = states.get(f"T/{dealer_id}/{row.get('ticket_id')}")
            if ticket is not None:
                row.update(
                    state=ticket.get("state"), closed=ticket["closed"], breached=ticket["breached"]
                )
