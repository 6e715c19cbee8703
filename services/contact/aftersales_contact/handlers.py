"""Subscribers' work: a due contact becomes a task in its dealer's open queue."""

from __future__ import annotations

import logging

from aftersales_contracts import ContactDue

from aftersales_contact.desk import Desk
from aftersales_contact.domain.queue import QueueEntry, task_priority
from aftersales_contact.store import Doc, task_document


def queue_entry(task: Doc, priority: int) -> QueueEntry:
    return QueueEntry(
        task_id=task["_id"],
        due_at=task["due_at"],
        priority=priority,
        attempt=task["attempt"],
        purposes=tuple(task["purposes"]),
        channel=task["channel"],
    )


async def when_contact_due_queue_task(
    event: ContactDue, desk: Desk, logger: logging.Logger
) -> None:
    """One task per (contact, attempt); a redelivered or replayed ContactDue adds nothing.

    SMS contacts are queued like calls for now: there is no SMS gateway yet (issue 10, item 6).
    """
    if not event.customer.contact_consent:
        # D4: only customers willing to be contacted are contacted.
        logger.info(
            "contact not queued: no consent",
            extra={"contact_id": event.contact_id, "dealer_id": event.dealer_id},
        )
        return
    document = task_document(event, desk.clock.now())
    added = await desk.store.add_task(document)
    stored = document if added else await desk.store.task(document["_id"])
    if stored is not None and not stored.get("done"):
        # Also after a redelivery: the process may have stopped between the task and the queue.
        priority = task_priority(stored["purposes"], desk.priorities)
        await desk.queue.add(event.dealer_id, queue_entry(stored, priority))
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
