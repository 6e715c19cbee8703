"""Opening a recovery ticket, whatever brought it (D18, D29): exactly once per cause, linked to
the same vehicle's last ticket and one grade up when that one is recent (D18)."""

from __future__ import annotations

from datetime import timedelta

from aftersales_contracts import deterministic_id

from aftersales_complaints.desk import TicketDesk
from aftersales_complaints.domain.grading import GradingRules, raised
from aftersales_complaints.domain.ticket import Ticket
from aftersales_complaints.domain.transitions import SYSTEM, opening


def ticket_id_for(cause: str) -> str:
    """A result's ticket is named by its task id; a logged complaint by its log entry."""
    return deterministic_id("ticket", cause)


def opened_event_id_for(ticket_id: str) -> str:
    return deterministic_id("complaint.opened", ticket_id)


def vehicle_key(dealer_id: str, vin: str) -> str:
    return f"vehicle/{dealer_id}/{vin}"


async def open_once(
    desk: TicketDesk,
    draft: Ticket,
    rules: GradingRules,
    cause_event_id: str,
    actor: str = SYSTEM,
) -> Ticket:
    """The ticket, opened now unless it exists already (then its stored events are published
    if a crash held them back, and it is returned as it is)."""
    found = await desk.ticket(draft.ticket_id)
    if found is not None:
        return found
    now = desk.clock.now()
    earlier = await desk.store.link(vehicle_key(draft.dealer_id, draft.vin))
    window = timedelta(days=rules.repeat_within_days)
    if earlier and earlier["ticket_id"] != draft.ticket_id and now - earlier["opened_at"] <= window:
        # D18: the same vehicle unhappy again within the window: one grade up, linked.
        draft = draft.model_copy(
            update={
                "grade": raised(draft.grade),
                "rule": f"{draft.rule}+repeat",
                "linked_ticket_ids": [earlier["ticket_id"]],
            }
        )
    draft = draft.model_copy(update={"opened_at": now, "round_started_at": now})
    transition = opening(draft, now, desk.rules_for(draft.dealer_id), cause_event_id, actor)
    if not await desk.store_and_publish(transition):
        stored = await desk.ticket(draft.ticket_id)  # another writer opened it first
        assert stored is not None
        return stored
    opened = transition.ticket
    await desk.store.set_link(
        vehicle_key(opened.dealer_id, opened.vin),
        ticket_id=opened.ticket_id,
        opened_at=opened.opened_at,
    )
    desk.logger.info(
        "ticket opened",
        extra={
            "ticket_id": opened.ticket_id,
            "grade": opened.grade.value,
            "rule": opened.rule,
            "source": opened.source,
            "dealer_id": opened.dealer_id,
        },
    )
    return opened
