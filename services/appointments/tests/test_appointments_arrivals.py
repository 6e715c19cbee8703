"""Arrivals keep appointments; a passed day makes a no-show (D31). The use cases on the real
database; what they publish is recorded. Redelivery and repeated sweeps change nothing."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aftersales_appointments.arrivals import record_arrivals
from aftersales_appointments.booking import BookingRequest, book
from aftersales_appointments.no_shows import sweep_no_shows
from aftersales_contracts import AppointmentEventKind

from .conftest import DEALER, VIN, work_order

SHANGHAI = ZoneInfo("Asia/Shanghai")
OTHER_VIN = "LFV2A21K6A3012345"


async def _book(ctx, request_id: str, day: str, vin: str = VIN):
    request = BookingRequest(
        request_id=request_id,
        vin=vin,
        customer_id="C-1",
        day=day,
        slot_id="0900",
        service="maintenance",
    )
    appointment, _ = await book(ctx, DEALER, request, "agent-7")
    return appointment


async def test_a_work_order_on_the_day_or_the_next_keeps_the_appointment_once(service) -> None:
    built, published = service
    ctx = built.ctx
    wednesday = await _book(ctx, "r-1", "2026-11-25")
    other = await _book(ctx, "r-2", "2026-11-25", vin=OTHER_VIN)
    published.clear()

    early = work_order(1, datetime(2026, 11, 24, 9, 30, tzinfo=SHANGHAI))  # the day before
    assert await record_arrivals(ctx, [early]) == []
    next_day = work_order(2, datetime(2026, 11, 26, 8, 45, tzinfo=SHANGHAI))
    kept = await record_arrivals(ctx, [next_day])
    assert [a.appointment_id for a in kept] == [wednesday.appointment_id]
    assert [(e.kind, e.work_order_id) for e in published] == [(AppointmentEventKind.KEPT, "WO-2")]

    assert await record_arrivals(ctx, [next_day]) == []  # redelivered: nothing twice
    assert len(published) == 1
    stored = await ctx.store.appointment(wednesday.appointment_id)
    assert stored.state == "kept"
    assert stored.work_order_id == "WO-2"
    assert (await ctx.store.appointment(other.appointment_id)).state == "booked"


async def test_an_appointment_whose_next_day_passed_is_a_no_show_once(service, clock) -> None:
    built, published = service
    ctx = built.ctx
    missed = await _book(ctx, "r-1", "2026-11-25")
    came = await _book(ctx, "r-2", "2026-11-25", vin=OTHER_VIN)
    await record_arrivals(
        ctx, [work_order(1, datetime(2026, 11, 25, 9, 5, tzinfo=SHANGHAI), OTHER_VIN)]
    )
    published.clear()

    clock.set(datetime(2026, 11, 26, 23, 59, tzinfo=SHANGHAI))  # the next day is not over yet
    assert await sweep_no_shows(ctx, [DEALER]) == []
    clock.set(datetime(2026, 11, 27, 0, 1, tzinfo=SHANGHAI))
    found = await sweep_no_shows(ctx, [DEALER])
    assert [a.appointment_id for a in found] == [missed.appointment_id]
    assert [(e.kind, e.appointment_id) for e in published] == [
        (AppointmentEventKind.NO_SHOW, missed.appointment_id)
    ]
    clock.advance(timedelta(days=3))
    assert await sweep_no_shows(ctx, [DEALER]) == []  # the cursor moved on: never twice
    assert len(published) == 1
    assert (await ctx.store.appointment(came.appointment_id)).state == "kept"
    # A late arrival after the no-show does not revive it (a new visit, a new story).
    assert (
        await record_arrivals(ctx, [work_order(2, datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI))])
        == []
    )


async def test_a_crash_before_publishing_is_repaired_by_the_next_pass(service, clock) -> None:
    built, published = service
    ctx = built.ctx
    booked = await _book(ctx, "r-1", "2026-11-25")
    published.clear()

    async def down(events):
        raise ConnectionError("kafka is down")

    working = ctx.outbox.publish_all
    ctx.outbox.publish_all = down
    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI))
    with contextlib.suppress(ConnectionError):
        await sweep_no_shows(ctx, [DEALER])
    assert (await ctx.store.appointment(booked.appointment_id)).state == "no_show"
    ctx.outbox.publish_all = working
    await sweep_no_shows(ctx, [DEALER])  # the day was not marked swept: it comes again
    await sweep_no_shows(ctx, [DEALER])
    assert [e.kind for e in published] == [AppointmentEventKind.NO_SHOW]
