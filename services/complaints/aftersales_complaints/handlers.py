"""Subscribers' work: a dissatisfied answer opens exactly one recovery ticket (D18)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from aftersales_contracts import (
    ComplaintEvent,
    ComplaintEventKind,
    ContactResult,
    Event,
    deterministic_id,
)
from aftersales_runtime.clock import Clock

from aftersales_complaints.domain.grading import GradingRules, Verdict, grade_result
from aftersales_complaints.store import ComplaintsStore, Doc

Publish = Callable[[Event], Awaitable[None]]


def ticket_id_for(task_id: str) -> str:
    return deterministic_id("ticket", task_id)


def opened_event_id_for(ticket_id: str) -> str:
    return deterministic_id("complaint.opened", ticket_id)


def _opened(
    result: ContactResult, verdict: Verdict, opened_at: datetime, due_at: datetime
) -> ComplaintEvent:
    ticket_id = ticket_id_for(result.task_id)
    return ComplaintEvent(
        event_id=opened_event_id_for(ticket_id),
        occurred_at=opened_at,
        dealer_id=result.dealer_id,
        correlation_id=result.correlation_id,
        causation_id=result.event_id,
        ticket_id=ticket_id,
        kind=ComplaintEventKind.OPENED,
        grade=verdict.grade,
        work_order_id=result.work_order_id,
        contact_id=result.contact_id,
        vin=result.vin,
        customer_id=result.customer_id,
        low_items=verdict.low_items,
        assigned_role=verdict.assigned_role,
        service_advisor=result.service_advisor,
        technicians=result.technicians,
        opened_at=opened_at,
        due_at=due_at,
    )


def _ticket_document(event: ComplaintEvent, result: ContactResult) -> Doc:
    return {
        "_id": event.ticket_id,
        "dealer_id": event.dealer_id,
        "state": "open",
        "grade": event.grade.value,
        "low_items": event.low_items,
        "scores": result.scores.model_dump() if result.scores else None,
        "complaint_stated": result.complaint_stated,
        "assigned_role": event.assigned_role,
        "service_advisor": event.service_advisor.model_dump() if event.service_advisor else None,
        "technicians": [t.model_dump() for t in event.technicians],
        "work_order_id": event.work_order_id,
        "contact_id": event.contact_id,
        "task_id": result.task_id,
        "vin": event.vin,
        "customer_id": event.customer_id,
        "opened_at": event.opened_at,
        "due_at": event.due_at,
        "correlation_id": event.correlation_id,
        "cause_event_id": result.event_id,
        "event": event.model_dump(mode="json"),
        "published": False,
    }


async def when_contact_result_open_ticket(
    result: ContactResult,
    store: ComplaintsStore,
    rules: GradingRules,
    reply_due: Callable[[datetime, str], datetime],
    clock: Clock,
    publish: Publish,
    logger: logging.Logger,
) -> None:
    """Open the ticket once and publish its `opened` event once.

    A redelivery finds the ticket stored: it publishes the stored event again only if the first
    delivery stopped before publishing (same event id, so consumers recognise it).
    """
    verdict = grade_result(result.scores, result.complaint_stated, rules)
    if verdict is None:
        return
    ticket_id = ticket_id_for(result.task_id)
    ticket = await store.ticket(ticket_id)
    if ticket is None:
        opened_at = clock.now()
        event = _opened(result, verdict, opened_at, reply_due(opened_at, result.dealer_id))
        ticket = _ticket_document(event, result)
        if await store.add_ticket(ticket):
            logger.info(
                "ticket opened",
                extra={
                    "ticket_id": ticket_id,
                    "grade": verdict.grade.value,
                    "dealer_id": result.dealer_id,
                    "cause_event_id": result.event_id,
                },
            )
        else:
            ticket = await store.ticket(ticket_id) or ticket
    if not ticket.get("published"):
        await publish(ComplaintEvent.model_validate(ticket["event"]))
        await store.mark_published(ticket_id)
