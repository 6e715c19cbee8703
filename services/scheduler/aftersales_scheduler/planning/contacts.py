"""Planning contacts for a subject, on a batch's working set (shared by the use cases):
D4 consent, D13 merge / cap against the customer's other contacts, and the repair a
redelivered event does when its first delivery was cut short."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from aftersales_contracts.dms import Channel
from aftersales_contracts.events import ContactPurpose, Customer, Staff, Vehicle

from aftersales_scheduler import filing
from aftersales_scheduler.domain import timer as lifecycle
from aftersales_scheduler.domain.plan import (
    OtherContact,
    PlannedContact,
    Verdict,
    channel_for,
    decide,
)
from aftersales_scheduler.domain.reminders import at_local, next_anniversary
from aftersales_scheduler.domain.slots import timer_id as make_timer_id
from aftersales_scheduler.domain.timer import LIVE, TimerState, trail
from aftersales_scheduler.domain.window import window_start
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.ports import Doc
from aftersales_scheduler.planning.working_set import WorkingSet

#: Reminders are one-way messages by default (D14: SMS for reminders); care is a call.
REMINDER_CHANNEL = {
    ContactPurpose.MAINTENANCE_REMINDER: Channel.SMS,
    ContactPurpose.INSURANCE_EXPIRY_CARE: Channel.SMS,
    ContactPurpose.LICENCE_EXPIRY_CARE: Channel.SMS,
    ContactPurpose.BIRTHDAY_CARE: Channel.SMS,
}


def customer_key(dealer_id: str, customer_id: str) -> str:
    return f"customer/{dealer_id}/{customer_id}"


def vehicle_key(dealer_id: str, vin: str) -> str:
    return f"vehicle/{dealer_id}/{vin}"


@dataclass(frozen=True)
class Subject:
    """What every plan needs from its cause, whatever the cause (work order, delivery …)."""

    dealer_id: str
    source_id: str  # work order or delivery id: part of the timer id
    correlation_id: str
    causation_id: str
    revision: int
    customer: Customer
    vehicle: Vehicle
    work_order_id: str | None = None
    service_advisor: Staff | None = None
    technicians: Sequence[Staff] = ()

    @property
    def customer_key(self) -> str:
        return customer_key(self.dealer_id, self.customer.customer_id)

    @property
    def vehicle_key(self) -> str:
        return vehicle_key(self.dealer_id, self.vehicle.vin)

    def timer_id(self, step: str) -> str:
        return make_timer_id(self.dealer_id, self.source_id, step)

    @property
    def contact_id(self) -> str:
        return filing.contact_id(self.correlation_id, self.revision)

    def to_document(self) -> Doc:
        """All of it, to plan again later without the event (D10 yearly care)."""
        return {
            "dealer_id": self.dealer_id,
            "source_id": self.source_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "revision": self.revision,
            **self.contact_data(),
        }

    @classmethod
    def from_document(cls, doc: Doc) -> Subject:
        advisor = doc.get("service_advisor")
        return cls(
            dealer_id=doc["dealer_id"],
            source_id=doc["source_id"],
            correlation_id=doc["correlation_id"],
            causation_id=doc["causation_id"],
            revision=doc["revision"],
            customer=Customer.model_validate(doc["customer"]),
            vehicle=Vehicle.model_validate(doc["vehicle"]),
            service_advisor=Staff.model_validate(advisor) if advisor else None,
            technicians=[Staff.model_validate(t) for t in doc.get("technicians", [])],
        )

    def snapshot(self) -> Doc:
        """What a timer keeps of its subject: the revision and the contact data it names
        (kept once in `contacts`, refreshed by a correction: a new revision)."""
        return {"revision": self.revision, "contact_id": self.contact_id}

    def contact_document(self) -> Doc:
        return {"_id": self.contact_id, **self.contact_data()}

    def contact_data(self) -> Doc:
        """The contact data the ContactDue will carry."""
        return {
            "customer": self.customer.model_dump(mode="json"),
            "vehicle": self.vehicle.model_dump(mode="json"),
            "service_advisor": (
                self.service_advisor.model_dump(mode="json") if self.service_advisor else None
            ),
            "technicians": [t.model_dump(mode="json") for t in self.technicians],
        }


def dated(
    ctx: PlanningContext,
    dealer_id: str,
    step: str,
    purpose: ContactPurpose,
    day: date,
    customer: Customer,
) -> PlannedContact:
    """A reminder on a local date, at the policy's time of day, not before now, moved into
    the calling window (D13); reminders default to SMS unless the customer prefers (D14)."""
    policy = ctx.policy(dealer_id)
    nominal = max(at_local(day, policy.reminder_time_of_day, ctx.zone(dealer_id)), ctx.clock.now())
    return PlannedContact(
        step=step,
        purposes=(purpose,),
        channel=channel_for(
            REMINDER_CHANNEL.get(purpose, Channel.PHONE), customer.preferred_channel
        ),
        nominal_at=nominal,
        due_at=window_start(ctx.calendar(dealer_id), nominal),
    )


def others_of(ws: WorkingSet, person: Doc) -> list[OtherContact]:
    return [
        OtherContact(
            timer_id=t["_id"],
            due_at=t["due_at"],
            pending=lifecycle.is_pending(t),
            purposes=tuple(ContactPurpose(p) for p in t["purposes"]),
        )
        for t in ws.timers_of(person)
        if t["state"] in LIVE
    ]


def cancel_pending(ws: WorkingSet, timer_ids: Sequence[str], reason: str) -> None:
    for tid in timer_ids:
        found = ws.timer(tid)
        if found is not None:
            ws.apply(lifecycle.cancel(found, ws.now, reason))


def apply_consent(ws: WorkingSet, subject: Subject) -> Doc:
    """D4: a customer unwilling to be contacted is never contacted; the DMS flag may be
    given again later (opt-outs said on a call stay). Returns the customer's document."""
    key = subject.customer_key
    person = ws.person(key)
    if not subject.customer.contact_consent:
        if not person.get("opted_out"):
            ws.set_person(key, {"opted_out": True, "opted_out_by": "dms"})
        # Every time, not only when the flag changes: a delivery cut short after the flag
        # was written still withdraws everything pending when it comes again.
        cancel_pending(ws, person.get("timer_ids", []), "opt-out (DMS)")
    elif person.get("opted_out_by") == "dms":
        ws.set_person(key, {"opted_out": False, "opted_out_by": None})
    return ws.person(key)


