"""HTTP API: book a workshop slot from a call, the workshop's daily list, free capacity, one
appointment with its history, cancel (D31). No phones or names: the workshop needs the vehicle
and the service wanted; the agent's tool already shows the customer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aftersales_runtime.auth import Caller, allow, require_dealer
from aftersales_runtime.problems import PROBLEM_MEDIA_TYPE, TITLES, TYPE_BASE, Problem
from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from aftersales_appointments.booking import (
    BookingRequest,
    SlotFull,
    Unbookable,
    book,
    cancel,
)
from aftersales_appointments.context import Context
from aftersales_appointments.domain.appointment import Appointment, NotAllowed

#: Who books from a call or at the service desk.
BOOKERS = ("agent", "service_advisor", "service_supervisor", "service_manager")
#: Who reads the workshop's plan (the daily list, capacity, one appointment).
WORKSHOP = (*BOOKERS, "gm")

_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "the slot is full (with the nearest free slots), or the state forbids"}
}


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str | None = Field(default=None, max_length=500)


def _shown(appointment: Appointment) -> dict[str, Any]:
    return appointment.model_dump(mode="json")


def appointments_router(ctx: Context) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["appointments"])

    @router.post("/dealers/{dealer_id}/appointments", status_code=201, responses=_CONFLICT)
    async def book_appointment(
        dealer_id: str, request: BookingRequest, caller: Annotated[Caller, allow(*BOOKERS)]
    ) -> Any:
        """Book a seat in a slot; 201 when booked, 200 when a retry finds the booking, 409 with
        `alternatives` (the nearest free slots) when the slot is full."""
        try:
            appointment, created = await book(ctx, dealer_id, request, caller.sub)
        except Unbookable as error:
            raise HTTPException(
                422, [{"field": error.field, "code": "unbookable", "message": str(error)}]
            ) from error
        except SlotFull as full:
            problem = Problem(
                type=TYPE_BASE + "slot-full",
                title=TITLES[409],
                status=409,
                detail=f"slot {request.slot_id} on {request.day.isoformat()} is full",
                alternatives=full.alternatives,
            )
            return JSONResponse(
                problem.model_dump(exclude_none=True), 409, media_type=PROBLEM_MEDIA_TYPE
            )
        return JSONResponse(_shown(appointment), 201 if created else 200)

    @router.get("/dealers/{dealer_id}/appointments")
    async def daily_list(
        dealer_id: str, day: date, caller: Annotated[Caller, allow(*WORKSHOP)]
    ) -> dict[str, Any]:
        """The workshop's appointments of one day, by slot start, with the parts to prepare."""
        listed = (await ctx.store.days(dealer_id, [day])).get(day, {})
        found = await ctx.store.appointments(i for ids in listed.values() for i in ids)
        found.sort(key=lambda a: (a.slot_start, a.seat))
        return {"dealer_id": dealer_id, "day": day.isoformat(), "items": [_shown(a) for a in found]}

    @router.get("/dealers/{dealer_id}/workshop")
    async def capacity(
        dealer_id: str, day: date, caller: Annotated[Caller, allow(*WORKSHOP)]
    ) -> dict[str, Any]:
        """Each slot of the day: its bays, how many are booked, how many are free."""
        workshop = ctx.workshop_of(dealer_id)
        listed = (await ctx.store.days(dealer_id, [day])).get(day, {})
        slots = [
            {
                "slot_id": s.id,
                "start": s.start.isoformat("minutes"),
                "end": s.end.isoformat("minutes"),
                "bays": s.bays if workshop.is_open(day) else 0,
                "booked": len(listed.get(s.id, [])),
                "free": max(
                    (s.bays if workshop.is_open(day) else 0) - len(listed.get(s.id, [])), 0
                ),
            }
            for s in workshop.slots
        ]
        return {"dealer_id": dealer_id, "day": day.isoformat(), "slots": slots}

    async def _own(appointment_id: str, caller: Caller) -> Appointment:
        appointment = await ctx.store.appointment(appointment_id)
        if appointment is None:
            raise HTTPException(404, "not found")
        require_dealer(caller, appointment.dealer_id)
        return appointment

    @router.get("/appointments/{appointment_id}")
    async def one(
        appointment_id: str, caller: Annotated[Caller, allow(*WORKSHOP)]
    ) -> dict[str, Any]:
        """One appointment with its history (booked, kept by which work order, missed …)."""
        return _shown(await _own(appointment_id, caller))

    @router.post("/appointments/{appointment_id}/cancel", responses=_CONFLICT)
    async def cancel_appointment(
        appointment_id: str,
        body: Cancellation,
        caller: Annotated[Caller, allow(*BOOKERS)],
    ) -> dict[str, Any]:
        """Cancel a booked appointment: its seat is free again."""
        appointment = await _own(appointment_id, caller)
        try:
            return _shown(await cancel(ctx, appointment, caller.sub, body.note))
        except NotAllowed as error:
            raise HTTPException(409, str(error)) from error

    return router
