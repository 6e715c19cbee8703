"""Use case: due contacts become tasks in their dealers' open queues, a batch at a time.

One bulk insert of the tasks, one read of what a redelivery finds already there, then per dealer
one pass over the expiry index and one over the queue's buckets (open_queue): the cost follows
the batch, not one round trip after another per contact.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from aftersales_contracts import Channel, ContactDue

from aftersales_contact.desk import Desk
from aftersales_contact.domain.expiry import expires_at_for
from aftersales_contact.domain.queue import Expiring, QueueEntry, task_priority
from aftersales_contact.domain.tasks import task_id_for
from aftersales_contact.expiry_sweep import expire_task
from aftersales_contact.results import Publish
from aftersales_contact.sms_channel import send_by_sms
from aftersales_contact.store import Doc, task_document


async def _willing(
    desk: Desk, events: Sequence[ContactDue], logger: logging.Logger
) -> list[ContactDue]:
    """D4: only customers willing to be contacted are contacted (an SMS opt-out holds even
    before the scheduler has heard of it)."""
    willing = []
    for event in events:
        sms = desk.sms
        if not event.customer.contact_consent or (
            sms is not None and await sms.store.opted_out(event.dealer_id, event.customer.phone)
        ):
            logger.info(
                "contact not queued: no consent",
                extra={"contact_id": event.contact_id, "dealer_id": event.dealer_id},
            )
            continue
        willing.append(event)
    return willing


async def _documents(desk: Desk, events: Sequence[ContactDue], now: datetime) -> list[Doc]:
    """The tasks' documents, one per (contact, attempt); a retry keeps its first attempt's
    deadline (counted from when the contact first fell due)."""
    documents = {task_id_for(e.contact_id, e.attempt): task_document(e, now) for e in events}
    firsts = await desk.store.tasks_found(
        [task_id_for(e.contact_id, 1) for e in events if e.attempt > 1]
    )
    for event in events:
        document = documents[task_id_for(event.contact_id, event.attempt)]
        first = firsts.get(task_id_for(event.contact_id, 1))
        if first is not None and first.get("expires_at") is not None:
            document["expires_at"] = first["expires_at"]
        else:
            document["expires_at"] = expires_at_for(
                document["purposes"], event.due_at, desk.expire_after_days_for(event.dealer_id)
            )
    return list(documents.values())


async def queue_due_contacts(
    events: Sequence[ContactDue], desk: Desk, publish: Publish, logger: logging.Logger
) -> None:
    """One task per (contact, attempt); a redelivered or replayed ContactDue adds nothing.

    A contact on the SMS channel is sent by SMS when a provider is configured (D14), else it is
    queued for the agents like a call.
    """
    willing = await _willing(desk, events, logger)
    if not willing:
        return
    now = desk.clock.now()
    documents = await _documents(desk, willing, now)
    collided = await desk.store.insert_tasks(documents)
    there = await desk.store.tasks_found(list(collided)) if collided else {}
    preferred = {
        task_id_for(e.contact_id, e.attempt): e.customer.preferred_channel for e in willing
    }
    expiring: defaultdict[str, list[Expiring]] = defaultdict(list)
    open_tasks: list[Doc] = []
    for document in documents:
        stored = there.get(document["_id"]) if document["_id"] in collided else document
        if stored is None or stored.get("done"):
            continue
        if stored["expires_at"] <= now:
            # Fell due (or was redelivered) after its deadline: not worth a call any more.
            await expire_task(desk, publish, stored, now)
            continue
        expiring[stored["dealer_id"]].append(
            Expiring(stored["_id"], stored["due_at"], stored["expires_at"])
        )
        open_tasks.append(stored)
    for dealer_id, items in expiring.items():
        await desk.queue.add_expiries(dealer_id, items)
    # Also after a redelivery: the process may have stopped between the task and the queue.
    queued: defaultdict[str, list[QueueEntry]] = defaultdict(list)
    for task in open_tasks:
        sms = desk.sms
        if sms is not None and task["channel"] == Channel.SMS.value:
            accepts_calls = preferred[task["_id"]] is not Channel.SMS  # D14
            await send_by_sms(desk, sms, publish, task, accepts_calls)
            logger.info(
                "contact sent by SMS",
                extra={"task_id": task["_id"], "dealer_id": task["dealer_id"]},
            )
            continue
        priority = task_priority(task["purposes"], desk.priorities_for(task["dealer_id"]))
        queued[task["dealer_id"]].append(QueueEntry.of_task(task, priority))
    for dealer_id, entries in queued.items():
        added = await desk.queue.add(dealer_id, entries)
        for entry in entries:
            logger.info(
                "task queued" if entry.task_id in added else "task already queued",
                extra={"task_id": entry.task_id, "dealer_id": dealer_id, "attempt": entry.attempt},
            )
