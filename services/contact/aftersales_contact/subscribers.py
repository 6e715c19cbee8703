"""The contact service's Kafka subscribers: each one thin, calling exactly one use case."""

from __future__ import annotations

from collections.abc import Sequence

from aftersales_contracts import ContactDue, topics
from aftersales_runtime.batches import Received, Refused, batch_subscriber, parse_events
from aftersales_runtime.service import Runtime

from aftersales_contact.desk import Desk
from aftersales_contact.queue_due_contact import queue_due_contacts
from aftersales_contact.settings import ContactSettings

SERVICE = "contact"


def register(runtime: Runtime, settings: ContactSettings, desk: Desk) -> None:
    runtime.uses_topics(topics.CONTACT_DUE)

    @batch_subscriber(
        runtime.broker,
        settings,
        topics.CONTACT_DUE,
        group=SERVICE,
        batch=settings,
        title="aftersales.contact.due:contact",
        description="Due contacts, in batches: each becomes one task in its dealer's open "
        "queue (or an SMS, D14).",
    )
    async def when_contacts_due_queue_tasks(records: Sequence[Received]) -> list[Refused]:
        events, refused = parse_events(records, ContactDue)
        await queue_due_contacts(events, desk, runtime.publish, runtime.logger)
        return refused
