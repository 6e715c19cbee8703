"""D31: a booked appointment → the customer reminded the day before at the start of calling
hours (their channel, inside the contact cap); a cancellation withdraws the reminder; a no-show
→ a follow-up call in the next calling window. The customer is the scheduler's own file."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from aftersales_contracts import (
    AppointmentEvent,
    AppointmentEventKind,
    ContactPurpose,
    deterministic_id,
)
from aftersales_runtime.kafka import publish_event

pytestmark = pytest.mark.stack

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALER = "dealer-sz-001"
VIN = "LSVAU218XN2183294"
DAY = date(2026, 12, 10)  # a Thursday
REMINDER = f"{DEALER}/appointment-A-1/appointment_reminder"
FOLLOW_UP = f"{DEALER}/appointment-A-1/appointment_no_show"


def appointment(kind: AppointmentEventKind, day: date = DAY, at: datetime | None = None):
    start = datetime.combine(day, time(9), SHANGHAI)
    return AppointmentEvent(
        event_id=deterministic_id("appointment", "A-1", kind.value),
        occurred_at=at or datetime(2026, 11, 20, 11, 0, tzinfo=SHANGHAI),
        dealer_id=DEALER,
        correlation_id=deterministic_id("corr", "A-1"),
        appointment_id="A-1",
        kind=kind,
        vin=VIN,
        customer_id="C-1",
        day=day,
        slot_id="0900",
        slot_start=start,
        slot_end=start + timedelta(minutes=90),
        service="maintenance",
        contact_id=f"{DEALER}/WO-0001/call_day3",
        actor="agent-7",
    )


async def test_a_booking_is_reminded_the_day_before_once(
    service, settings, work_order, due_events, clock
):
    await publish_event(service.runtime.broker, settings, work_order())
    booked = appointment(AppointmentEventKind.BOOKED)
    await publish_event(service.runtime.broker, settings, booked)
    await publish_event(service.runtime.broker, settings, booked)  # redelivered

    timer = await service.store.timer(REMINDER)
    assert timer is not None
    assert (timer["state"], timer["kind"]) == ("pending", "appointment")
    assert timer["due_at"] == datetime(2026, 12, 9, 9, 0, tzinfo=SHANGHAI)  # D13 opening
    customer = await service.store.person(f"customer/{DEALER}/C-1")
    assert customer["timer_ids"].count(REMINDER) == 1

    clock.set(datetime(2026, 12, 9, 9, 0, tzinfo=SHANGHAI))
    await service.dispatcher.tick()
    reminders = [e for e in due_events if ContactPurpose.APPOINTMENT_REMINDER in e.purposes]
    assert [(e.contact_id, e.attempt) for e in reminders] == [(REMINDER, 1)]
    assert reminders[0].customer.phone == "+8613800138000"  # from the scheduler's own file


async def test_a_cancelled_booking_is_not_reminded(service, settings, work_order, due_events):
    await publish_event(service.runtime.broker, settings, work_order())
    await publish_event(service.runtime.broker, settings, appointment(AppointmentEventKind.BOOKED))
    await publish_event(
        service.runtime.broker, settings, appointment(AppointmentEventKind.CANCELLED)
    )
    timer = await service.store.timer(REMINDER)
    assert timer["state"] == "cancelled"


async def test_a_booking_for_the_next_morning_made_at_night_gets_no_reminder(
    service, settings, work_order, due_events, clock
):
    await publish_event(service.runtime.broker, settings, work_order())
    clock.set(datetime(2026, 12, 9, 21, 0, tzinfo=SHANGHAI))  # after calling hours
    late = appointment(AppointmentEventKind.BOOKED, at=clock.now())
    await publish_event(service.runtime.broker, settings, late)
    assert await service.store.timer(REMINDER) is None  # it would come after the slot began


async def test_a_no_show_is_followed_up_in_the_next_calling_window(
    service, settings, work_order, due_events, clock
):
    await publish_event(service.runtime.broker, settings, work_order())
    clock.set(datetime(2026, 12, 11, 21, 30, tzinfo=SHANGHAI))  # the sweep ran late at night
    missed = appointment(AppointmentEventKind.NO_SHOW, at=clock.now())
    await publish_event(service.runtime.broker, settings, missed)
    timer = await service.store.timer(FOLLOW_UP)
    assert timer is not None
    assert timer["due_at"] == datetime(2026, 12, 12, 9, 0, tzinfo=SHANGHAI)
    clock.set(datetime(2026, 12, 12, 9, 0, tzinfo=SHANGHAI))
    await service.dispatcher.tick()
    follow_ups = [e for e in due_events if ContactPurpose.APPOINTMENT_NO_SHOW in e.purposes]
    assert [e.contact_id for e in follow_ups] == [FOLLOW_UP]


async def test_a_no_show_in_a_full_week_is_followed_up_once_the_cap_allows_not_dropped(
    service, settings, work_order, due_events, clock
):
    """D31 with D13: the day-3 call and the day-7 survey of the visit fill the cap of 2 in 7
    days; the no-show's follow-up waits until a 7-day window has room, at calling hours."""
    await publish_event(service.runtime.broker, settings, work_order())
    clock.set(datetime(2026, 11, 24, 21, 30, tzinfo=SHANGHAI))
    missed = appointment(AppointmentEventKind.NO_SHOW, day=date(2026, 11, 24), at=clock.now())
    await publish_event(service.runtime.broker, settings, missed)

    timer = await service.store.timer(FOLLOW_UP)
    assert timer["state"] == "pending"
    assert any(step["event"] == "moved" and "cap" in step["detail"] for step in timer["trail"])
    due = timer["due_at"].astimezone(SHANGHAI)
    assert due > datetime(2026, 11, 25, 9, 0, tzinfo=SHANGHAI)  # not the next window: capped
    assert due.time() == time(9, 0)  # at the opening of a later day's calling hours

    customer = await service.store.person(f"customer/{DEALER}/C-1")
    others = [await service.store.timer(t) for t in customer["timer_ids"] if t != FOLLOW_UP]
    live = [t["due_at"] for t in others if t["state"] in ("pending", "sent")]
    assert len(live) >= 2  # the cap was full when the no-show came
    week = timedelta(days=7)
    for start in [*live, timer["due_at"]]:
        in_window = [t for t in [*live, timer["due_at"]] if start <= t < start + week]
        if timer["due_at"] in in_window:
            assert len(in_window) <= service.planning.policy(DEALER).max_contacts_per_7_days
