"""Fixtures of the appointments service's tests: the service on this test's own database, a
clock that moves when told, a client signed in as an agent, and work orders."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from aftersales_appointments.app import Service, build
from aftersales_appointments.settings import AppointmentsSettings
from aftersales_contracts import (
    Customer,
    Staff,
    Vehicle,
    WorkOrderClosed,
    WorkOrderType,
    correlation_id_for,
)
from aftersales_contracts.envelope import Event
from aftersales_runtime.clock import FixedClock

DEALER = "dealer-sz-001"
VIN = "LSVAU218XN2183294"
# Monday 2026-11-23 10:00 in Shanghai.
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
#: Two bays a slot, so a test fills one quickly.
WORKSHOP = {
    "slots": [
        {"id": "0900", "start": "09:00", "end": "10:30", "bays": 2},
        {"id": "1030", "start": "10:30", "end": "12:00", "bays": 2},
        {"id": "1330", "start": "13:30", "end": "15:00", "bays": 2},
    ],
    "closed_weekdays": [6],
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(service_settings) -> AppointmentsSettings:
    return service_settings(AppointmentsSettings, workshop=WORKSHOP)


class Published(list[Event]):
    """What the service handed to Kafka, in order (the outbox's publish_all, recorded)."""


@pytest.fixture
async def service(settings, clock) -> AsyncIterator[tuple[Service, Published]]:
    built = build(settings, clock)
    published = Published()

    async def record(events):
        published.extend(events)

    built.ctx.outbox.publish_all = record
    try:
        yield built, published
    finally:
        await built.runtime.mongo.close()


@pytest.fixture
async def client(service, tokens) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service[0].http)
    agent = tokens.header("agent", dealers=[DEALER], sub="agent-7")
    async with httpx.AsyncClient(
        transport=transport, base_url="http://appointments", headers=agent
    ) as http:
        yield http


def work_order(number: int, opened_at: datetime, vin: str = VIN) -> WorkOrderClosed:
    return WorkOrderClosed(
        event_id=f"wo-{number}",
        occurred_at=opened_at,
        dealer_id=DEALER,
        correlation_id=correlation_id_for(DEALER, f"WO-{number}"),
        work_order_id=f"WO-{number}",
        work_order_type=WorkOrderType.MAINTENANCE,
        revision=1,
        opened_at=opened_at,
        settled_at=opened_at,
        vehicle=Vehicle(vin=vin, plate="粤B12345", brand="大众", model="帕萨特"),
        customer=Customer(
            customer_id="C-1",
            name="张伟",
            phone="+8613800138000",
            is_owner=True,
            contact_consent=True,
        ),
        service_advisor=Staff(id="SA-1", name="李娜"),
        total_amount=Decimal("480.00"),
    )
