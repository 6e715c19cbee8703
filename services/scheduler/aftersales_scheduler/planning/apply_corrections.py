"""Use case: vehicle files corrected on a call (D30) → the next contact of that vehicle uses
the corrected phone, and the maintenance reminder is re-planned from the corrected mileage or
next-maintenance date (D9), as is the vehicle's place in the monthly due list (D12)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from aftersales_contracts.events import ContactPurpose, VehicleFileCorrected

from aftersales_scheduler import filing
from aftersales_scheduler.domain import timer as lifecycle
from aftersales_scheduler.domain.corrections import refresh_contact_data
from aftersales_scheduler.domain.reminders import maintenance_due
from aftersales_scheduler.planning.contacts import (
    Subject,
    dated,
    plan,
    remember_contact_data,
    timer_contact_data,
)
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.ports import Doc, PlanningStore
from aftersales_scheduler.planning.working_set import WorkingSet

MAINTENANCE = "maintenance_reminder"
#: DataCheck fields that move the maintenance reminder (D9).
MAINTENANCE_FIELDS = frozenset(
    {"mileage_km", "next_maintenance_due_date", "next_maintenance_due_mileage_km"}
)


async def apply_corrections(
    ctx: PlanningContext, store: PlanningStore, events: Sequence[VehicleFileCorrected]
) -> None:
    ws = WorkingSet(store, ctx.clock.now())
    subjects = [subject_of(event) for event in events]
    await ws.load_plans(
        {e.event_id: [s.timer_id(MAINTENANCE)] for e, s in zip(events, subjects, strict=True)},
        [key for s in subjects for key in (s.customer_key, s.vehicle_key)],
    )
    # The contact data the vehicles' pending timers name: a correction derives new data from it.
    await ws.load_contacts(
        t["contact_id"]
        for e, s in zip(events, subjects, strict=True)
        for t in _timers_of_vehicle(ws, e, s)
        if "contact_id" in t
    )
    for event, subject in zip(events, subjects, strict=True):
        decide_correction(ws, ctx, event, subject)
    await ws.write()


def subject_of(event: VehicleFileCorrected) -> Subject:
    """The re-planned reminder's source is the file revision: each correction plans its own."""
    return Subject(
        dealer_id=event.dealer_id,
        source_id=f"vehicle-{event.vin}-r{event.file_revision}",
        correlation_id=event.correlation_id,
        causation_id=event.event_id,
        revision=1,
        customer=event.customer,
        vehicle=event.vehicle,
    )


def decide_correction(
    ws: WorkingSet, ctx: PlanningContext, event: VehicleFileCorrected, subject: Subject
) -> None:
    vehicle = ws.person(subject.vehicle_key)
    if event.file_revision <= vehicle.get("file_revision", 0):
        return  # redelivered, or older than a correction already applied
    _refresh_pending(ws, event, subject)
    _refresh_care_subject(ws, event, subject)
    remember_contact_data(ws, subject)
    due = _record_correction(ws, ctx, event, subject)
    if due is None or not MAINTENANCE_FIELDS & set(event.changed):
        return
    # D9: the reminder is re-planned: the pending one is withdrawn, a new one planned.
    reason = f"re-planned: vehicle file corrected (revision {event.file_revision})"
    for timer in ws.timers_of(vehicle):
        if timer["step"] == MAINTENANCE and not ws.was_sent(timer):
            ws.apply(lifecycle.cancel(timer, ws.now, reason))
    today = ws.now.astimezone(ctx.zone(event.dealer_id)).date()
    if due >= today:
        lead = due - timedelta(days=ctx.policy(event.dealer_id).maintenance_reminder_lead_days)
        reminder = dated(
            ctx,
            ws.now,
            event.dealer_id,
            MAINTENANCE,
            ContactPurpose.MAINTENANCE_REMINDER,
            lead,
            event.customer,
        )
        plan(ws, ctx, subject, "reminder", [reminder])


def _timers_of_vehicle(ws: WorkingSet, event: VehicleFileCorrected, subject: Subject) -> list[Doc]:
    """The vehicle's contacts, and its customer's for this vehicle."""
    timers = {
        t["_id"]: t
        for t in (
            *ws.timers_of(ws.person(subject.vehicle_key)),
            *ws.timers_of(ws.person(subject.customer_key)),
        )
        if t["vin"] == event.vin
    }
    return list(timers.values())


