"""ContactDue → the dealer's queue, through TestKafkaBroker on the real database."""

import pytest
from aftersales_contact.domain.tasks import task_id_for
from aftersales_contracts import Customer
from aftersales_runtime.kafka import publish_event
from aftersales_runtime.packing import unpack_document
from faststream.kafka import TestKafkaBroker

pytestmark = pytest.mark.stack


async def test_a_due_contact_becomes_one_task_with_what_the_agent_needs(
    service, settings, clock, due, mongo_db
):
    event = due(1)
    async with TestKafkaBroker(service.runtime.broker):
        await publish_event(service.runtime.broker, settings, event)

    tasks = [unpack_document(t) for t in await mongo_db["tasks"].find().to_list()]
    assert len(tasks) == 1
    task = tasks[0]
    assert task["_id"] == task_id_for(event.contact_id, event.attempt)
    assert task["dealer_id"] == event.dealer_id
    assert task["customer"] == {
        "customer_id": event.customer.customer_id,
        "name": event.customer.name,
        "phone": event.customer.phone,
    }
    assert task["vehicle"]["vin"] == event.vehicle.vin
    assert task["due_at"] == event.due_at
    assert task["purposes"] == [p.value for p in event.purposes]
    assert task["correlation_id"] == event.correlation_id
    assert task["cause_event_id"] == event.event_id
    assert task["queued_at"] == clock.now()
    assert task["done"] is False


async def test_redelivery_adds_no_second_task_but_a_new_attempt_does(
    service, settings, due, mongo_db
):
    first = due(1)
    async with TestKafkaBroker(service.runtime.broker):
        for _ in range(3):  # redelivered / replayed
            await publish_event(service.runtime.broker, settings, first)
        await publish_event(
            service.runtime.broker,
            settings,
            first.model_copy(update={"attempt": 2, "event_id": "retry-event"}),
        )

    ids = sorted(t["_id"] for t in await mongo_db["tasks"].find().to_list())
    assert ids == sorted([task_id_for(first.contact_id, 1), task_id_for(first.contact_id, 2)])


async def test_a_customer_without_consent_is_not_queued(service, settings, due, mongo_db):
    base = due(1)
    unwilling = base.model_copy(
        update={"customer": Customer(**{**base.customer.model_dump(), "contact_consent": False})}
    )
    async with TestKafkaBroker(service.runtime.broker):
        await publish_event(service.runtime.broker, settings, unwilling)  # D4

    assert await mongo_db["tasks"].count_documents({}) == 0
