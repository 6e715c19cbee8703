"""Use case: delivered vehicles → D8 sales call counted from the delivery event (day 2, timely
within 3 days), the run-in / first-maintenance reminder (day 14), and D10 care (birthday,
insurance)."""

from __future__ import annotations

from collections.abc import Sequence

from aftersales_contracts.events import VehicleDelivered

from aftersales_scheduler.domain.plan import plan_steps
from aftersales_scheduler.planning.care import care_timer_ids, plan_care
from aftersales_scheduler.planning.contacts import Subject, plan, remember_contact_data
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.ports import PlanningStore
from aftersales_scheduler.planning.working_set import WorkingSet


async def plan_deliveries(
    ctx: PlanningContext, store: PlanningStore, events: Sequence[VehicleDelivered]
) -> None:
    ws = WorkingSet(store, ctx.clock.now())
    subjects = [subject_of(event) for event in events]
    plans = {
        event.event_id: [
            *(subject.timer_id(s.step) for s in ctx.policy(event.dealer_id).delivery),
            *care_timer_ids(
                ctx, ws.now, subject, event.customer.birthday, event.insurance_expiry, None
            ),
        ]
        for event, subject in zip(events, subjects, strict=True)
    }
    await ws.load_plans(plans, [key for s in subjects for key in (s.customer_key, s.vehicle_key)])
    for event, subject in zip(events, subjects, strict=True):
        planned = plan_steps(
            ctx.policy(event.dealer_id).delivery,
            event.delivered_at,
            None,
            event.customer.preferred_channel,
            ctx.calendar(event.dealer_id),
            ctx.opens_at(event.dealer_id),
        )
        plan(ws, ctx, subject, "delivery", planned)
        remember_contact_data(ws, subject)
        plan_care(ws, ctx, subject, event.customer.birthday, event.insurance_expiry, None)
    await ws.write()


def subject_of(event: VehicleDelivered) -> Subject:
    return Subject(
        dealer_id=event.dealer_id,
        source_id=event.delivery_id,
        correlation_id=event.correlation_id,
        causation_id=event.event_id,
        revision=1,
        customer=event.customer,
        vehicle=event.vehicle,
        sales_consultant=event.sales_consultant,  # D24: its own field, not the advisor's
    )