def _refresh_pending(ws: WorkingSet, event: VehicleFileCorrected, subject: Subject) -> None:
    """D30: the vehicle's pending contacts name new contact data — their own (staff, sales
    consultant) with the corrected customer and vehicle, kept once per source in `contacts`
    under the file revision — so the next contact dials the corrected phone. Contact data is
    never changed in place: entries filed before keep naming what they named."""
    corrected = {
        "customer": event.customer.model_dump(mode="json"),
        "vehicle": event.vehicle.model_dump(mode="json"),
    }
    note = f"vehicle file corrected (revision {event.file_revision}): {', '.join(event.changed)}"
    for timer in _timers_of_vehicle(ws, event, subject):
        if not lifecycle.is_pending(timer) or event.file_revision <= timer.get("file_revision", 0):
            continue
        cid = filing.contact_id(
            timer["dealer_id"], timer["source_id"], timer.get("revision", 1), event.file_revision
        )
        ws.add_contact({"_id": cid, **_contact_fields(timer_contact_data(ws, timer)), **corrected})
        sent = ws.was_sent(timer)
        change = {"contact_id": cid}
        ws.apply(refresh_contact_data(timer, change, event.file_revision, sent, ws.now, note))


def _refresh_care_subject(ws: WorkingSet, event: VehicleFileCorrected, subject: Subject) -> None:
    """D30 with D10: the customer's next years' birthday calls, planned from the subject kept
    for them, dial the corrected phone (new contact data under the file revision)."""
    person = ws.person(subject.customer_key)
    kept = person.get("care_subject")
    if not kept or kept.get("vehicle", {}).get("vin") != event.vin:
        return  # the care follows another vehicle of the customer: its file was not corrected
    ws.set_person(
        subject.customer_key,
        {
            "care_subject": {
                **kept,
                "customer": event.customer.model_dump(mode="json"),
                "vehicle": event.vehicle.model_dump(mode="json"),
                "file_revision": event.file_revision,
            }
        },
    )


def _contact_fields(data: Doc | None) -> Doc:
    """All CONTACT_FIELDS, whatever the source kept (contact data read back may lack some)."""
    found = data or {}
    fields = {field: found.get(field) for field in filing.CONTACT_FIELDS}
    fields["technicians"] = fields["technicians"] or []
    return fields


def _record_correction(
    ws: WorkingSet, ctx: PlanningContext, event: VehicleFileCorrected, subject: Subject
) -> date | None:
    """The corrected mileage joins the vehicle's visits (km per day, D9); the next
    maintenance, by date or by mileage, is its place in the monthly due list (D12)."""
    if event.vehicle.mileage_km is not None:
        day = event.corrected_at.astimezone(ctx.zone(event.dealer_id)).date()
        ws.add_to_person(
            subject.vehicle_key, "visits", {"day": day.isoformat(), "km": event.vehicle.mileage_km}
        )
    vehicle = ws.person(subject.vehicle_key)
    visits = [(date.fromisoformat(v["day"]), v["km"]) for v in vehicle.get("visits", [])]
    # What the customer did not correct stays as the last visit recorded it.
    basis = {**vehicle.get("maintenance_basis", {}), **_given(event)}
    due_date = basis.get("date")
    due = maintenance_due(
        date.fromisoformat(due_date) if due_date else None, basis.get("mileage_km"), visits
    )
    fields: dict[str, object] = {"file_revision": event.file_revision, "maintenance_basis": basis}
    if due is not None:
        fields["next_maintenance_due_date"] = due.isoformat()
    ws.set_person(subject.vehicle_key, fields)
    return due


def _given(event: VehicleFileCorrected) -> dict[str, object]:
    given: dict[str, object] = {}
    if event.next_maintenance_due_date is not None:
        given["date"] = event.next_maintenance_due_date.isoformat()
    if event.next_maintenance_due_mileage_km is not None:
        given["mileage_km"] = event.next_maintenance_due_mileage_km
    return given
