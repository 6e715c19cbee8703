"""Fixtures of the scheduler's tests: a service on the isolated database, work orders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aftersales_contracts import (
    CallOutcome,
    Channel,
    ContactClosed,
    ContactDue,
    ContactResult,
    Customer,
    Staff,
    Vehicle,
    WorkOrderClosed,
    WorkOrderType,
    correlation_id_for,
    deterministic_id,
    topics,
)
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.spy import keep_published
from aftersales_scheduler.app import Service, build
from aftersales_scheduler.settings import SchedulerSettings
from faststream.kafka import TestKafkaBroker

DEALER = "dealer-sz-001"
# Friday 2026-11-20 10:30 in Shanghai: a settlement inside calling hours.
SETTLED = datetime(2026, 11, 20, 2, 30, tzinfo=UTC)

DIRECTORY = DealerDirectory.from_mapping(
    {
        "dealers": {
            DEALER: {"time_zone": "Asia/Shanghai"},
            "dealer-strict": {
                "time_zone": "Asia/Shanghai",
                "settings": {"scheduler": {"max_contacts_per_7_days": 1}},
            },
        }
    }
)


@pytest.fixture
def settled() -> datetime:
    return SETTLED


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SETTLED + timedelta(minutes=5))


@pytest.fixture
def settings(service_settings, request) -> SchedulerSettings:
    """Passes unpaced (each in-memory publish is a pass of its own), unless a test asks for an
    interval (`indirect` parametrization)."""
    return service_settings(
        SchedulerSettings,
        claim_lease_seconds=60,
        instance_id="replica-a",
        batch_min_interval_ms=getattr(request, "param", 0),
    )


@pytest.fixture
async def service(settings, clock) -> AsyncIterator[Service]:
    built = build(settings, clock, DIRECTORY)
    try:
        yield built
    finally:
        await built.runtime.mongo.close()


@pytest.fixture
def closed_events() -> list[ContactClosed]:
    """Every ContactClosed the service publishes (filled while `due_events` runs)."""
    return []


@pytest.fixture
async def due_events(service, settings, closed_events) -> AsyncIterator[list[ContactDue]]:
    """Every ContactDue the service publishes, in order (through TestKafkaBroker)."""
    seen: list[ContactDue] = []
    parked: list[bytes] = []
    broker = service.runtime.broker
    keep_published(broker, settings.topic(topics.CONTACT_DUE), seen, ContactDue.model_validate_json)
    keep_published(
        broker,
        settings.topic(topics.CONTACT_CLOSED),
        closed_events,
        ContactClosed.model_validate_json,
    )
    keep_published(broker, settings.topic(topics.DEAD_LETTER), parked)
    async with TestKafkaBroker(broker):
        yield seen
    # A handler failure is parked, not raised: a test that parked anything has failed.
    assert parked == []


WorkOrderFactory = Callable[..., WorkOrderClosed]


@pytest.fixture
def work_order() -> WorkOrderFactory:
    def make(
        number: int = 1,
        *,
        dealer_id: str = DEALER,
        settled_at: datetime = SETTLED,
        revision: int = 1,
        customer_id: str = "C-1",
        vin: str = "LSVAU218XN2183294",
        **customer: Any,
    ) -> WorkOrderClosed:
        work_order_id = f"WO-{number:04d}"
        return WorkOrderClosed(
            event_id=deterministic_id("wo", dealer_id, work_order_id, str(revision)),
            occurred_at=settled_at,
            dealer_id=dealer_id,
            correlation_id=correlation_id_for(dealer_id, work_order_id),
            work_order_id=work_order_id,
            work_order_type=WorkOrderType.MAINTENANCE,
            revision=revision,
            opened_at=settled_at - timedelta(hours=2),
            settled_at=settled_at,
            vehicle=Vehicle(vin=vin, plate="粤B12345", brand="大众", model="帕萨特", mileage_km=1),
            customer=Customer(
                customer_id=customer_id,
                name=customer.pop("name", "张伟"),
                phone="+8613800138000",
                is_owner=True,
                contact_consent=customer.pop("contact_consent", True),
                **customer,
            ),
            service_advisor=Staff(id="SA-007", name="王芳"),
            technicians=[Staff(id="T-1", name="李强")],
            total_amount=580,
        )

    return make


ResultFactory = Callable[..., ContactResult]


@pytest.fixture
def result_for() -> ResultFactory:
    """The agent's result of a ContactDue (outcome, at)."""

    def result_for(due: ContactDue, outcome: CallOutcome, at: datetime) -> ContactResult:
        return ContactResult(
            event_id=deterministic_id("result", due.contact_id, str(due.attempt)),
            occurred_at=at,
            dealer_id=due.dealer_id,
            correlation_id=due.correlation_id,
            causation_id=due.event_id,
            contact_id=due.contact_id,
            task_id=f"task-{due.contact_id}-{due.attempt}",
            agent_id="agent-1",
            channel=Channel.PHONE,
            purposes=due.purposes,
            attempt=due.attempt,
            outcome=outcome,
            contacted_at=at,
            work_order_id=due.work_order_id,
            vin=due.vehicle.vin,
            customer_id=due.customer.customer_id,
        )

    return result_for
