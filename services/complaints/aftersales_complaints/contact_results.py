"""A contact result recorded: a dissatisfied answer opens exactly one recovery ticket (D18),
and the customer's answer to a confirmation contact closes or reopens its ticket (D22)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from aftersales_contracts import CallOutcome, ComplaintSource, ContactPurpose, ContactResult

from aftersales_complaints.desk import TicketDesk
from aftersales_complaints.domain.grading import GradingRules, grade_result
from aftersales_complaints.domain.ticket import Action, State, Ticket
from aftersales_complaints.domain.transitions import (
    CONFIRMATION_PREFIX,
    SYSTEM,
    Command,
    Transition,
    decide,
)
from aftersales_complaints.opening import Opening, open_all, ticket_id_for


def ticket_of_confirmation(contact_id: str) -> str | None:
    """The ticket a confirmation contact is about (`confirmation_contact_id` names it)."""
    if not contact_id.startswith(CONFIRMATION_PREFIX) or "-r" not in contact_id:
        return None
    return contact_id[len(CONFIRMATION_PREFIX) :].rsplit("-r", 1)[0]


async def contact_results_recorded(
    results: Sequence[ContactResult],
    desk: TicketDesk,
    grading_for: Callable[[str], GradingRules],
) -> None:
    """A batch of results, in order: the openings between two confirmations' answers go
    together (`open_all`)."""
    openings: list[Opening] = []
    for result in results:
        if ContactPurpose.COMPLAINT_CONFIRMATION in result.purposes:
            await open_all(desk, openings)
            openings = []
            await _confirmation_answered(result, desk)
        elif (wanted := _opening(result, desk, grading_for(result.dealer_id))) is not None:
            openings.append(wanted)
    await open_all(desk, openings)


def _opening(result: ContactResult, desk: TicketDesk, rules: GradingRules) -> Opening | None:
    """The ticket a dissatisfied answer opens (D18); None for a satisfied one."""
    verdict = grade_result(
        result.scores, result.complaint_stated, rules, result.comment, result.yes_no
    )
    if verdict is None:
        return None
    now = desk.clock.now()
    draft = Ticket(
        ticket_id=ticket_id_for(result.task_id),
        dealer_id=result.dealer_id,
        grade=verdict.grade,
        rule=verdict.rule,
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
        source=ComplaintSource.FOLLOW_UP,
    )
    return Opening(draft, rules, result.event_id)


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
    satisfied = not result.complaint_stated and not low and not result.not_fixed_first_time()

    def answer(ticket: Ticket, now: datetime) -> Transition | None:
        if (
            ticket.state is not State.CONFIRMING
            or ticket.confirmation_contact_id != result.contact_id
        ):
            return None  # already answered (a redelivery) or an earlier round's contact
        command = Command(Action.CONFIRMATION, SYSTEM, satisfied=satisfied, text=result.comment)
        return decide(ticket, command, now, desk.rules_for(ticket.dealer_id), result.event_id)

    await desk.change(ticket_id, answer)
