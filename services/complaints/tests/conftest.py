"""Fixtures of the complaints service's tests: a service on the isolated database, results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aftersales_complaints.app import ComplaintsService, build
from aftersales_complaints.settings import ComplaintsSettings
from aftersales_contracts import (
    CallOutcome,
    Channel,
    ComplaintEvent,
    ContactPurpose,
    ContactResult,
    Scores,
    Staff,
    correlation_id_for,
    deterministic_id,
    topics,
)
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.spy import keep_published
from faststream.kafka import TestKafkaBroker

# Monday 2026-11-23 10:00 in Shanghai: a working day, inside business hours.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(service_settings) -> ComplaintsSettings:
    # Unpaced: a handler test publishes a record at a time through the in-memory broker, each
    # its own pass, and paced passes would each wait out the interval (pacing is the runtime's,
    # tested there on the real Kafka and measured by the pipeline benchmark).
    return service_settings(ComplaintsSettings, batch_min_interval_ms=0)


@pytest.fixture
async def service(settings, clock) -> AsyncIterator[ComplaintsService]:
    built = build(settings, clock)
    try:
        yield built
    finally:
        await built.runtime.mongo.close()


@pytest.fixture
async def published(service, settings) -> AsyncIterator[list[ComplaintEvent]]:
    """What the service publishes on its complaint events' topic, through TestKafkaBroker."""
    seen: list[ComplaintEvent] = []
    keep_published(
        service.runtime.broker,
        settings.topic(topics.COMPLAINT_EVENT),
        seen,
        ComplaintEvent.model_validate_json,
    )
    async with TestKafkaBroker(service.runtime.broker):
        yield seen


@pytest.fixture
async def client(service, tokens) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.app)
    manager = tokens.header("service_manager", dealers=["*"])  # a group-wide service manager
    async with httpx.AsyncClient(
        transport=transport, base_url="http://complaints", headers=manager
    ) as http:
        yield http


def scores(**low: int) -> Scores:
    return Scores(**{item: low.get(item, 9) for item in Scores.ITEMS})


@pytest.fixture
def result() -> Callable[..., ContactResult]:
    """A ContactResult as the contact service publishes it; keywords override fields."""

    def make(n: int = 1, **overrides: Any) -> ContactResult:
        dealer_id = overrides.pop("dealer_id", "dealer-sz-001")
        work_order_id = f"WO-{n:04d}"
        task_id = deterministic_id("test.task", dealer_id, str(n))
        fields: dict[str, Any] = {
            "event_id": deterministic_id("contact.result", task_id),
            "occurred_at": NOW,
            "dealer_id": dealer_id,
            "correlation_id": correlation_id_for(dealer_id, work_order_id),
            "causation_id": deterministic_id("test.due", str(n)),
            "contact_id": deterministic_id("test.contact", str(n)),
            "task_id": task_id,
            "agent_id": "agent-1",
            "channel": Channel.PHONE,
            "purposes": [ContactPurpose.SERVICE_CALL_DAY3],
            "attempt": 1,
            "outcome": CallOutcome.REACHED,
            "contacted_at": NOW,
            "scores": scores(),
            "work_order_id": work_order_id,
            "vin": f"LSVAU218XN2{n:06d}",
            "customer_id": f"C-{n}",
            "service_advisor": Staff(id="SA-007", name="王芳"),
            "technicians": [Staff(id="T-1", name="李强")],
        }
        fields.update(overrides)
        return ContactResult(**fields)

    return make
