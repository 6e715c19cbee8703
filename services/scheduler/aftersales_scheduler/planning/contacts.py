"""Planning contacts for a subject, on a batch's working set (shared by the use cases):
D4 consent and opt-outs, D13 merge / cap against the customer's other contacts, the vehicle
file's contact data, and the repair a redelivered event does when its first delivery was cut
short. D10 care occasions are `care.py`'s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from aftersales_contracts.dms import Channel
from aftersales_contracts.events import ContactPurpose, Customer, Staff, Vehicle

from aftersales_scheduler import filing
from aftersales_scheduler.domain import timer as lifecycle
from aftersales_scheduler.domain.plan import (
    PlannedContact,
    Verdict,
    channel_for,
    decide,
    first_within_cap,
)
from aftersales_scheduler.domain.reminders import at_local
from aftersales_scheduler.domain.slots import timer_id as make_timer_id
from aftersales_scheduler.domain.timer import TimerState, trail
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


#: D22: the customer waits for the confirmation call of their complaint: never capped (D13).
CAP_EXEMPT = frozenset({ContactPurpose.COMPLAINT_CONFIRMATION})
#: D31: a no-show is followed up; when the cap is full (D13) the call waits until it allows.
CAP_DEFERRED = frozenset({ContactPurpose.APPOINTMENT_NO_SHOW})


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
    sales_consultant: Staff | None = None  # D8, D24: a delivery's consultant
    file_revision: int = 0  # D30: the vehicle file's correction its contact data comes from
    #: D10 care: the work order or delivery whose contact data its contacts name (their own
    #: source is the occasion's, shared by every visit of the customer or vehicle).
    contact_source_id: str = ""

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
        source = self.contact_source_id or self.source_id
        return filing.contact_id(self.dealer_id, source, self.revision, self.file_revision)

    def to_document(self) -> Doc:
        """All of it, to plan again later without the event (D10 yearly care)."""
        return {
            "dealer_id": self.dealer_id,
            "source_id": self.source_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "revision": self.revision,
            "file_revision": self.file_revision,
            **self.contact_data(),
        }

    @classmethod
    def from_document(cls, doc: Doc) -> Subject:
        advisor, consultant = doc.get("service_advisor"), doc.get("sales_consultant")
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
            sales_consultant=Staff.model_validate(consultant) if consultant else None,
            file_revision=int(doc.get("file_revision", 0)),
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
            "sales_consultant": (
                self.sales_consultant.model_dump(mode="json") if self.sales_consultant else None
            ),
        }


def dated(
    ctx: PlanningContext,
    now: datetime,
    dealer_id: str,
    step: str,
    purpose: ContactPurpose,
    day: date,
    customer: Customer,
) -> PlannedContact:
    """A reminder on a local date, at the policy's time of day, not before `now` (the batch's:
    `WorkingSet.now`), moved into the calling window (D13); reminders default to SMS unless
    the customer prefers (D14)."""
    policy = ctx.policy(dealer_id)
    nominal = max(at_local(day, policy.reminder_time_of_day, ctx.zone(dealer_id)), now)
    return PlannedContact(
        step=step,
        purposes=(purpose,),
        channel=channel_for(
            REMINDER_CHANNEL.get(purpose, Channel.PHONE), customer.preferred_channel
        ),
        nominal_at=nominal,
        due_at=window_start(ctx.calendar(dealer_id), nominal),
    )


def cancel_pending(ws: WorkingSet, timer_ids: Sequence[str], reason: str) -> None:
    for tid in timer_ids:
        found = ws.timer(tid)
        if found is not None:
            ws.apply(lifecycle.cancel(found, ws.now, reason))


def refused_purposes(person: Doc, purposes: Sequence[ContactPurpose]) -> list[str]:
    """D4: the purposes of a contact the customer opted out of — all of them, or none (a
    contact some of whose purposes are still welcome goes out with those)."""
    refused = set(person.get("opted_out_of", []))
    wanted = [p.value for p in purposes]
    return wanted if refused.issuperset(wanted) else []


def withdraw_purposes(
    ws: WorkingSet, timer_ids: Sequence[str], refused: set[str], reason: str
) -> None:
    """D4, an opt-out of some kinds of contact: pending contacts lose those purposes, and a
    contact left with none is cancelled."""
    for tid in timer_ids:
        timer = ws.timer(tid)
        if timer is None or not lifecycle.is_pending(timer):
            continue
        remaining = [p for p in timer["purposes"] if p not in refused]
        if not remaining:
            ws.apply(lifecycle.cancel(timer, ws.now, reason))
        elif remaining != timer["purposes"]:
            note = trail(ws.now, "updated", f"{reason}: {', '.join(remaining)} remain")
            ws.apply(lifecycle.revise(timer, {"purposes": remaining}, note))


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
        cancel_pending(ws, filing.live_timer_ids(person), "opt-out (DMS)")
    elif person.get("opted_out_by") == "dms":
        ws.set_person(key, {"opted_out": False, "opted_out_by": None})
    return ws.person(key)


def remember_contact_data(ws: WorkingSet, subject: Subject) -> None:
    """The vehicle file's latest customer and vehicle, for contacts requested without them
    (D22: a complaint's confirmation names only the vehicle and the customer)."""
    data = {
        "customer": subject.customer.model_dump(mode="json"),
        "vehicle": subject.vehicle.model_dump(mode="json"),
    }
    ws.set_person(subject.vehicle_key, {"contact_data": data})


def latest_timer_of(ws: WorkingSet, dealer_id: str, vin: str, customer_id: str) -> Doc | None:
    """The vehicle's latest planned contact of that customer (its contact data is the newest
    the scheduler was given for them, D30 corrections included)."""
    vehicle = ws.person(vehicle_key(dealer_id, vin))
    timers = [t for t in ws.timers_of(vehicle) if t["customer_id"] == customer_id]
    if not timers:
        return None
    return max(
        timers, key=lambda t: (t.get("file_revision", 0), t.get("revision", 1), t["nominal_at"])
    )


def timer_contact_data(ws: WorkingSet, timer: Doc) -> Doc | None:
    """The contact data a timer names (read by `ws.load_contacts`), or its own copy (a timer
    stored before the slimming that the migration has not reached)."""
    if "contact_id" in timer:
        return ws.contact(timer["contact_id"])
    return {field: timer.get(field) for field in filing.CONTACT_FIELDS}


def contact_data_of(ws: WorkingSet, dealer_id: str, vin: str, customer_id: str) -> Doc | None:
    """What `remember_contact_data` kept, or else what the vehicle's latest planned contact of
    that customer names (files planned before the vehicle kept its contact data; the caller
    loaded it: `latest_timer_of`, `ws.load_contacts`)."""
    vehicle = ws.person(vehicle_key(dealer_id, vin))
    if "contact_data" in vehicle:
        data: Doc = vehicle["contact_data"]
        return data
    latest = latest_timer_of(ws, dealer_id, vin, customer_id)
    found = timer_contact_data(ws, latest) if latest is not None else None
    if found is None:
        return None
    return {"customer": found["customer"], "vehicle": found["vehicle"]}


def link(ws: WorkingSet, subject: Subject, tid: str) -> None:
    ws.add_to_person(subject.customer_key, filing.LINKED, tid)
    ws.add_to_person(subject.vehicle_key, filing.LINKED, tid)


def plan(
    ws: WorkingSet, ctx: PlanningContext, subject: Subject, kind: str, planned: list[PlannedContact]
) -> None:
    """Each contact: a new timer decided against the customer's other contacts (D4, D13), or,
    when it exists (a redelivery or a correction), the repair and refresh of the existing one."""
    apply_consent(ws, subject)
    ws.add_contact(subject.contact_document())
    for contact in planned:
        tid = contact.contact_id or subject.timer_id(contact.step)
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
        "timely_until": contact.timely_until,
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
    refused = refused_purposes(person, contact.purposes)
    if person.get("opted_out"):
        doc["state"] = TimerState.SUPPRESSED.value
        steps.append(trail(now, "suppressed", "opt-out (D4)"))
    elif refused:
        doc["state"] = TimerState.SUPPRESSED.value
        steps.append(trail(now, "suppressed", f"opt-out of {', '.join(refused)} (D4)"))
    else:
        policy, calendar = ctx.policy(subject.dealer_id), ctx.calendar(subject.dealer_id)
        others = ws.others_of(person)
        cap = policy.max_contacts_per_7_days
        decision = decide(contact, others, now, cap, policy.merge_same_window, calendar)
        if decision.verdict is Verdict.SUPPRESS_CAP and CAP_DEFERRED & set(contact.purposes):
            later = first_within_cap(contact.due_at, others, cap, calendar)
            if later is not None:
                steps.append(trail(now, "moved", f"{decision.reason}: {later.isoformat()}"))
                contact = replace(contact, due_at=later)
                doc["due_at"] = later
                decision = decide(contact, others, now, cap, policy.merge_same_window, calendar)
        if decision.verdict is Verdict.SUPPRESS_CAP and not CAP_EXEMPT & set(contact.purposes):
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
            if absorbed is not None:
                # As `add_purposes`: the earlier timeliness window (D6), a call over an SMS.
                windows = [t for t in (doc["timely_until"], absorbed.get("timely_until")) if t]
                doc["timely_until"] = min(windows) if windows else None
                if absorbed["channel"] == "phone":
                    doc["channel"] = "phone"
    doc["trail"] = steps
    ws.add_timer(doc)
    if host is not None:
        ws.apply(lifecycle.add_purposes(host, doc, f"merged {tid}", now))
    if absorbed is not None:
        ws.apply(lifecycle.merge_into(absorbed, tid, now))


def repair(ws: WorkingSet, existing: Doc, subject: Subject) -> None:
    """A redelivery changes nothing, except finishing what a crash cut short (a merge into the
    host, the absorbed contact's withdrawal); a correction refreshes a pending timer."""
    now = ws.now
    host_id = existing.get("merged_into")
    if existing["state"] == TimerState.MERGED and host_id and (host := ws.timer(host_id)):
        ws.apply(lifecycle.add_purposes(host, existing, f"merged {existing['_id']}", now))
    for absorbed_id in existing.get("absorbed", []):
        if (absorbed := ws.timer(absorbed_id)) is not None:
            ws.apply(lifecycle.merge_into(absorbed, existing["_id"], now))
    ws.apply(lifecycle.correct(existing, subject.snapshot(), ws.was_sent(existing), now))
