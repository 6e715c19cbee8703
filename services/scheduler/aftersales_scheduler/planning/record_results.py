"""Use case: contact results → D15 retries of unreached calls (another hour of the day, inside
the timeliness window first, up to `max_attempts`), then the closure as unreachable, published
(`ContactClosed`) so reporting counts it; other outcomes close the contact; D4 opt-outs cancel
what is pending for the customer — every kind of contact, or only those named."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from aftersales_contracts import deterministic_id
from aftersales_contracts.events import (
    CallOutcome,
    ContactClosed,
    ContactClosedReason,
    ContactResult,
)
from aftersales_runtime.outbox import Outbox, Pending

from aftersales_scheduler.domain import timer as lifecycle
from aftersales_scheduler.domain.plan import retry_at
from aftersales_scheduler.filing import TIMERS, live_timer_ids
from aftersales_scheduler.planning.contacts import cancel_pending, customer_key, withdraw_purposes
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.ports import Doc, PlanningStore
from aftersales_scheduler.planning.working_set import WorkingSet

#: Where a timer closed as unreachable keeps its `ContactClosed` until the outbox marks it out.
CLOSED_EVENT = "closed_event"


async def record_results(
    ctx: PlanningContext,
    store: PlanningStore,
    events: Sequence[ContactResult],
    logger: logging.Logger,
    outbox: Outbox | None = None,
) -> None:
    """`outbox` publishes the closures (None: stored only, for tests without a bus)."""
    ws = WorkingSet(store, ctx.clock.now())
    await ws.load(timer_ids=[e.contact_id for e in events])
    opting_out = [
        customer_key(t["dealer_id"], t["customer_id"])
        for e in events
        if e.outcome is CallOutcome.OPTED_OUT and (t := ws.timer(e.contact_id)) is not None
    ]
    await ws.load(person_keys=opting_out)
    for event in events:
        decide_result(ws, ctx, event, logger)
    await ws.write()
    if outbox is not None:
        await publish_closures(ws, outbox, [e.contact_id for e in events])


def decide_result(
    ws: WorkingSet, ctx: PlanningContext, event: ContactResult, logger: logging.Logger
) -> None:
    timer = ws.timer(event.contact_id)
    if timer is None:
        logger.warning("result for an unknown contact", extra={"contact_id": event.contact_id})
        return
    now, attempt = ws.now, event.attempt
    if event.outcome is CallOutcome.OPTED_OUT:
        ws.apply(lifecycle.close(timer, attempt, "opted_out", now))
        _opt_out(ws, timer, event)
        return
    if not event.outcome.is_unreached:
        ws.apply(lifecycle.close(timer, attempt, event.outcome.value, now))
        return
    policy = ctx.policy(timer["dealer_id"])
    if attempt >= policy.max_attempts:
        closing = lifecycle.give_up(timer, attempt, now)
        if closing is not None:
            ws.apply(closing)
            # D15: stored with the closure, published after the write (see publish_closures).
            closed = closed_event(timer, event, now)
            ws.apply(lifecycle.Transition(timer["_id"], {CLOSED_EVENT: closed}))
        return
    if not lifecycle.is_pending(timer) or timer["attempt"] != attempt:
        return  # already handled: a redelivery
    due = retry_at(
        timer["due_at"],
        now,
        timedelta(hours=policy.retry_after_hours),
        ctx.calendar(timer["dealer_id"]),
        event.callback_at,
        timer.get("timely_until"),
        timedelta(hours=policy.retry_in_window_after_hours),
    )
    ws.apply(lifecycle.retry(timer, attempt, due, event.outcome.value, now))


def _opt_out(ws: WorkingSet, timer: Doc, event: ContactResult) -> None:
    """D4: `opted_out_of` None = every kind of contact, from now on; otherwise only those
    purposes (pending contacts lose them, later ones that would carry only them are
    suppressed)."""
    key = customer_key(timer["dealer_id"], timer["customer_id"])
    pending = live_timer_ids(ws.person(key))
    if event.opted_out_of is None:
        ws.set_person(key, {"opted_out": True, "opted_out_by": "call"})
        cancel_pending(ws, pending, "opt-out (call)")
        return
    named = {p.value for p in event.opted_out_of}
    refused = sorted(set(ws.person(key).get("opted_out_of", [])) | named)
    ws.set_person(key, {"opted_out_of": refused})
    withdraw_purposes(ws, pending, named, f"opt-out of {', '.join(sorted(named))} (call)")


def closed_event(timer: Doc, result: ContactResult, now: datetime) -> Doc:
    closed = ContactClosed(
        event_id=deterministic_id("contact.closed", timer["_id"]),
        occurred_at=now,
        dealer_id=timer["dealer_id"],
        correlation_id=timer["correlation_id"],
        causation_id=result.event_id,
        contact_id=timer["_id"],
        reason=ContactClosedReason.UNREACHABLE,
        purposes=timer["purposes"],
        channel=timer["channel"],
        attempts=result.attempt,
        closed_at=now,
        last_outcome=result.outcome,
        work_order_id=timer.get("work_order_id"),
        vin=timer["vin"],
        customer_id=timer["customer_id"],
    )
    return closed.model_dump(mode="json")


async def publish_closures(ws: WorkingSet, outbox: Outbox, timer_ids: Sequence[str]) -> None:
    """Closures stored and not marked out yet are published, then marked (the outbox): a
    result redelivered after a crash between the write and the mark publishes the same
    event again, never a second one."""
    closed = {
        tid: timer[CLOSED_EVENT]
        for tid in dict.fromkeys(timer_ids)
        if (timer := ws.timer(tid)) is not None and timer.get(CLOSED_EVENT)
    }
    if not closed:
        return
    out = await outbox.published_revisions(TIMERS, closed)
    await outbox.flush(
        [
            Pending(TIMERS, tid, (ContactClosed.model_validate(event),))
            for tid, event in closed.items()
            if tid not in out
        ]
    )
