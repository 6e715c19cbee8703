"""Subscribers' work: a due contact becomes a task in its dealer's queue."""

from __future__ import annotations

import logging

from aftersales_contracts import ContactDue
from aftersales_runtime.clock import Clock

from aftersales_contact.store import ContactStore, task_document


async def when_contact_due_queue_task(
    event: ContactDue, store: ContactStore, clock: Clock, logger: logging.Logger
) -> None:
    """One task per (contact, attempt); a redelivered or replayed ContactDue adds nothing.

    SMS contacts are queued like calls for now: there is no SMS gateway yet (issue 3).
    """
    if not event.customer.contact_consent:
        # D4: only customers willing to be contacted are contacted.
        logger.info(
            "contact not queued: no consent",
            extra={"contact_id": event.contact_id, "dealer_id": event.dealer_id},
        )
        return
    document = task_document(event, clock.now())
    added = await store.add_task(document)
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
