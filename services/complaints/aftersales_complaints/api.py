"""HTTP API: a dealer's recovery tickets (no customer names or phones, D3)."""

from __future__ import annotations

from typing import Annotated, Any

from aftersales_runtime.auth import Caller, allow
from aftersales_runtime.paging import Paged
from fastapi import APIRouter

from aftersales_complaints.store import ComplaintsStore, Doc

_LISTED = (
    "dealer_id",
    "state",
    "grade",
    "low_items",
    "scores",
    "complaint_stated",
    "assigned_role",
    "service_advisor",
    "technicians",
    "work_order_id",
    "contact_id",
    "vin",
    "customer_id",
    "opened_at",
    "due_at",
)
#: D19: the people who lead or oversee recovery, and the OEM's region for its dealers.
TICKET_READERS = (
    "service_advisor",
    "service_supervisor",
    "service_manager",
    "cr_manager",
    "gm",
    "oem_region",
)


def _listed(ticket: Doc) -> dict[str, Any]:
    return {"ticket_id": ticket["_id"], **{field: ticket.get(field) for field in _LISTED}}


def complaints_router(store: ComplaintsStore) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["complaints"])

    @router.get("/dealers/{dealer_id}/complaints")
    async def list_complaints(
        dealer_id: str,
        caller: Annotated[Caller, allow(*TICKET_READERS)],
        page: Paged,
    ) -> dict[str, Any]:
        """A page of the dealer's tickets, oldest first."""
        tickets = await store.dealer_tickets(dealer_id)
        page = tickets[page.skip : page.skip + page.limit]
        return {"dealer_id": dealer_id, "complaints": [_listed(t) for t in page]}

    return router
