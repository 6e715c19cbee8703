"""Use case: closed work orders → the after-service plan (D6-D7), the vehicle's visit, the
reminders a visit makes pointless cancelled (D9, D11), new reminders (D9, D11) and care (D10)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from aftersales_contracts.events import ContactPurpose, WorkOrderClosed

from aftersales_scheduler.domain import timer as lifecycle
from aftersales_scheduler.domain.plan import PlannedContact, plan_steps
from aftersales_scheduler.domain.reminders import maintenance_due
from aftersales_scheduler.planning.care import care_timer_ids, plan_care
from aftersales_scheduler.planning.contacts import Subject, dated, plan, remember_contact_data
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.ports import PlanningStore
from aftersales_scheduler.planning.working_set import WorkingSet

#: Reminders a visit makes pointless (D8 first maintenance, D9, D11).
VISIT_CANCELS = frozenset({"maintenance_reminder", "lapsed_recall", "first_maintenance_reminder"})
REMINDER_STEPS = ("maintenance_reminder", "lapsed_recall")


async def plan_work_orders(
    ctx: PlanningContext, store: PlanningStore, events: Sequence[WorkOrderClosed]
) -> None:
    ws = WorkingSet(store, ctx.clock.now())
    subjects = [subject_of(event) for event in events]
    await ws.load_plans(
        {e.event_id: _timer_ids(ctx, ws.now, e, s) for e, s in zip(events, subjects, strict=True)},
        [key for s in subjects for key in (s.customer_key, s.vehicle_key)],
        always=[e.event_id for e in events if e.revision > 1],  # corrections
    )
    for event, subject in zip(events, subjects, strict=True):
        decide_work_order(ws, ctx, event, subject)
    await ws.write()


def subject_of(event: WorkOrderClosed) -> Subject:
    return Subject(
        dealer_id=event.dealer_id,
        source_id=event.work_order_id,
        correlation_id=event.correlation_id,
        causation_id=event.event_id,
        revision=event.revision,
        customer=event.customer,
        vehicle=event.vehicle,
        work_order_id=event.work_order_id,
        service_advisor=event.service_advisor,
        technicians=event.technicians,
    )


def _timer_ids(
    ctx: PlanningContext, now: datetime, event: WorkOrderClosed, subject: Subject
) -> list[str]:
    steps = [s.step for s in ctx.policy(event.dealer_id).after_service]
    care = care_timer_ids(
        ctx, now, subject, event.customer.birthday, event.insurance_expiry, event.licence_expiry
    )
    return [subject.timer_id(step) for step in (*steps, *REMINDER_STEPS)] + care


def decide_work_order(
    ws: WorkingSet, ctx: PlanningContext, event: WorkOrderClosed, subject: Subject
) -> None:
    planned = plan_steps(
        ctx.policy(event.dealer_id).after_service,
        event.settled_at,
        event.work_order_type,
        event.customer.preferred_channel,
        ctx.calendar(event.dealer_id),
        ctx.opens_at(event.dealer_id),
    )
    plan(ws, ctx, subject, "after_service", planned)
    # Only the vehicle's latest visit cancels reminders: a redelivered or late older work
    # order must not cancel what a newer visit planned.
    last_visit = ws.person(subject.vehicle_key).get("last_visit_at")
    latest = last_visit is None or event.settled_at >= last_visit
    _record_visit(ws, event, subject, latest)
    if latest:
        remember_contact_data(ws, subject)
        _cancel_by_visit(ws, subject, event.settled_at)
    plan(ws, ctx, subject, "reminder", _reminders(ws, ctx, event, subject))
    plan_care(
        ws, ctx, subject, event.customer.birthday, event.insurance_expiry, event.licence_expiry
    )


def _record_visit(ws: WorkingSet, event: WorkOrderClosed, subject: Subject, latest: bool) -> None:
    """The vehicle's visits (for km per day, D9), last visit (D11) and next due (D12)."""
    # Visits are objects, not pairs: FerretDB v1 refuses nested arrays.
    visit = {"day": event.settled_at.date().isoformat(), "km": event.vehicle.mileage_km or 0}
    ws.add_to_person(subject.vehicle_key, "visits", visit)
    if not latest:
        return
    due = event.next_maintenance_due_date
    ws.set_person(
        subject.vehicle_key,
        {
            "dealer_id": event.dealer_id,
            "vin": event.vehicle.vin,
            "customer_id": event.customer.customer_id,
            "last_visit_at": event.settled_at,
            "next_maintenance_due_date": due.isoformat() if due else None,
            # D9: what the reminder was planned from, for a correction to re-plan it (D30).
            "maintenance_basis": {
                "date": due.isoformat() if due else None,
                "mileage_km": event.next_maintenance_due_mileage_km,
            },
        },
    )


def _cancel_by_visit(ws: WorkingSet, subject: Subject, visited_at: datetime) -> None:
    """D9/D11: a visit before a reminder goes out cancels it — the customer already came."""
    for timer in ws.timers_of(ws.person(subject.vehicle_key)):
        if (
            timer["step"] in VISIT_CANCELS
            and timer["source_id"] != subject.source_id
            and timer["due_at"] > visited_at
            and not ws.was_sent(timer)
        ):
            reason = f"cancelled by a visit ({subject.source_id})"
            ws.apply(lifecycle.cancel(timer, ws.now, reason))


def _reminders(
    ws: WorkingSet, ctx: PlanningContext, event: WorkOrderClosed, subject: Subject
) -> list[PlannedContact]:
    policy = ctx.policy(event.dealer_id)
    today = ws.now.astimezone(ctx.zone(event.dealer_id)).date()
    vehicle = ws.person(subject.vehicle_key)
    visits = [(date.fromisoformat(v["day"]), v["km"]) for v in vehicle.get("visits", [])]
    due = maintenance_due(
        event.next_maintenance_due_date, event.next_maintenance_due_mileage_km, visits
    )
    reminders: list[PlannedContact] = []
    if due is not None and due >= today:  # D9
        lead = due - timedelta(days=policy.maintenance_reminder_lead_days)
        reminders.append(
            dated(
                ctx,
                ws.now,
                event.dealer_id,
                "maintenance_reminder",
                ContactPurpose.MAINTENANCE_REMINDER,
                lead,
                event.customer,
            )
        )
    lapsed = event.settled_at.date() + timedelta(days=policy.lapsed_after_days)  # D11
    reminders.append(
        dated(
            ctx,
            ws.now,
            event.dealer_id,
            "lapsed_recall",
            ContactPurpose.LAPSED_CUSTOMER_RECALL,
            lapsed,
            event.customer,
        )
    )
    return reminders
