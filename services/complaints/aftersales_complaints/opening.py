"""Opening recovery tickets, whatever brought them (D18, D29): exactly once per cause, linked to
the same vehicle's last ticket and one grade up when that one is recent (D18).

A batch of openings reads what it needs first (the tickets already there and the vehicles'
last tickets, each in a `$in` read), decides in memory in the batch's order, so a vehicle
unhappy twice in one batch sees its own first ticket, then stores, publishes and links in a few
commands (`TicketDesk.store_and_publish_all`). A batch applied halfway (a crash) and delivered
again finds the tickets it stored, publishes what they hold back, writes the links they left
unwritten, and opens the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aftersales_contracts import deterministic_id

from aftersales_complaints.desk import TicketDesk
from aftersales_complaints.domain.grading import GradingRules, raised
from aftersales_complaints.domain.ticket import Ticket
from aftersales_complaints.domain.transitions import SYSTEM, Transition, opening


def ticket_id_for(cause: str) -> str:
    """A result's ticket is named by its task id; a logged complaint by its log entry."""
    return deterministic_id("ticket", cause)


def opened_event_id_for(ticket_id: str) -> str:
    return deterministic_id("complaint.opened", ticket_id)


def vehicle_key(dealer_id: str, vin: str) -> str:
    return f"vehicle/{dealer_id}/{vin}"


@dataclass(frozen=True)
class Opening:
    """A ticket to open: its draft, its dealer's grading rules, what caused it and who."""

    draft: Ticket
    rules: GradingRules
    cause_event_id: str
    actor: str = SYSTEM


@dataclass(frozen=True)
class _Link:
    """A vehicle's last ticket (D18), as stored in `links`."""

    ticket_id: str
    opened_at: datetime

    def document(self, key: str) -> dict[str, Any]:
        return {"_id": key, "ticket_id": self.ticket_id, "opened_at": self.opened_at}


async def open_once(
    desk: TicketDesk,
    draft: Ticket,
    rules: GradingRules,
    cause_event_id: str,
    actor: str = SYSTEM,
) -> Ticket:
    """The ticket, opened now unless it exists already (then its stored events are published
    if a crash held them back, and it is returned as it is)."""
    return (await open_all(desk, [Opening(draft, rules, cause_event_id, actor)]))[0]


async def open_all(desk: TicketDesk, openings: Sequence[Opening]) -> list[Ticket]:
    """Each opening's ticket, in order: opened now, or as found (see `open_once`)."""
    if not openings:
        return []
    ids = list(dict.fromkeys(o.draft.ticket_id for o in openings))
    known = await desk.tickets(ids)  # what a delivery before this one stored is published
    keys = {o.draft.ticket_id: vehicle_key(o.draft.dealer_id, o.draft.vin) for o in openings}
    stored_links = await desk.store.links_by_keys(keys.values())
    last = {key: _Link(doc["ticket_id"], doc["opened_at"]) for key, doc in stored_links.items()}
    now = desk.clock.now()
    new: list[Transition] = []
    for o in openings:
        key = keys[o.draft.ticket_id]
        if o.draft.ticket_id in known:
            last[key] = _later(last.get(key), known[o.draft.ticket_id])
            continue
        draft = _graded(o.draft, o.rules, last.get(key), now)
        transition = opening(draft, now, desk.rules_for(draft.dealer_id), o.cause_event_id, o.actor)
        new.append(transition)
        known[draft.ticket_id] = transition.ticket
        last[key] = _Link(draft.ticket_id, now)
    claimed = await desk.store_and_publish_all(new)
    lost = [t.ticket.ticket_id for t, ours in zip(new, claimed, strict=True) if not ours]
    known.update(await desk.tickets(lost))  # another writer opened them first: theirs stand
    await desk.store.set_links(
        link.document(key)
        for key, link in last.items()
        # A lost ticket's link is its writer's to set (it may have moved on since).
        if link != _stored(stored_links.get(key)) and link.ticket_id not in lost
    )
    for transition, ours in zip(new, claimed, strict=True):
        if ours:
            _log_opened(desk, transition.ticket)
    return [known[o.draft.ticket_id] for o in openings]


def _graded(draft: Ticket, rules: GradingRules, earlier: _Link | None, now: datetime) -> Ticket:
    """The draft as it opens now: D18, the same vehicle unhappy again within the window, one
    grade up and linked to its last ticket."""
    window = timedelta(days=rules.repeat_within_days)
    if earlier and earlier.ticket_id != draft.ticket_id and now - earlier.opened_at <= window:
        draft = draft.model_copy(
            update={
                "grade": raised(draft.grade),
                "rule": f"{draft.rule}+repeat",
                "linked_ticket_ids": [earlier.ticket_id],
            }
        )
    return draft.model_copy(update={"opened_at": now, "round_started_at": now})


def _later(link: _Link | None, ticket: Ticket) -> _Link:
    """The vehicle's last ticket, knowing `ticket` is one of its tickets. A batch opens its
    tickets at one moment: of two opened together, the one linked to the other is the later."""
    if link is None or ticket.opened_at > link.opened_at:
        return _Link(ticket.ticket_id, ticket.opened_at)
    if ticket.opened_at == link.opened_at and link.ticket_id in ticket.linked_ticket_ids:
        return _Link(ticket.ticket_id, ticket.opened_at)
    return link


def _stored(doc: dict[str, Any] | None) -> _Link | None:
    return _Link(doc["ticket_id"], doc["opened_at"]) if doc is not None else None


def _log_opened(desk: TicketDesk, opened: Ticket) -> None:
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
