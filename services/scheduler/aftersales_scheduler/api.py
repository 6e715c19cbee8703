"""HTTP: why (not) contacted — the decision trail of every planned contact, per vehicle and
per customer. No names or phones in the answer (D3): ids, purposes, times and decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aftersales_contracts.primitives import MONTH_PATTERN, VIN_LOOKUP_PATTERN
from aftersales_runtime.auth import Caller, allow
from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel

from aftersales_scheduler.store import Doc, TimerStore, customer_key, vehicle_key


class TrailEntry(BaseModel):
    at: datetime
    event: str  # planned, moved, merged, suppressed, due, retried, closed, updated
    detail: str = ""
    attempt: int | None = None


class PlannedContactView(BaseModel):
    contact_id: str
    kind: str
    step: str
    purposes: list[str]
    channel: str
    state: str
    nominal_at: datetime
    due_at: datetime
    timely_until: datetime | None = None  # D6/D8: a contact made later counts as late
    attempt: int
    work_order_id: str | None
    vin: str
    customer_id: str
    merged_into: str | None = None
    trail: list[TrailEntry]


class ContactsView(BaseModel):
    dealer_id: str
    opted_out: bool | None  # the customer's opt-out (D4); None on a vehicle's view
    opted_out_of: list[str] | None = None  # D4: the kinds of contact refused; None: see above
    contacts: list[PlannedContactView]


class DueVehicle(BaseModel):
    vin: str
    customer_id: str
    due_date: str


class DueListView(BaseModel):
    dealer_id: str
    month: str
    built_at: datetime
    vehicles: list[DueVehicle]


async def _view(store: TimerStore, timer: Doc) -> PlannedContactView:
    entries: list[dict[str, Any]] = list(timer.get("trail", []))
    for attempt, sent in (await store.sent_marks(timer)).items():
        if not any(e["event"] == "due" and e.get("attempt") == attempt for e in entries):
            entries.append(
                {
                    "at": sent["sent_at"],
                    "event": "due",
                    "attempt": attempt,
                    "detail": f"contact.due {sent['event_id']}",
                }
            )
    # At one instant, an attempt's "due" comes before what its result caused.
    entries.sort(key=lambda e: (e["at"], e.get("attempt") or 0, e["event"] != "due"))
    # Timer documents are not rewritten when they fire (the dispatcher writes markers), so a
    # pending timer whose current attempt went out reads as due.
    fired = {e.get("attempt") for e in entries if e["event"] == "due"}
    state = "due" if timer["state"] == "pending" and timer["attempt"] in fired else timer["state"]
    return PlannedContactView(
        contact_id=timer["_id"],
        kind=timer["kind"],
        step=timer["step"],
        purposes=timer["purposes"],
        channel=timer["channel"],
        state=state,
        nominal_at=timer["nominal_at"],
        due_at=timer["due_at"],
        timely_until=timer.get("timely_until"),
        attempt=timer["attempt"],
        work_order_id=timer.get("work_order_id"),
        vin=timer["vin"],
        customer_id=timer["customer_id"],
        merged_into=timer.get("merged_into"),
        trail=[TrailEntry(**e) for e in entries],
    )


async def contacts_view(
    store: TimerStore, dealer_id: str, key: str, is_customer: bool
) -> ContactsView:
    """A file's decision trail: every contact it linked (its archive's too), by due time."""
    person = await store.person(key) or {"_id": key}
    timers = await store.timers(await store.linked_timer_ids(person))
    timers.sort(key=lambda t: (t["due_at"], t["_id"]))
    return ContactsView(
        dealer_id=dealer_id,
        opted_out=bool(person.get("opted_out")) if is_customer else None,
        opted_out_of=list(person.get("opted_out_of", [])) if is_customer else None,
        contacts=[await _view(store, t) for t in timers],
    )


#: Why (not) contacted: the agents and those who answer for the follow-up, and ops.
TRAIL_READERS = ("agent", "service_manager", "cr_manager", "ops")
#: D12: the month's list is worked by the advisors and their managers.
DUE_LIST_READERS = ("service_advisor", "service_manager", "cr_manager")


def router(store: TimerStore) -> APIRouter:
    api = APIRouter(prefix="/v1/dealers/{dealer_id}", tags=["decision trail"])

    @api.get("/vehicles/{vin}/contacts", response_model=ContactsView)
    async def vehicle_contacts(
        dealer_id: str,
        vin: Annotated[str, Path(pattern=VIN_LOOKUP_PATTERN)],
        caller: Annotated[Caller, allow(*TRAIL_READERS)],
    ) -> ContactsView:
        return await contacts_view(store, dealer_id, vehicle_key(dealer_id, vin.upper()), False)

    @api.get("/customers/{customer_id}/contacts", response_model=ContactsView)
    async def customer_contacts(
        dealer_id: str, customer_id: str, caller: Annotated[Caller, allow(*TRAIL_READERS)]
    ) -> ContactsView:
        return await contacts_view(store, dealer_id, customer_key(dealer_id, customer_id), True)

    @api.get("/due-maintenance/{month}", response_model=DueListView)
    async def due_maintenance_list(
        dealer_id: str,
        month: Annotated[str, Path(pattern=MONTH_PATTERN, description="YYYY-MM")],
        caller: Annotated[Caller, allow(*DUE_LIST_READERS)],
    ) -> DueListView:
        """D12: the month's due-maintenance list, as built on the 1st (404 before)."""
        found = await store.due_list(dealer_id, month)
        if found is None:
            raise HTTPException(404, f"no due-maintenance list for {dealer_id} {month} yet")
        return DueListView(**found)

    return api