def link(ws: WorkingSet, subject: Subject, tid: str) -> None:
    ws.add_to_person(subject.customer_key, "timer_ids", tid)
    ws.add_to_person(subject.vehicle_key, "timer_ids", tid)


def plan(
    ws: WorkingSet, ctx: PlanningContext, subject: Subject, kind: str, planned: list[PlannedContact]
) -> None:
    """Each contact: a new timer decided against the customer's other contacts (D4, D13), or,
    when it exists (a redelivery or a correction), the repair and refresh of the existing one."""
    apply_consent(ws, subject)
    ws.add_contact(subject.contact_document())
    for contact in planned:
        tid = subject.timer_id(contact.step)
        existing = ws.timer(tid)
        if existing is None:
            _plan_new(ws, ctx, subject, kind, contact, tid, ws.person(subject.customer_key))
        else:
            repair(ws, existing, subject)
        link(ws, subject, tid)


def _plan_new(
    ws: WorkingSet,
    ctx: PlanningContext,
    subject: Subject,
    kind: str,
    contact: PlannedContact,
    tid: str,
    person: Doc,
) -> None:
    now = ws.now
    steps = [trail(now, "planned", f"{contact.step} at {contact.nominal_at.isoformat()}")]
    if contact.moved:
        steps.append(trail(now, "moved", f"calling window: {contact.due_at.isoformat()}"))
    doc: Doc = {
        "_id": tid,
        "dealer_id": subject.dealer_id,
        "kind": kind,
        "source_id": subject.source_id,
        "step": contact.step,
        "purposes": [p.value for p in contact.purposes],
        "channel": contact.channel.value,
        "nominal_at": contact.nominal_at,
        "due_at": contact.due_at,
        "attempt": 1,
        "version": 1,
        "filed_key": None,
        "state": TimerState.PENDING.value,
        "work_order_id": subject.work_order_id,
        "correlation_id": subject.correlation_id,
        "causation_id": subject.causation_id,
        "customer_id": subject.customer.customer_id,
        "vin": subject.vehicle.vin,
        **subject.snapshot(),
    }
    host: Doc | None = None
    absorbed: Doc | None = None
    if person.get("opted_out"):
        doc["state"] = TimerState.SUPPRESSED.value
        steps.append(trail(now, "suppressed", "opt-out (D4)"))
    else:
        policy = ctx.policy(subject.dealer_id)
        decision = decide(
            contact,
            others_of(ws, person),
            now,
            policy.max_contacts_per_7_days,
            policy.merge_same_window,
            ctx.calendar(subject.dealer_id),
        )
        if decision.verdict is Verdict.SUPPRESS_CAP:
            doc["state"] = TimerState.SUPPRESSED.value
            steps.append(trail(now, "suppressed", decision.reason))
        elif decision.verdict is Verdict.MERGE_INTO_EXISTING:
            assert decision.other is not None
            doc["state"], doc["merged_into"] = TimerState.MERGED.value, decision.other.timer_id
            steps.append(trail(now, "merged", f"into {decision.other.timer_id}"))
            host = ws.timer(decision.other.timer_id)
        elif decision.verdict is Verdict.ABSORB_EXISTING:
            assert decision.other is not None
            doc["purposes"] = [p.value for p in decision.purposes]
            doc["absorbed"] = [decision.other.timer_id]
            steps.append(trail(now, "merged", f"absorbed {decision.other.timer_id}"))
            absorbed = ws.timer(decision.other.timer_id)
    doc["trail"] = steps
    ws.add_timer(doc)
    if host is not None:
        ws.apply(lifecycle.add_purposes(host, doc["purposes"], f"merged {tid}", now))
    if absorbed is not None:
        ws.apply(lifecycle.merge_into(absorbed, tid, now))


