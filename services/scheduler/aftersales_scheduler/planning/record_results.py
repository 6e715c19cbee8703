"""Use case: contact results → D15 retries of unreached calls (another hour of the day, up to
`max_attempts`), closure, and D4 opt-out cancelling everything pending for the customer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from aftersales_contracts.events import CallOutcome, ContactResult

from aftersales_scheduler.domain import timer as lifecycle
from aftersales_scheduler.domain.plan import retry_at
from aftersales_scheduler.planning.contacts import cancel_pending, customer_key
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.ports import PlanningStore
from aftersales_scheduler.planning.working_set import WorkingSet


async def record_results(
    ctx: PlanningContext,
    store: PlanningStore,
    events: Sequence[ContactResult],
    logger: logging.Logger,
) -> None:
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
    await store.apply(ws.changes, ws.now)


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
        key = customer_key(timer["dealer_id"], timer["customer_id"])
        ws.set_person(key, {"opted_out": True, "opted_out_by": "call"})
        cancel_pending(ws, ws.person(key).get("timer_ids", []), "opt-out (call)")
        return
    if not event.outcome.is_unreached:
        ws.apply(lifecycle.close(timer, attempt, event.outcome.value, now))
        return
    policy = ctx.policy(timer["dealer_id"])
    if attempt >= policy.max_attempts:
        ws.apply(lifecycle.give_up(timer, attempt, now))
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
