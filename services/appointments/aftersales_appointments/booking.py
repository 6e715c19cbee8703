"""Use cases: book a seat in a workshop slot (D31) and cancel it.

A booking takes the first free seat of the slot by inserting its `_id` (atomic), so the last
seat goes to exactly one of two agents booking at once; the other gets the nearest free slots.
A retried booking (same `request_id`) finds its appointment and answers with it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from aftersales_contracts import AppointmentEventKind, correlation_id_for, deterministic_id
from pydantic import BaseModel, ConfigDict, Field

from aftersales_appointments.context import Context
from aftersales_appointments.domain.appointment import Appointment, HistoryEntry
from aftersales_appointments.domain.workshop import Slot, Workshop


class BookingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    request_id: str = Field(
        min_length=1, max_length=100, description="Chosen by the caller; a retry sends it again."
    )
    vin: str = Field(pattern=r"^[A-HJ-NPR-Z0-9]{17}$")
    customer_id: str = Field(min_length=1, max_length=100)
    plate: str | None = Field(default=None, max_length=20)
    day: date
    slot_id: str = Field(min_length=1, max_length=10)
    service: str = Field(min_length=1, max_length=100, examples=["maintenance"])
    parts_to_prepare: list[str] = Field(default_factory=list, max_length=50)
    note: str | None = Field(default=None, max_length=500)
    contact_id: str | None = Field(default=None, max_length=200)


class Unbookable(Exception):
    """The slot cannot be booked at all (422), naming the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class SlotFull(Exception):
    """Every seat of the slot is taken (409), with the nearest free slots."""

    def __init__(self, alternatives: list[dict[str, object]]) -> None:
        super().__init__("the slot is full")
        self.alternatives = alternatives


def appointment_id_for(dealer_id: str, request_id: str) -> str:
    return deterministic_id("appointment", dealer_id, request_id)


def _checked_slot(
    workshop: Workshop, request: BookingRequest, zone: ZoneInfo, now: datetime
) -> Slot:
    slot = workshop.slot(request.slot_id)
    if slot is None:
        known = ", ".join(s.id for s in workshop.slots)
        raise Unbookable("slot_id", f"no slot {request.slot_id} in this workshop (slots: {known})")
    if not workshop.is_open(request.day):
        raise Unbookable("day", f"the workshop is closed on {request.day.isoformat()}")
    if workshop.starts_at(request.day, slot, zone) <= now:
        raise Unbookable("day", "the slot has already begun")
    if request.day > now.date() + timedelta(days=workshop.horizon_days):
        raise Unbookable("day", f"bookings open {workshop.horizon_days} days ahead")
    if slot.bays == 0:
        raise Unbookable("slot_id", f"slot {slot.id} takes no bookings")
    return slot


async def book(
    ctx: Context, dealer_id: str, request: BookingRequest, actor: str
) -> tuple[Appointment, bool]:
    """The appointment, and whether this call created it (False: a retry found it)."""
    appointment_id = appointment_id_for(dealer_id, request.request_id)
    existing = await ctx.store.appointment(appointment_id)
    if existing is not None:
        await ctx.publish([existing])  # a crash may have kept its event in
        return existing, False
    zone, workshop, now = ctx.zone_of(dealer_id), ctx.workshop_of(dealer_id), ctx.clock.now()
    slot = _checked_slot(workshop, request, zone, now)
    seat = await _take_a_seat(ctx, dealer_id, request.day, slot, appointment_id)
    if seat is None:
        raise SlotFull(await nearest_free(ctx, dealer_id, request.day, slot, now))
    entry = HistoryEntry(at=now, kind=AppointmentEventKind.BOOKED, actor=actor, note=request.note)
    appointment = Appointment(
        appointment_id=appointment_id,
        dealer_id=dealer_id,
        correlation_id=correlation_id_for(dealer_id, f"appointment/{request.request_id}"),
        vin=request.vin,
        customer_id=request.customer_id,
        plate=request.plate,
        day=request.day,
        slot_id=slot.id,
        slot_start=workshop.starts_at(request.day, slot, zone),
        slot_end=workshop.ends_at(request.day, slot, zone),
        seat=seat,
        service=request.service,
        parts_to_prepare=request.parts_to_prepare,
        note=request.note,
        contact_id=request.contact_id,
        booked_by=actor,
        booked_at=now,
        history=[entry],
    )
    if not await ctx.store.insert(appointment):  # the same request raced itself
        found = await ctx.store.appointment(appointment_id)
        assert found is not None
        return found, False
    await ctx.store.list_on_day(appointment)
    await ctx.store.track_vehicle(appointment)
    await ctx.publish([appointment])
    return appointment, True


async def _take_a_seat(
    ctx: Context, dealer_id: str, day: date, slot: Slot, appointment_id: str
) -> int | None:
    holders = await ctx.store.seat_holders(dealer_id, day, slot.id, slot.bays)
    for seat, holder in holders.items():
        if holder == appointment_id:  # a retry after a crash: the seat is already ours
            return seat
    for seat in range(1, slot.bays + 1):
        if seat not in holders and await ctx.store.take_seat(
            dealer_id, day, slot.id, seat, appointment_id
        ):
            return seat
    return None


async def nearest_free(
    ctx: Context, dealer_id: str, day: date, slot: Slot, now: datetime
) -> list[dict[str, object]]:
    """D31: the nearest slots with a free seat, nearest in time first."""
    workshop, zone = ctx.workshop_of(dealer_id), ctx.zone_of(dealer_id)
    candidates = list(workshop.nearest(day, slot, zone, now))
    listed = await ctx.store.days(dealer_id, {d for d, _ in candidates})
    found: list[dict[str, object]] = []
    for d, s in candidates:
        free = s.bays - len(listed.get(d, {}).get(s.id, []))
        if free > 0:
            found.append({"day": d.isoformat(), "slot_id": s.id, "free": free})
        if len(found) == workshop.alternatives:
            break
    return found


async def cancel(
    ctx: Context, appointment: Appointment, actor: str, note: str | None
) -> Appointment:
    cancelled = appointment.cancelled(actor, ctx.clock.now(), note)
    await ctx.store.save(cancelled)
    await ctx.store.free_seat(cancelled)
    await ctx.store.unlist_from_day(cancelled)
    await ctx.store.untrack_vehicle(cancelled)
    await ctx.publish([cancelled])
    return cancelled
