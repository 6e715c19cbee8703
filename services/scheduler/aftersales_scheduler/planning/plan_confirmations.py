"""Use case: a complaint's confirmation requested (D22) → the `complaint_confirmation` contact
at the requested time inside calling hours (D13), to the ticket's customer as the scheduler's
own files know them (phone, consent), under the contact id complaints gave (`cc-{ticket}-r{n}`,
so the answer finds its ticket's round)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aftersales_contracts.dms import Channel
from aftersales_contracts.events import (
    ComplaintEvent,
    ComplaintEventKind,
    ContactPurpose,
    Customer,
    Vehicle,
)

from aftersales_scheduler.domain.plan import PlannedContact, channel_for
from aftersales_scheduler.domain.window import window_start
from aftersales_scheduler.planning.contacts import (
    Subject,
    contact_data_of,
    customer_key,
    latest_timer_of,
    plan,
    vehicle_key,
)
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.ports import PlanningStore
from aftersales_scheduler.planning.working_set import WorkingSet

STEP = "complaint_confirmation"


async def plan_confirmations(
    ctx: PlanningContext,
    store: PlanningStore,
    events: Sequence[ComplaintEvent],
    logger: logging.Logger,
) -> None:
    requests = [
        e for e in events if e.kind is ComplaintEventKind.CONFIRMATION_REQUESTED and e.confirmation
    ]
    if not requests:
        return  # every other step of a ticket is none of the scheduler's business
    ws = WorkingSet(store, ctx.clock.now())
    await ws.load_plans(
        {e.event_id: [e.confirmation.contact_id] for e in requests if e.confirmation},
        [
            key
            for e in requests
            for key in (customer_key(e.dealer_id, e.customer_id), vehicle_key(e.dealer_id, e.vin))
        ],
    )
    # Files planned before the vehicle kept its contact data: their latest contact's data.
    latest = (latest_timer_of(ws, e.dealer_id, e.vin, e.customer_id) for e in requests)
    await ws.load_contacts(t["contact_id"] for t in latest if t and "contact_id" in t)
    for event in requests:
        decide_confirmation(ws, ctx, event, logger)
    await ws.write()


def decide_confirmation(
    ws: WorkingSet, ctx: PlanningContext, event: ComplaintEvent, logger: logging.Logger
) -> None:
    request = event.confirmation
    assert request is not None
    data = contact_data_of(ws, event.dealer_id, event.vin, event.customer_id)
    if data is None:
        logger.warning(
            "confirmation for a vehicle without a file", extra={"contact_id": request.contact_id}
        )
        return
    customer = Customer.model_validate(data["customer"])
    # Slim timers: the contact data is kept once per ticket round in `contacts`
    # (`contact/{dealer}/ticket-{id}/{round}`), as the file knows the customer at that round.
    subject = Subject(
        dealer_id=event.dealer_id,
        source_id=f"ticket-{event.ticket_id}",
        correlation_id=event.correlation_id,
        causation_id=event.event_id,
        revision=request.round,
        customer=customer,
        vehicle=Vehicle.model_validate(data["vehicle"]),
        work_order_id=event.work_order_id,
        service_advisor=event.service_advisor,
        technicians=event.technicians,
    )
    nominal = max(request.due_at, ws.now)
    contact = PlannedContact(
        step=STEP,
        purposes=(ContactPurpose.COMPLAINT_CONFIRMATION,),
        channel=channel_for(Channel.PHONE, customer.preferred_channel),  # D14
        nominal_at=nominal,
        due_at=window_start(ctx.calendar(event.dealer_id), nominal),  # D13
        contact_id=request.contact_id,
    )
    plan(ws, ctx, subject, "complaint", [contact])
