"""D22: a complaint's confirmation requested → one `complaint_confirmation` contact at the
requested time inside calling hours, to the customer as the scheduler's files know them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aftersales_contracts import (
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    ConfirmationRequest,
    ContactPurpose,
    deterministic_id,
)
from aftersales_runtime.kafka import publish_event

pytestmark = pytest.mark.stack

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALER = "dealer-sz-001"
VIN = "LSVAU218XN2183294"
REQUESTED = datetime(2026, 11, 24, 21, 30, tzinfo=SHANGHAI)  # after calling hours


def complaint_event(
    kind: ComplaintEventKind, round_: int = 1, vin: str = VIN, at: datetime = REQUESTED
) -> ComplaintEvent:
    confirmation = None
    if kind is ComplaintEventKind.CONFIRMATION_REQUESTED:
        confirmation = ConfirmationRequest(contact_id=f"cc-T-1-r{round_}", due_at=at, round=round_)
    return ComplaintEvent(
        event_id=deterministic_id("complaint", "T-1", kind.value, str(round_)),
        occurred_at=at - timedelta(hours=1),
        dealer_id=DEALER,
        correlation_id=deterministic_id("corr", "T-1"),
        ticket_id="T-1",
        kind=kind,
        grade=ComplaintGrade.D,
        work_order_id="WO-0001",
        contact_id=f"{DEALER}/WO-0001/call_day3",
        vin=vin,
        customer_id="C-1",
        assigned_role="service_advisor",
        opened_at=at - timedelta(days=1),
        confirmation=confirmation,
    )


async def test_a_confirmation_request_plans_one_call_in_calling_hours(
    service, settings, work_order, due_events, clock
):
    await publish_event(service.runtime.broker, settings, work_order())
    await publish_event(
        service.runtime.broker, settings, complaint_event(ComplaintEventKind.OPENED)
    )
    request = complaint_event(ComplaintEventKind.CONFIRMATION_REQUESTED)
    await publish_event(service.runtime.broker, settings, request)
    await publish_event(service.runtime.broker, settings, request)  # redelivered

    timer = await service.store.timer("cc-T-1-r1")
    assert timer is not None
    assert (timer["state"], timer["kind"], timer["step"]) == (
        "pending",
        "complaint",
        "complaint_confirmation",
    )
    assert timer["due_at"] == datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)  # D13
    customer = await service.store.person(f"customer/{DEALER}/C-1")
    assert customer["timer_ids"].count("cc-T-1-r1") == 1

    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI))
    await service.dispatcher.tick()
    confirmations = [e for e in due_events if e.contact_id == "cc-T-1-r1"]
    assert [(e.purposes, e.attempt) for e in confirmations] == [
        ([ContactPurpose.COMPLAINT_CONFIRMATION], 1)
    ]
    [due] = confirmations
    assert due.customer.phone == "+8613800138000"  # from the scheduler's own file
    assert due.work_order_id == "WO-0001"


async def test_a_reopened_ticket_gets_a_second_confirmation(
    service, settings, work_order, due_events, clock
):
    await publish_event(service.runtime.broker, settings, work_order())
    for round_ in (1, 2):
        request = complaint_event(ComplaintEventKind.CONFIRMATION_REQUESTED, round_)
        await publish_event(service.runtime.broker, settings, request)
    assert await service.store.timer("cc-T-1-r1") is not None
    assert await service.store.timer("cc-T-1-r2") is not None


async def test_a_confirmation_of_an_unknown_vehicle_plans_nothing(
    service, settings, due_events, clock
):
    request = complaint_event(ComplaintEventKind.CONFIRMATION_REQUESTED, vin="LGXCE4CB2N0123456")
    await publish_event(service.runtime.broker, settings, request)
    assert await service.store.timer("cc-T-1-r1") is None
