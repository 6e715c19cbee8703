"""Use case: follow-ups not made in time leave the queue and are published as expired.

The sweep walks each dealer's expiry index (hours by `_id`, from its cursor to now), so it costs
what expires, not what is stored. A task expires like a result is recorded: its result document
(`_id` = task) is inserted once, here marked `expired`, so an agent's submission and the expiry
cannot both happen. A task whose lease is still live (a call under way) waits for the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from aftersales_contracts import Channel, ContactExpired, ContactPurpose, deterministic_id

from aftersales_contact.desk import Desk
from aftersales_contact.domain.queue import hour_of
from aftersales_contact.results import Publish, finish_task, forget_if_ours
from aftersales_contact.store import Doc, result_document


def expired_event(task: Doc, now: datetime) -> ContactExpired:
    return ContactExpired(
        event_id=deterministic_id("contact.expired", task["_id"]),
        occurred_at=now,
        dealer_id=task["dealer_id"],
        correlation_id=task["correlation_id"],
        causation_id=task["cause_event_id"],
        contact_id=task["contact_id"],
        task_id=task["_id"],
        channel=Channel(task["channel"]),
        purposes=[ContactPurpose(p) for p in task["purposes"]],
        attempt=task["attempt"],
        due_at=task["due_at"],
        expires_at=task["expires_at"],
        work_order_id=task.get("work_order_id"),
        vin=task["vehicle"]["vin"],
        customer_id=task["customer"]["customer_id"],
    )


async def expire_task(desk: Desk, publish: Publish, task: Doc, now: datetime) -> bool:
    """Expire one open task; False when a result was recorded first (it is not expired).

    Like a result: a pending entry first, so the relay publishes an expiry whose sweep died
    after storing it (the task is done by then, and sweeps pass over done tasks)."""
    event = expired_event(task, now)
    document = result_document(task, {"expired": True}, event.model_dump(mode="json"), now)
    document["expired"] = True
    ours = await desk.pending.add(task["_id"])
    if not await desk.store.add_result(document):
        await forget_if_ours(desk, task["_id"], ours)
        stored = await desk.store.result(task["_id"])
        if ours or stored is None or not stored.get("expired"):
            return False  # an agent's result came first, or this expiry is out already
        # An expiry whose publication is not done: its sweep died before it (this one found
        # the task open), or is under way (the same event id).
        event = ContactExpired.model_validate(stored["event"])
    await finish_task(desk, publish, task, event)
    return True


async def expire_overdue(
    desk: Desk, publish: Publish, dealer_ids: Iterable[str], logger: logging.Logger
) -> int:
    """One sweep over the dealers; returns how many tasks expired."""
    now = desk.clock.now()
    current = hour_of(now)
    expired = 0
    for dealer_id in dealer_ids:
        done_hours: list[str] = []
        next_hour = current
        async for hour, entries in desk.queue.expiring(dealer_id, now):
            waiting = False
            for entry in entries:
                if entry.expires_at > now:
                    waiting = True
                    continue
                task = await desk.store.task(entry.task_id)
                if task is None or task.get("done"):
                    continue
                lease = await desk.store.current_lease(task)
                if lease is not None and lease["expires_at"] > now:
                    waiting = True  # a call under way: its result may still come
                    continue
                if await expire_task(desk, publish, task, now):
                    expired += 1
                    logger.info(
                        "follow-up expired",
                        extra={"task_id": task["_id"], "dealer_id": dealer_id, "hour": hour},
                    )
            if waiting or hour >= current:
                next_hour = min(hour, current)
                break
            done_hours.append(hour)
        await desk.queue.swept(dealer_id, done_hours, next_hour)
    return expired
