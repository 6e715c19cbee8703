"""Subscribers' work: a dissatisfied answer opens exactly one recovery ticket (D18), and the
customer's answer to a confirmation contact closes or reopens its ticket (D22)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aftersales_contracts import CallOutcome, ContactPurpose, ContactResult, deterministic_id

from aftersales_complaints.desk import TicketDesk
from aftersales_complaints.domain.grading import GradingRules, grade_result, raised
from aftersales_complaints.domain.ticket import Action, State, Ticket
from aftersales_complaints.domain.transitions import (
    CONFIRMATION_PREFIX,
    SYSTEM,
    Command,
    Transition,
    decide,
    opening,
)


def ticket_id_for(task_id: str) -> str:
    return deterministic_id("ticket", task_id)


def opened_event_id_for(ticket_id: str) -> str:
    return deterministic_id("complaint.opened", ticket_id)


def ticket_of_confirmation(contact_id: str) -> str | None:
    """The ticket a confirmation contact is about (`confirmation_contact_id` names it)."""
    if not contact_id.startswith(CONFIRMATION_PREFIX) or "-r" not in contact_id:
        return None
    return contact_id[len(CONFIRMATION_PREFIX) :].rsplit("-r", 1)[0]


def vehicle_key(dealer_id: str, vin: str) -> str:
    return f"vehicle/{dealer_id}/{vin}"


async def when_contact_result(result: ContactResult, desk: TicketDesk, rules: GradingRules) -> None:
    if ContactPurpose.COMPLAINT_CONFIRMATION in result.purposes:
        await _confirmation_answered(result, desk)
        return
    await _open_ticket(result, desk, rules)


async def _open_ticket(result: ContactResult, desk: TicketDesk, rules: GradingRules) -> None:
    """Open the ticket once; a redelivery finds it stored (and its events published or in the
    outbox, which `republish` empties)."""
    verdict = grade_result(
        result.scores, result.complaint_stated, rules, result.comment, result.yes_no
    )
    if verdict is None:
        return
    ticket_id = ticket_id_for(result.task_id)
    if await desk.store.ticket(ticket_id) is not None:
        return
    now = desk.clock.now()
    grade, rule, linked = verdict.grade, verdict.rule, []
    earlier = await desk.store.link(vehicle_key(result.dealer_id, result.vin))
    window = timedelta(days=rules.repeat_within_days)
    if earlier and earlier["ticket_id"] != ticket_id and now - earlier["opened_at"] <= window:
        # D18: the same vehicle unhappy again within the window: one grade up, linked.
        grade, rule, linked = raised(grade), f"{rule}+repeat", [earlier["ticket_id"]]
    draft = Ticket(
        ticket_id=ticket_id,
        dealer_id=result.dealer_id,
        grade=grade,
        rule=rule,
        low_items=verdict.low_items,
        scores=result.scores.model_dump() if result.scores else None,
        yes_no=dict(result.yes_no) if result.yes_no is not None else None,
        complaint_stated=result.complaint_stated,
        work_order_id=result.work_order_id,
        contact_id=result.contact_id,
        task_id=result.task_id,
        vin=result.vin,
        customer_id=result.customer_id,
        service_advisor=result.service_advisor,
        technicians=result.technicians,
        correlation_id=result.correlation_id,
        cause_event_id=result.event_id,
        opened_at=now,
        round_started_at=now,
        owner_role="",
        owner_person="",
        linked_ticket_ids=linked,
    )
    transition = opening(draft, now, desk.rules_for(result.dealer_id), result.event_id)
    if await desk.store_and_publish(transition):
        opened = transition.ticket
        await desk.store.set_link(
            vehicle_key(result.dealer_id, result.vin),
            ticket_id=ticket_id,
            opened_at=opened.opened_at,
        )
        desk.logger.info(
            "ticket opened",
            extra={
                "ticket_id": ticket_id,
                "grade": grade.value,
                "rule": rule,
                "dealer_id": result.dealer_id,
            },
        )


async def _confirmation_answered(result: ContactResult, desk: TicketDesk) -> None:
    """D22: satisfied → closed; not satisfied → reopened and the ladder restarts. An unreached
    attempt changes nothing (the scheduler retries it, D15)."""
    if result.outcome is not CallOutcome.REACHED:
        return
    ticket_id = ticket_of_confirmation(result.contact_id)
    if ticket_id is None:
        desk.logger.warning("confirmation of no ticket", extra={"contact_id": result.contact_id})
        return
    low = result.scores.low_items() if result.scores else []
    satisfied = not result.complaint_stated and not low

    def answer(ticket: Ticket, now: datetime) -> Transition | None:
        if (
            ticket.state is not State.CONFIRMING
            or ticket.confirmation_contact_id != result.contact_id
        ):
            return None  # already answered (a redelivery) or an earlier round's contact
        command = Command(Action.CONFIRMATION, SYSTEM, satisfied=satisfied, text=result.comment)
        return decide(ticket, command, now, desk.rules_for(ticket.dealer_id), result.event_id)

    await desk.change(ticket_id, answer)
