"""Use case: a work order opened for a booked vehicle on its day, or the next, keeps the
appointment (D31). Idempotent: a redelivered work order finds the appointment kept already and
only re-sends what a crash may have left unpublished."""

from __future__ import annotations

from collections.abc import Sequence

from aftersales_contracts import WorkOrderClosed

from aftersales_appointments.context import Context
from aftersales_appointments.domain.appointment import Appointment, State


async def record_arrivals(ctx: Context, orders: Sequence[WorkOrderClosed]) -> list[Appointment]:
    kept: dict[str, Appointment] = {}
    for dealer_id in {o.dealer_id for o in orders}:
        mine = [o for o in orders if o.dealer_id == dealer_id]
        open_ids = await ctx.store.open_for_vehicle(dealer_id, {o.vehicle.vin for o in mine})
        listed = await ctx.store.appointments(i for ids in open_ids.values() for i in ids)
        # Listed but no longer booked: a crash came between saving and tidying up; finish it.
        kept.update({a.appointment_id: a for a in listed if a.state is not State.BOOKED})
        by_vin: dict[str, list[Appointment]] = {}
        booked = [a for a in listed if a.state is State.BOOKED]
        for appointment in sorted(booked, key=lambda a: a.slot_start):
            by_vin.setdefault(appointment.vin, []).append(appointment)
        zone = ctx.zone_of(dealer_id)
        for order in mine:
            arrived_on = order.opened_at.astimezone(zone).date()
            for appointment in by_vin.get(order.vehicle.vin, []):
                current = kept.get(appointment.appointment_id, appointment)
                if current.arrival_counts(arrived_on):
                    kept[appointment.appointment_id] = current.kept(
                        order.work_order_id, ctx.clock.now()
                    )
                    break
    for appointment in kept.values():
        await ctx.store.save(appointment)
        await ctx.store.untrack_vehicle(appointment)
    await ctx.publish(list(kept.values()))
    return list(kept.values())
