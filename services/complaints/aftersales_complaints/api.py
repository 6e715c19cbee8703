"""HTTP API: the manager's view of recovery tickets and the actions of each step (D20-D22).

No customer names or phones in tickets (D3; the D29 customer lookup masks phones, see
`channels_api.py`). Every action checks the caller's role (`allow`) and the ticket's dealer
(`require_dealer`); an action the ticket's state does not allow answers 409 with the actions it
does allow.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from aftersales_contracts import ComplaintGrade
from aftersales_runtime.auth import Caller, allow, require_dealer
from aftersales_runtime.paging import Paged
from aftersales_runtime.problems import PROBLEM_MEDIA_TYPE, TITLES, TYPE_BASE
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from aftersales_complaints.desk import TicketDesk
from aftersales_complaints.domain.ticket import (
    Action,
    IllegalTransition,
    NotTheirs,
    State,
    Ticket,
    allowed_actions,
)
from aftersales_complaints.domain.transitions import Command, decide
from aftersales_complaints.store import ComplaintsStore

#: D19: the people who lead or oversee recovery, and the OEM's region for its dealers.
TICKET_READERS = (
    "service_advisor",
    "service_supervisor",
    "service_manager",
    "cr_manager",
    "gm",
    "oem_region",
)
STAFF = ("service_advisor", "service_supervisor", "service_manager", "cr_manager", "gm")
MANAGERS = ("service_manager", "cr_manager", "gm")
#: Who may take each action (the step's people, D19-D22).
ACTION_ROLES: dict[Action, tuple[str, ...]] = {
    Action.ACKNOWLEDGE: STAFF,
    Action.NOTE: STAFF,
    Action.REVIEW: STAFF,  # the domain checks it is the grade's feedback role (D20)
    Action.REASSIGN: ("service_supervisor", "service_manager", "gm"),
    Action.REPLY: STAFF,
    Action.RESOLVE: ("service_advisor", "service_supervisor", "service_manager", "gm"),
    Action.COMPENSATION: MANAGERS,
    Action.CLOSE: MANAGERS,
    Action.REOPEN: MANAGERS,
}
_LISTED = (
    "dealer_id",
    "state",
    "grade",
    "rule",
    "low_items",
    "scores",
    "yes_no",
    "complaint_stated",
    "owner_role",
    "owner_person",
    "service_advisor",
    "technicians",
    "work_order_id",
    "contact_id",
    "vin",
    "customer_id",
    "opened_at",
    "round",
    "linked_ticket_ids",
    "source",
    "logged_by",
    "inbound_id",
)


def _summary(ticket: Ticket) -> dict[str, Any]:
    data = ticket.model_dump(mode="json", include=set(_LISTED))
    reply = next((d for d in ticket.deadlines if d.step.value == "reply"), None)
    return {
        "ticket_id": ticket.ticket_id,
        **data,
        "due_at": reply.due_at.isoformat() if reply else None,
        "next_due_at": (m.isoformat() if (m := ticket.wakes_at()) else None),
        "overdue": ticket.overdue,
        "due_soon": ticket.due_soon,
    }


def ticket_detail(ticket: Ticket) -> dict[str, Any]:
    return {
        **_summary(ticket),
        "deadlines": [d.model_dump(mode="json") for d in ticket.deadlines],
        "compensations": [c.model_dump(mode="json") for c in ticket.compensations],
        "root_cause_category": ticket.root_cause_category,
        "action_taken": ticket.action_taken,
        "confirmation_contact_id": ticket.confirmation_contact_id,
        "allowed_actions": allowed_actions(ticket.state),
        "history": ticket.history,
    }


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteBody(_Body):
    text: str | None = Field(None, max_length=2000)


class TextBody(_Body):
    text: str = Field(min_length=1, max_length=2000)


class ReassignBody(_Body):
    to_role: str = Field(min_length=1, max_length=64)
    to_person: str | None = Field(None, max_length=128)
    text: str | None = Field(None, max_length=2000)


class ResolveBody(_Body):
    root_cause_category: str = Field(min_length=1, max_length=128)  # D22, D32
    action_taken: str = Field(min_length=1, max_length=2000)
    text: str | None = Field(None, max_length=2000)


class CompensationBody(_Body):
    amount: float = Field(ge=0, le=10_000_000, description="CNY, a JSON number")
    approved_by: str = Field(min_length=1, max_length=128)  # D22: at the OEM's regional office
    approved_at: AwareDatetime
    text: str | None = Field(None, max_length=2000)


class CloseBody(_Body):
    customer_confirmed: bool = Field(description="D22: the customer confirmed being satisfied")
    text: str | None = Field(None, max_length=2000)


CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "the ticket's state does not allow this action"}
}


def complaints_router(store: ComplaintsStore, desk: TicketDesk) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["complaints"])

    @router.get("/dealers/{dealer_id}/complaints")
    async def list_complaints(
        dealer_id: str,
        caller: Annotated[Caller, allow(*TICKET_READERS)],
        page: Paged,
        state: State | None = None,
        grade: ComplaintGrade | None = None,
        owner: Annotated[str | None, Query(max_length=128, description="role or person")] = None,
        overdue: bool | None = None,
        due_soon: bool | None = None,
    ) -> dict[str, Any]:
        """A page of the dealer's tickets, oldest first, filtered."""
        filters: dict[str, Any] = {}
        if state is not None:
            filters["state"] = state.value
        if grade is not None:
            filters["grade"] = grade.value
        if owner is not None:
            filters["$or"] = [{"owner_role": owner}, {"owner_person": owner}]
        if overdue is not None:
            filters["overdue"] = overdue
        if due_soon is not None:
            filters["due_soon"] = due_soon
        tickets = await store.dealer_tickets(dealer_id, filters, page.skip, page.limit)
        return {"dealer_id": dealer_id, "complaints": [_summary(t) for t in tickets]}

    @router.get("/complaints/{ticket_id}")
    async def get_complaint(
        ticket_id: str, caller: Annotated[Caller, allow(*TICKET_READERS)]
    ) -> dict[str, Any]:
        """One ticket with its deadlines (and their status) and its whole history."""
        ticket = await store.ticket(ticket_id)
        if ticket is None:
            raise HTTPException(404, "no such ticket")
        require_dealer(caller, ticket.dealer_id)
        return ticket_detail(ticket)

    async def act(
        ticket_id: str, caller: Caller, command: Callable[[Ticket], Command]
    ) -> dict[str, Any] | JSONResponse:
        ticket = await store.ticket(ticket_id)
        if ticket is None:
            raise HTTPException(404, "no such ticket")
        require_dealer(caller, ticket.dealer_id)
        try:
            changed = await desk.change(
                ticket_id,
                lambda t, now: decide(t, command(t), now, desk.rules_for(t.dealer_id)),
            )
        except IllegalTransition as refused:
            body = {
                "type": TYPE_BASE + "illegal-transition",
                "title": TITLES[409],
                "status": 409,
                "detail": str(refused),
                "state": refused.state.value,
                "allowed": refused.allowed,
            }
            return JSONResponse(body, 409, media_type=PROBLEM_MEDIA_TYPE)
        except NotTheirs as refused:
            raise HTTPException(403, str(refused)) from refused
        assert changed is not None
        return ticket_detail(changed)

    def plain(action: Action) -> Callable[..., Any]:
        # A default, not an Annotated[...] string: the roles come from this closure.
        async def route(
            ticket_id: str,
            body: NoteBody,
            caller: Caller = allow(*ACTION_ROLES[action]),  # noqa: B008 (FastAPI dependency)
        ) -> Any:
            return await act(
                ticket_id, caller, lambda t: Command(action, caller.sub, text=body.text)
            )

        return route

    for action in (Action.ACKNOWLEDGE, Action.NOTE, Action.REPLY):
        router.add_api_route(
            f"/complaints/{{ticket_id}}/{action.value}",
            plain(action),
            methods=["POST"],
            responses=CONFLICT,
            summary=f"{action.value} the ticket",
        )

    @router.post("/complaints/{ticket_id}/review", responses=CONFLICT)
    async def review(
        ticket_id: str,
        body: NoteBody,
        caller: Annotated[Caller, allow(*ACTION_ROLES[Action.REVIEW])],
    ) -> Any:
        """D20: the feedback of the grade's responsible person (A/B: service manager and
        customer-relations manager, each once, before the reply)."""

        def command(t: Ticket) -> Command:
            needed = desk.rules_for(t.dealer_id).ladder.feedback_roles(t.grade, t.owner_role)
            mine = [r for r in needed if r in caller.roles and r not in t.reviews]
            mine = mine or [r for r in needed if r in caller.roles]
            if not mine:
                raise NotTheirs(f"the feedback of this ticket is given by {' and '.join(needed)}")
            return Command(Action.REVIEW, caller.sub, role=mine[0], text=body.text)

        return await act(ticket_id, caller, command)

    @router.post("/complaints/{ticket_id}/reassign", responses=CONFLICT)
    async def reassign(
        ticket_id: str,
        body: ReassignBody,
        caller: Annotated[Caller, allow(*ACTION_ROLES[Action.REASSIGN])],
    ) -> Any:
        return await act(
            ticket_id,
            caller,
            lambda t: Command(
                Action.REASSIGN,
                caller.sub,
                role=body.to_role,
                person=body.to_person,
                text=body.text,
            ),
        )

    @router.post("/complaints/{ticket_id}/resolve", responses=CONFLICT)
    async def resolve(
        ticket_id: str,
        body: ResolveBody,
        caller: Annotated[Caller, allow(*ACTION_ROLES[Action.RESOLVE])],
    ) -> Any:
        """D22: root cause category and action taken; the confirmation contact is requested."""
        return await act(
            ticket_id,
            caller,
            lambda t: Command(
                Action.RESOLVE,
                caller.sub,
                root_cause_category=body.root_cause_category,
                action_taken=body.action_taken,
                text=body.text,
            ),
        )

    @router.post("/complaints/{ticket_id}/compensation", responses=CONFLICT)
    async def compensation(
        ticket_id: str,
        body: CompensationBody,
        caller: Annotated[Caller, allow(*ACTION_ROLES[Action.COMPENSATION])],
    ) -> Any:
        """D22: recorded with who approved it at the OEM's region and when (not computed)."""
        return await act(
            ticket_id,
            caller,
            lambda t: Command(
                Action.COMPENSATION,
                caller.sub,
                amount=Decimal(str(body.amount)),  # exact from here on
                approved_by=body.approved_by,
                approved_at=body.approved_at,
                text=body.text,
            ),
        )

    @router.post("/complaints/{ticket_id}/close", responses=CONFLICT)
    async def close(
        ticket_id: str,
        body: CloseBody,
        caller: Annotated[Caller, allow(*ACTION_ROLES[Action.CLOSE])],
    ) -> Any:
        """D22: only after the customer confirmed being satisfied."""
        return await act(
            ticket_id,
            caller,
            lambda t: Command(
                Action.CLOSE, caller.sub, satisfied=body.customer_confirmed, text=body.text
            ),
        )

    @router.post("/complaints/{ticket_id}/reopen", responses=CONFLICT)
    async def reopen(
        ticket_id: str,
        body: TextBody,
        caller: Annotated[Caller, allow(*ACTION_ROLES[Action.REOPEN])],
    ) -> Any:
        """D22: back into the loop; the ladder and its deadlines restart from now."""
        return await act(
            ticket_id, caller, lambda t: Command(Action.REOPEN, caller.sub, text=body.text)
        )

    return router
