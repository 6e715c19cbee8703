"""Use case: a due contact becomes a task in its dealer's open queue."""

from __future__ import annotations

import logging
from datetime import datetime

from aftersales_contracts import Channel, ContactDue

from aftersales_contact.desk import Desk
from aftersales_contact.domain.expiry import expires_at_for
from aftersales_contact.domain.queue import QueueEntry, task_priority
from aftersales_contact.domain.tasks import task_id_for
from aftersales_contact.expiry_sweep import expire_task
from aftersales_contact.results import Publish
from aftersales_contact.sms_channel import send_by_sms
from aftersales_contact.store import task_document


async def _expiry(desk: Desk, event: ContactDue) -> datetime:
    """Counted from when the contact first fell due: a retry keeps its first attempt's deadline."""
    if event.attempt > 1:
        first = await desk.store.task(task_id_for(event.contact_id, 1))
        if first is not None and first.get("expires_at") is not None:
            expires_at: datetime = first["expires_at"]
            return expires_at
    return expires_at_for(
        [p.value for p in event.purposes], event.due_at, desk.expire_after_days_for(event.dealer_id)
    )


async def queue_due_contact(
    event: ContactDue, desk: Desk, publish: Publish, logger: logging.Logger
) -> None:
    """One task per (contact, attempt); a redelivered or replayed ContactDue adds nothing.

    A contact on the SMS channel is sent by SMS when a provider is configured (D14), else it is
    queued for the agents like a call.
    """
    sms = desk.sms
    if not event.customer.contact_consent or (
        sms is not None and await sms.store.opted_out(event.dealer_id, event.customer.phone)
    ):
        # D4: only customers willing to be contacted are contacted (an SMS opt-out holds even
        # before the scheduler has heard of it).
        logger.info(
            "contact not queued: no consent",
            extra={"contact_id": event.contact_id, "dealer_id": event.dealer_id},
        )
        return
    now = desk.clock.now()
    document = task_document(event, now)
    document["expires_at"] = await _expiry(desk, event)
    added = await desk.store.add_task(document)
    stored = document if added else await desk.store.task(document["_id"])
    if stored is None or stored.get("done"):
        return
    if stored["expires_at"] <= now:
        # Fell due (or was redelivered) after its deadline: not worth a call any more.
        await expire_task(desk, publish, stored, now)
        return
    await desk.queue.add_expiry(
        event.dealer_id, stored["_id"], stored["due_at"], stored["expires_at"]
    )
    if sms is not None and stored["channel"] == Channel.SMS.value:
        accepts_calls = event.customer.preferred_channel is not Channel.SMS  # D14
        await send_by_sms(desk, sms, publish, stored, accepts_calls)
        logger.info(
            "contact sent by SMS",
            extra={"task_id": stored["_id"], "dealer_id": event.dealer_id},
        )
        return
    # Also after a redelivery: the process may have stopped between the task and the queue.
    priority = task_priority(stored["purposes"], desk.priorities_for(event.dealer_id))
    await desk.queue.add(event.dealer_id, QueueEntry.of_task(stored, priority))
    logger.info(
        "task queued" if added else "task already queued",
        extra={
            "task_id": document["_id"],
            "contact_id": event.contact_id,
            "attempt": event.attempt,
            "dealer_id": event.dealer_id,
            "channel": event.channel.value,
        },
    )
