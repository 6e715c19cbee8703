"""The contact service's Kafka subscribers: each one thin, calling exactly one use case."""

from __future__ import annotations

from aftersales_contracts import ContactDue, topics
from aftersales_runtime.service import Runtime

from aftersales_contact.desk import Desk
from aftersales_contact.queue_due_contact import queue_due_contact
from aftersales_contact.settings import ContactSettings

SERVICE = "contact"


def register(runtime: Runtime, settings: ContactSettings, desk: Desk) -> None:
    runtime.uses_topics(topics.CONTACT_DUE)

    @runtime.broker.subscriber(
        settings.topic(topics.CONTACT_DUE),
        group_id=settings.consumer_group(SERVICE),
        auto_offset_reset="earliest",
    )
    async def when_contact_due_queue_task(event: ContactDue) -> None:
        await queue_due_contact(event, desk, runtime.publish, runtime.logger)
