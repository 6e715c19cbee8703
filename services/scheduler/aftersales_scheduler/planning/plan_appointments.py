"""Use case: a workshop appointment's events (D31).

- `booked` → the customer is reminded the day before, at the start of calling hours, through
  their channel (D14) and inside the contact cap (D13);
- `cancelled`, or `kept` before the reminder went out → the reminder is withdrawn;
- `no_show` → a follow-up call in the next calling window ("why did you not come?").
The customer and the vehicle are the scheduler's own files (phone, consent, corrections), as for
a complaint's confirmation. Idempotent: a redelivered event finds its timer planned.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from aftersales_contracts.dms import Channel
from aftersales_contracts.events import (
    AppointmentEvent,
    AppointmentEventKind,
    ContactPurpose,
    Customer,
    Vehicle,
)

from aftersales_scheduler.domain.plan import PlannedContact, channel_for
from aftersales_scheduler.domain.slots import timer_id as make_timer_id
from aftersales_scheduler.domain.window import window_start
from aftersales_scheduler.planning.contacts import (
    Subject,
    cancel_pending,
    contact_data_of,
    customer_key,
    latest_timer_of,
    plan,
    vehicle_key,
)
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.ports import PlanningStore
from aftersales_scheduler.planning.working_set import WorkingSet

REMINDER = "appointment_reminder"
NO_SHOW = "appointment_no_show"
#: The event kind that plans each step.
STEP_OF = {AppointmentEventKind.BOOKED: REMINDER, AppointmentEventKind.NO_SHOW: NO_SHOW}


def source_of(event: AppointmentEvent) -> str:
    return f"appointment-{event.appointment_id}"


def timer_of(event: AppointmentEvent, step: str) -> str:
    return make_timer_id(event.dealer_id, source_of(event), step)


async def plan_appointments(
    ctx: PlanningContext,
    store: PlanningStore,
    events: Sequence[AppointmentEvent],
    logger: logging.Logger,
) -> None:
    ws = WorkingSet(store, ctx.clock.now())
    await ws.load_plans(
        {e.event_id: [timer_of(e, STEP_OF[e.kind])] for e in events if e.kind in STEP_OF},
        [
            key
            for e in events
            for key in (customer_key(e.dealer_id, e.customer_id), vehicle_key(e.dealer_id, e.vin))
        ],
    )
    await ws.load([timer_of(e, REMINDER) for e in events if e.kind not in STEP_OF])
    latest = (latest_timer_of(ws, e.dealer_id, e.vin, e.customer_id) for e in events)
    await ws.load_contacts(t["contact_id"] for t in latest if t and "contact_id" in t)
    for event in events:
        if event.kind in STEP_OF:
            _plan(ws, ctx, event, logger)
        else:  # D31: cancelled, or the customer came before being reminded
            cancel_pending(ws, [timer_of(event, REMINDER)], f"appointment {event.kind.value}")
    await ws.write()


def _plan(
    ws: WorkingSet, ctx: PlanningContext, event: AppointmentEvent, logger: logging.Logger
) -> None:
    data = contact_data_of(ws, event.dealer_id, event.vin, event.customer_id)
    if data is None:
        logger.warning(
            "appointment of a vehicle without a file",
            extra={"appointment_id": event.appointment_id},
        )
        return
    customer = Customer.model_validate(data["customer"])
    subject = Subject(
        dealer_id=event.dealer_id,
        source_id=source_of(event),
        correlation_id=event.correlation_id,
        causation_id=event.event_id,
        revision=1 if event.kind is AppointmentEventKind.BOOKED else 2,
        customer=customer,
        vehicle=Vehicle.model_validate(data["vehicle"]),
        work_order_id=event.work_order_id,
    )
    calendar = ctx.calendar(event.dealer_id)
    if event.kind is AppointmentEventKind.BOOKED:
        # The day before, at the start of calling hours; a booking made later than that is
        # reminded as soon as the window allows, if that is still before the slot begins.
        day_before = event.day - timedelta(days=1)
        nominal = max(datetime.combine(day_before, time(0), calendar.tz), ws.now)
        due = window_start(calendar, nominal)
        if due >= event.slot_start:
            return  # booked too late for a reminder to be of use
        purpose, channel = ContactPurpose.APPOINTMENT_REMINDER, Channel.PHONE
    else:
        nominal, due = ws.now, window_start(calendar, ws.now)
        purpose, channel = ContactPurpose.APPOINTMENT_NO_SHOW, Channel.PHONE
    contact = PlannedContact(
        step=STEP_OF[event.kind],
        purposes=(purpose,),
        channel=channel_for(channel, customer.preferred_channel),  # D14
        nominal_at=nominal,
        due_at=due,  # D13
    )
    plan(ws, ctx, subject, "appointment", [contact])