def repair(ws: WorkingSet, existing: Doc, subject: Subject) -> None:
    """A redelivery changes nothing, except finishing what a crash cut short (a merge into the
    host, the absorbed contact's withdrawal); a correction refreshes a pending timer."""
    now = ws.now
    host_id = existing.get("merged_into")
    if existing["state"] == TimerState.MERGED and host_id and (host := ws.timer(host_id)):
        ws.apply(
            lifecycle.add_purposes(host, existing["purposes"], f"merged {existing['_id']}", now)
        )
    for absorbed_id in existing.get("absorbed", []):
        if (absorbed := ws.timer(absorbed_id)) is not None:
            ws.apply(lifecycle.merge_into(absorbed, existing["_id"], now))
    ws.apply(lifecycle.correct(existing, subject.snapshot(), ws.was_sent(existing), now))


def care_occasions(
    ctx: PlanningContext,
    subject: Subject,
    birthday: date | None,
    insurance_expiry: date | None,
    licence_expiry: date | None,
) -> list[tuple[Subject, PlannedContact]]:
    """D10: birthday, insurance and licence expiry, each with its lead time; the timer id
    carries the date, so the same occasion is planned once whoever mentions it."""
    dealer = subject.dealer_id
    lead = ctx.policy(dealer).care_lead_days
    today = ctx.clock.now().astimezone(ctx.zone(dealer)).date()
    customer, vin = subject.customer, subject.vehicle.vin
    occasions: list[tuple[str, str, ContactPurpose, date, int]] = []
    if birthday is not None:
        day = next_anniversary(birthday, today)
        occasions.append(
            (
                f"customer-{customer.customer_id}",
                f"birthday_{day.year}",
                ContactPurpose.BIRTHDAY_CARE,
                day,
                lead.birthday,
            )
        )
    if insurance_expiry is not None and insurance_expiry >= today:
        occasions.append(
            (
                f"vehicle-{vin}",
                f"insurance_{insurance_expiry.isoformat()}",
                ContactPurpose.INSURANCE_EXPIRY_CARE,
                insurance_expiry,
                lead.insurance_expiry,
            )
        )
    if licence_expiry is not None and licence_expiry >= today:
        occasions.append(
            (
                f"customer-{customer.customer_id}",
                f"licence_{licence_expiry.isoformat()}",
                ContactPurpose.LICENCE_EXPIRY_CARE,
                licence_expiry,
                lead.licence_expiry,
            )
        )
    return [
        (
            replace(subject, source_id=source, work_order_id=None),
            dated(ctx, dealer, step, purpose, day - timedelta(days=lead_days), customer),
        )
        for source, step, purpose, day, lead_days in occasions
    ]


def plan_care(
    ws: WorkingSet,
    ctx: PlanningContext,
    subject: Subject,
    birthday: date | None,
    insurance_expiry: date | None,
    licence_expiry: date | None,
) -> None:
    if birthday is not None:
        # Kept so the daily job plans next year's birthday without a new visit.
        ws.set_person(
            subject.customer_key,
            {
                "care_dealer_id": subject.dealer_id,
                "birthday": birthday.isoformat(),
                "care_subject": subject.to_document(),
            },
        )
    for care, contact in care_occasions(ctx, subject, birthday, insurance_expiry, licence_expiry):
        plan(ws, ctx, care, "care", [contact])


def care_timer_ids(
    ctx: PlanningContext,
    subject: Subject,
    birthday: date | None,
    insurance_expiry: date | None,
    licence_expiry: date | None,
) -> list[str]:
    return [
        care.timer_id(contact.step)
        for care, contact in care_occasions(
            ctx, subject, birthday, insurance_expiry, licence_expiry
        )
    ]
