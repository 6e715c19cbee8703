"""Use case: an appointment whose day and the next have passed without an arrival is a no-show
(D31), published so the scheduler plans a follow-up contact.

Per dealer, the sweep walks the days after its cursor up to the day before yesterday (dealer's
time) and reads only those days' lists by `_id`: its cost follows the appointments falling due,
not the history. The cursor moves after the day's events are out, so a crash repeats the day
and the outbox re-sends only what was not published.
"""

from __future__ import annotations

from datetime import date, timedelta

from aftersales_appointments.context import Context
from aftersales_appointments.domain.appointment import Appointment, State

#: Where a dealer's first sweep starts, counted back from the last day it may decide.
FIRST_SWEEP_DAYS = 7


async def sweep_no_shows(ctx: Context, dealer_ids: list[str]) -> list[Appointment]:
    missed: list[Appointment] = []
    for dealer_id in dealer_ids:
        today = ctx.clock.now().astimezone(ctx.zone_of(dealer_id)).date()
        last = today - timedelta(days=2)  # the day after the appointment is over, too
        done = await ctx.store.swept_until(dealer_id) or last - timedelta(days=FIRST_SWEEP_DAYS)
        day = done + timedelta(days=1)
        while day <= last:
            missed += await _sweep_day(ctx, dealer_id, day)
            await ctx.store.mark_swept(dealer_id, day)
            day += timedelta(days=1)
    return missed


async def _sweep_day(ctx: Context, dealer_id: str, day: date) -> list[Appointment]:
    listed = (await ctx.store.days(dealer_id, [day])).get(day, {})
    appointments = await ctx.store.appointments(i for ids in listed.values() for i in ids)
    now = ctx.clock.now()
    missed = [a.missed(now) for a in appointments if a.state is State.BOOKED]
    for appointment in missed:
        await ctx.store.save(appointment)
        await ctx.store.untrack_vehicle(appointment)
    # Missed earlier by a pass that crashed before publishing: the outbox sends what is left.
    await ctx.publish([*missed, *(a for a in appointments if a.state is State.NO_SHOW)])
    return missed
