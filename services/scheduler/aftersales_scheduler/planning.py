"""Use cases: turn facts into planned contacts, and contact results into retries or closure.

Called by the handlers, one dealer at a time (Kafka partition = dealer): these are the only
writers of `timers` and `people`, which is what keeps them right without transactions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aftersales_contracts.dms import Channel
from aftersales_contracts.events import (
    CallOutcome,
    ContactPurpose,
    ContactResult,
    Customer,
    Staff,
    Vehicle,
    VehicleDelivered,
    WorkOrderClosed,
)
from aftersales_runtime.clock import Clock
from aftersales_runtime.dealers import DEFAULT_TIME_ZONE, DealerDirectory
from aftersales_workcalendar import WorkingCalendar

from aftersales_scheduler.domain.plan import (
    OtherContact,
    PlannedContact,
    Verdict,
    channel_for,
    decide,
    plan_steps,
    retry_at,
)
from aftersales_scheduler.domain.policy import PolicyBook, SchedulerPolicy
from aftersales_scheduler.domain.reminders import at_local, maintenance_due, next_anniversary
from aftersales_scheduler.domain.slots import timer_id as make_timer_id
from aftersales_scheduler.domain.window import window_start
from aftersales_scheduler.store import Doc, TimerStore, customer_key, entry_key, vehicle_key

PENDING, MERGED, SUPPRESSED, CANCELLED, DONE, UNREACHABLE = (
    "pending",
    "merged",
    "suppressed",
    "cancelled",
    "done",
    "unreachable",
)


def filing_key(timer: Doc) -> str:
    """What a timer's current entry is filed under: attempt and version."""
    return entry_key(timer["_id"], timer["attempt"], timer.get("version", 1))


def entry_for(timer: Doc) -> Doc:
    """The immutable entry the dispatcher fires: everything ContactDue needs, so that the
    dispatcher never reads the `timers` collection (a scan on FerretDB-SQLite)."""
    return {
        "key": filing_key(timer),
        "timer_id": timer["_id"],
        "attempt": timer["attempt"],
        "version": timer.get("version", 1),
        "due_at": timer["due_at"],
        "payload": {
            "dealer_id": timer["dealer_id"],
            "correlation_id": timer["correlation_id"],
            "causation_id": timer.get("causation_id"),
            "purposes": timer["purposes"],
            "channel": timer["channel"],
            "work_order_id": timer.get("work_order_id"),
            "vehicle": timer["vehicle"],
            "customer": timer["customer"],
            "service_advisor": timer.get("service_advisor"),
            "technicians": timer.get("technicians", []),
        },
    }


#: Reminders a visit makes pointless (D8 first maintenance, D9, D11).
VISIT_CANCELS = frozenset({"maintenance_reminder", "lapsed_recall", "first_maintenance_reminder"})
#: Reminders are one-way messages by default (D14: SMS for reminders); care is a call.
REMINDER_CHANNEL = {
    ContactPurpose.MAINTENANCE_REMINDER: Channel.SMS,
    ContactPurpose.INSURANCE_EXPIRY_CARE: Channel.SMS,
    ContactPurpose.LICENCE_EXPIRY_CARE: Channel.SMS,
    ContactPurpose.BIRTHDAY_CARE: Channel.SMS,
}
#: States that count as a contact of the customer (D13 cap).
LIVE = frozenset({PENDING, DONE, UNREACHABLE})


def trail(now: datetime, event: str, detail: str = "", attempt: int | None = None) -> Doc:
    entry: Doc = {"at": now, "event": event, "detail": detail}
    if attempt is not None:
        entry["attempt"] = attempt
    return entry


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

    def to_document(self) -> Doc:
        """All of it, to plan again later without the event (D10 yearly care)."""
        return {
            "dealer_id": self.dealer_id,
            "source_id": self.source_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            **self.snapshot(),
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
        """The contact data the ContactDue will carry (refreshed by a correction)."""
        return {
            "revision": self.revision,
            "customer": self.customer.model_dump(mode="json"),
            "vehicle": self.vehicle.model_dump(mode="json"),
            "service_advisor": (
                self.service_advisor.model_dump(mode="json") if self.service_advisor else None
            ),
            "technicians": [t.model_dump(mode="json") for t in self.technicians],
        }


class Planner:
    def __init__(
        self,
        store: TimerStore,
        policies: PolicyBook,
        directory: DealerDirectory | None,
        clock: Clock,
        logger: logging.Logger,
    ) -> None:
        self.store = store
        self.policies = policies
        self.directory = directory
        self.clock = clock
        self.logger = logger

    def dealer_ids(self) -> list[str]:
        return self.directory.ids() if self.directory else []

    def policy(self, dealer_id: str) -> SchedulerPolicy:
        return self.policies.for_dealer(dealer_id)

    def calendar(self, dealer_id: str) -> WorkingCalendar:
        dealer = self.directory.get(dealer_id) if self.directory else None
        zone = dealer.time_zone if dealer else DEFAULT_TIME_ZONE
        return self.policy(dealer_id).calling_hours.calendar(zone)

    # --- planning ---------------------------------------------------------------------------
    async def plan_work_order(self, event: WorkOrderClosed) -> None:
        """D6-D7: the after-service plan, counted from settlement."""
        subject = Subject(
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
        planned = plan_steps(
            self.policy(event.dealer_id).after_service,
            event.settled_at,
            event.work_order_type,
            event.customer.preferred_channel,
            self.calendar(event.dealer_id),
        )
        await self.plan(subject, "after_service", planned)
        await self._record_visit(event)
        await self._cancel_by_visit(subject, event.settled_at)
        await self._plan_reminders(event, subject)

    async def _record_visit(self, event: WorkOrderClosed) -> None:
        """The vehicle's visits (for km per day, D9), last visit (D11) and next due (D12)."""
        key = vehicle_key(event.dealer_id, event.vehicle.vin)
        await self.store.record_visit(
            key,
            {"day": event.settled_at.date().isoformat(), "km": event.vehicle.mileage_km or 0},
            {
                "dealer_id": event.dealer_id,
                "vin": event.vehicle.vin,
                "customer_id": event.customer.customer_id,
                "last_visit_at": event.settled_at,
                "next_maintenance_due_date": (
                    event.next_maintenance_due_date.isoformat()
                    if event.next_maintenance_due_date
                    else None
                ),
            },
        )

    async def _cancel_by_visit(self, subject: Subject, visited_at: datetime) -> None:
        """D9/D11: a visit before a reminder goes out cancels it — the customer already came."""
        vehicle = await self.store.person(vehicle_key(subject.dealer_id, subject.vehicle.vin))
        now = self.clock.now()
        for timer in await self.store.timers(list((vehicle or {}).get("timer_ids", []))):
            if (
                timer["state"] == PENDING
                and timer["step"] in VISIT_CANCELS
                and timer["source_id"] != subject.source_id
                and timer["due_at"] > visited_at
                and not await self.was_sent(timer)
            ):
                await self.store.update_timer(
                    timer["_id"],
                    {"state": CANCELLED},
                    [trail(now, "suppressed", f"cancelled by a visit ({subject.source_id})")],
                )
                await self.withdraw(timer)

    async def _plan_reminders(self, event: WorkOrderClosed, subject: Subject) -> None:
        policy = self.policy(event.dealer_id)
        today = self.clock.now().astimezone(self.zone(event.dealer_id)).date()
        vehicle = await self.store.person(vehicle_key(event.dealer_id, event.vehicle.vin)) or {}
        visits = [(date.fromisoformat(v["day"]), v["km"]) for v in vehicle.get("visits", [])]
        due = maintenance_due(
            event.next_maintenance_due_date, event.next_maintenance_due_mileage_km, visits
        )
        per_order: list[PlannedContact] = []
        if due is not None and due >= today:  # D9
            lead = due - timedelta(days=policy.maintenance_reminder_lead_days)
            per_order.append(
                self._dated(
                    event.dealer_id,
                    "maintenance_reminder",
                    ContactPurpose.MAINTENANCE_REMINDER,
                    lead,
                    event.customer,
                )
            )
        lapsed = event.settled_at.date() + timedelta(days=policy.lapsed_after_days)  # D11
        per_order.append(
            self._dated(
                event.dealer_id,
                "lapsed_recall",
                ContactPurpose.LAPSED_CUSTOMER_RECALL,
                lapsed,
                event.customer,
            )
        )
        await self.plan(subject, "reminder", per_order)
        await self.plan_care(
            subject, event.customer.birthday, event.insurance_expiry, event.licence_expiry
        )

    async def plan_care(
        self,
        subject: Subject,
        birthday: date | None,
        insurance_expiry: date | None,
        licence_expiry: date | None,
    ) -> None:
        """D10: birthday, insurance and licence expiry, each with its lead time; the timer id
        carries the date, so the same occasion is planned once whoever mentions it."""
        dealer = subject.dealer_id
        lead = self.policy(dealer).care_lead_days
        today = self.clock.now().astimezone(self.zone(dealer)).date()
        customer, vin = subject.customer, subject.vehicle.vin
        occasions: list[tuple[str, str, ContactPurpose, date, int]] = []
        if birthday is not None:
            # Kept so the daily job plans next year's birthday without a new visit.
            await self.store.set_person(
                customer_key(dealer, customer.customer_id),
                {
                    "care_dealer_id": dealer,
                    "birthday": birthday.isoformat(),
                    "care_subject": subject.to_document(),
                },
            )
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
        for source, step, purpose, day, lead_days in occasions:
            care = replace(subject, source_id=source, work_order_id=None)
            contact = self._dated(dealer, step, purpose, day - timedelta(days=lead_days), customer)
            await self.plan(care, "care", [contact])

    def zone(self, dealer_id: str) -> ZoneInfo:
        dealer = self.directory.get(dealer_id) if self.directory else None
        return ZoneInfo(dealer.time_zone if dealer else DEFAULT_TIME_ZONE)

    def _dated(
        self, dealer_id: str, step: str, purpose: ContactPurpose, day: date, customer: Customer
    ) -> PlannedContact:
        """A reminder on a local date, at the policy's time of day, not before now, moved into
        the calling window (D13); reminders default to SMS unless the customer prefers (D14)."""
        policy = self.policy(dealer_id)
        nominal = max(
            at_local(day, policy.reminder_time_of_day, self.zone(dealer_id)), self.clock.now()
        )
        return PlannedContact(
            step=step,
            purposes=(purpose,),
            channel=channel_for(
                REMINDER_CHANNEL.get(purpose, Channel.PHONE), customer.preferred_channel
            ),
            nominal_at=nominal,
            due_at=window_start(self.calendar(dealer_id), nominal),
        )

    async def plan_delivery(self, event: VehicleDelivered) -> None:
        """D8: sales call within 3 days, first-maintenance reminder within 3 weeks."""
        subject = Subject(
            dealer_id=event.dealer_id,
            source_id=event.delivery_id,
            correlation_id=event.correlation_id,
            causation_id=event.event_id,
            revision=1,
            customer=event.customer,
            vehicle=event.vehicle,
            service_advisor=event.sales_consultant,
        )
        planned = plan_steps(
            self.policy(event.dealer_id).delivery,
            event.delivered_at,
            None,
            event.customer.preferred_channel,
            self.calendar(event.dealer_id),
        )
        await self.plan(subject, "delivery", planned)
        await self.plan_care(subject, event.customer.birthday, event.insurance_expiry, None)

    async def plan(self, subject: Subject, kind: str, planned: list[PlannedContact]) -> None:
        now = self.clock.now()
        ckey = customer_key(subject.dealer_id, subject.customer.customer_id)
        person = await self._apply_consent(subject, ckey, now)
        # Reads are scans on FerretDB-SQLite: read the customer's contacts once, then keep the
        # list up to date in memory while this plan's contacts are added to it.
        others = [] if person.get("opted_out") else await self._others(person)
        for contact in planned:
            tid = make_timer_id(subject.dealer_id, subject.source_id, contact.step)
            doc = await self._plan_one(subject, kind, contact, tid, person, others, now)
            if doc is None:
                continue
            if doc["state"] == MERGED or doc.get("absorbed"):
                others = await self._others(await self.store.person(ckey) or {})
            elif doc["state"] == PENDING:
                others.append(OtherContact(tid, doc["due_at"], True, tuple(contact.purposes)))

    async def _apply_consent(self, subject: Subject, ckey: str, now: datetime) -> Doc:
        """D4: a customer unwilling to be contacted is never contacted; the DMS flag may be
        given again later (opt-outs said on a call stay). Returns the customer's document."""
        person = await self.store.person(ckey) or {}
        if not subject.customer.contact_consent:
            if not person.get("opted_out"):
                changes = {"opted_out": True, "opted_out_by": "dms"}
                await self.store.set_person(ckey, changes)
                await self.cancel_pending(person.get("timer_ids", []), now, "opt-out (DMS)")
                person = {**person, **changes}
        elif person.get("opted_out_by") == "dms":
            changes = {"opted_out": False, "opted_out_by": None}
            await self.store.set_person(ckey, changes)
            person = {**person, **changes}
        return person

    async def _plan_one(
        self,
        subject: Subject,
        kind: str,
        contact: PlannedContact,
        tid: str,
        person: Doc,
        others: list[OtherContact],
        now: datetime,
    ) -> Doc | None:
        """Plan one contact; None when it existed (a redelivery or a correction)."""
        policy = self.policy(subject.dealer_id)
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
            "home": None,
            "homes": [],
            "state": PENDING,
            "work_order_id": subject.work_order_id,
            "correlation_id": subject.correlation_id,
            "causation_id": subject.causation_id,
            "customer_id": subject.customer.customer_id,
            "vin": subject.vehicle.vin,
            **subject.snapshot(),
        }
        host: Doc | None = None
        if person.get("opted_out"):
            doc["state"] = SUPPRESSED
            steps.append(trail(now, "suppressed", "opt-out (D4)"))
        else:
            decision = decide(
                contact,
                others,
                now,
                policy.max_contacts_per_7_days,
                policy.merge_same_window,
                self.calendar(subject.dealer_id),
            )
            if decision.verdict is Verdict.SUPPRESS_CAP:
                doc["state"] = SUPPRESSED
                steps.append(trail(now, "suppressed", decision.reason))
            elif decision.verdict is Verdict.MERGE_INTO_EXISTING:
                assert decision.other is not None
                doc["state"], doc["merged_into"] = MERGED, decision.other.timer_id
                steps.append(trail(now, "merged", f"into {decision.other.timer_id}"))
                host = {
                    "_id": decision.other.timer_id,
                    "purposes": [p.value for p in decision.purposes],
                    "note": f"merged {tid}",
                }
            elif decision.verdict is Verdict.ABSORB_EXISTING:
                assert decision.other is not None
                doc["purposes"] = [p.value for p in decision.purposes]
                doc["absorbed"] = [decision.other.timer_id]
                steps.append(trail(now, "merged", f"absorbed {decision.other.timer_id}"))
        doc["trail"] = steps
        if doc["state"] == PENDING:
            # Its entry's home is its due day (see TimerStore.file_entry): recorded with the
            # insert, which saves an update; a redelivery checks the entry really exists.
            home = doc["due_at"].date().isoformat()
            doc.update(filed_key=filing_key(doc), home=home, homes=[{"attempt": 1, "home": home}])
        # Insert first: a read is a scan on FerretDB-SQLite, the `_id` collision is indexed.
        if not await self.store.insert_timer(doc):
            existing = await self.store.timer(tid)
            if existing is not None:
                # A crash may have cut the first delivery short: finish it, idempotently.
                await self._link(subject, tid)
                await self._finish_merge(existing, now)
                await self._refresh(existing, subject, now)
            return None
        await self._link(subject, tid)
        if doc["state"] == PENDING:
            await self.store.file_entry(entry_for(doc), now)
        await self._complete(doc, now, host)
        return doc

    async def _complete(
        self, doc: Doc, now: datetime, host: Doc | None = None, check_entry: bool = False
    ) -> None:
        """The steps after the insert, each idempotent, so a redelivery after a crash in the
        middle finishes them: merge into the host, withdraw what was absorbed, file the entry."""
        if host is not None:
            current = await self.store.timer(host["_id"])
            if (
                current is not None
                and current["state"] == PENDING
                and set(host["purposes"]) - set(current["purposes"])
            ):
                await self.revise(
                    current, {"purposes": host["purposes"]}, trail(now, "merged", host["note"])
                )
        for absorbed in await self.store.timers(list(doc.get("absorbed", []))):
            if absorbed["state"] == PENDING:
                await self.store.update_timer(
                    absorbed["_id"],
                    {"state": MERGED, "merged_into": doc["_id"]},
                    [trail(now, "merged", f"into {doc['_id']}")],
                )
                await self.withdraw(absorbed)
        if doc["state"] == PENDING and not await self._is_filed(doc, check_entry):
            home = await self.store.file_entry(entry_for(doc), now)
            homes = [*doc.get("homes", []), {"attempt": doc["attempt"], "home": home.isoformat()}]
            await self.store.update_timer(
                doc["_id"],
                {"filed_key": filing_key(doc), "home": home.isoformat(), "homes": homes},
            )

    async def _is_filed(self, doc: Doc, check_entry: bool) -> bool:
        if doc.get("filed_key") != filing_key(doc):
            return False
        if not check_entry:
            return True
        entry = f"entry/{doc['filed_key']}"
        return await self.store.marker(date.fromisoformat(doc["home"]), entry) is not None

    async def _finish_merge(self, merged: Doc, now: datetime) -> None:
        if merged["state"] != MERGED or not merged.get("merged_into"):
            return
        host = await self.store.timer(merged["merged_into"])
        if host is not None:
            purposes = list(dict.fromkeys([*host["purposes"], *merged["purposes"]]))
            note = f"merged {merged['_id']}"
            await self._complete(
                merged, now, {"_id": host["_id"], "purposes": purposes, "note": note}
            )

    async def revise(self, timer: Doc, changes: Doc, note: Doc) -> None:
        """Change a pending timer's contact: entries are immutable, so the filed one gets a
        tombstone and a new version is filed (same attempt: still fires once, by its claim)."""
        changes = {**changes, "version": timer.get("version", 1) + 1}
        await self.store.update_timer(timer["_id"], changes, [note])
        await self.withdraw(timer)
        await self._complete({**timer, **changes}, self.clock.now())

    async def withdraw(self, timer: Doc) -> None:
        if timer.get("filed_key") and timer.get("home"):
            await self.store.cancel_entry(date.fromisoformat(timer["home"]), timer["filed_key"])

    async def was_sent(self, timer: Doc) -> bool:
        if not timer.get("home"):
            return False
        marker = f"sent/{timer['_id']}/{timer['attempt']}"
        return await self.store.marker(date.fromisoformat(timer["home"]), marker) is not None

    async def _refresh(self, existing: Doc, subject: Subject, now: datetime) -> None:
        """A redelivery changes nothing; a correction (revision > stored) refreshes the contact
        data of a pending timer, never its identity (no second timer)."""
        if existing["state"] == PENDING:
            await self._complete(existing, now, check_entry=True)
            existing = await self.store.timer(existing["_id"]) or existing
        if subject.revision > existing.get("revision", 1) and existing["state"] == PENDING:
            if await self.was_sent(existing):
                await self.store.update_timer(existing["_id"], subject.snapshot())
                return
            await self.revise(
                existing,
                subject.snapshot(),
                trail(now, "updated", f"correction revision {subject.revision}"),
            )

    async def _link(self, subject: Subject, tid: str) -> None:
        dealer = subject.dealer_id
        await self.store.link_timer(customer_key(dealer, subject.customer.customer_id), tid)
        await self.store.link_timer(vehicle_key(dealer, subject.vehicle.vin), tid)

    async def _others(self, person: Doc) -> list[OtherContact]:
        timers = await self.store.timers(list(person.get("timer_ids", [])))
        return [
            OtherContact(
                timer_id=t["_id"],
                due_at=t["due_at"],
                pending=t["state"] == PENDING,
                purposes=tuple(ContactPurpose(p) for p in t["purposes"]),
            )
            for t in timers
            if t["state"] in LIVE
        ]

    async def cancel_pending(self, timer_ids: Sequence[str], now: datetime, reason: str) -> int:
        cancelled = 0
        for timer in await self.store.timers(list(timer_ids)):
            if timer["state"] == PENDING:
                await self.store.update_timer(
                    timer["_id"], {"state": CANCELLED}, [trail(now, "suppressed", reason)]
                )
                await self.withdraw(timer)
                cancelled += 1
        return cancelled

    # --- results ------------------------------------------------------------------------------
    async def record_result(self, event: ContactResult) -> None:
        """D15 retries of unreached calls; D4 opt-out cancels what is pending."""
        now = self.clock.now()
        timer = await self.store.timer(event.contact_id)
        if timer is None:
            self.logger.warning(
                "result for an unknown contact", extra={"contact_id": event.contact_id}
            )
            return
        if event.outcome is CallOutcome.OPTED_OUT:
            if timer["state"] == PENDING and timer["attempt"] == event.attempt:
                await self.store.update_timer(
                    timer["_id"],
                    {"state": DONE},
                    [trail(now, "closed", "opted_out", event.attempt)],
                )
            ckey = customer_key(timer["dealer_id"], timer["customer_id"])
            await self.store.set_person(ckey, {"opted_out": True, "opted_out_by": "call"})
            person = await self.store.person(ckey) or {}
            await self.cancel_pending(person.get("timer_ids", []), now, "opt-out (call)")
            return
        if timer["attempt"] != event.attempt or timer["state"] != PENDING:
            # Already handled (a redelivery); finish a retry's filing if a crash cut it short.
            if timer["state"] == PENDING:
                await self._complete(timer, now, check_entry=True)
            return
        policy = self.policy(timer["dealer_id"])
        if not event.outcome.is_unreached:
            await self.store.update_timer(
                timer["_id"],
                {"state": DONE},
                [trail(now, "closed", event.outcome.value, event.attempt)],
            )
            return
        if event.attempt >= policy.max_attempts:
            await self.store.update_timer(
                timer["_id"],
                {"state": UNREACHABLE},
                [
                    trail(
                        now, "closed", f"unreachable after {event.attempt} attempts", event.attempt
                    )
                ],
            )
            return
        due = retry_at(
            timer["due_at"],
            now,
            timedelta(hours=policy.retry_after_hours),
            self.calendar(timer["dealer_id"]),
            event.callback_at,
        )
        changes: dict[str, Any] = {
            "attempt": event.attempt + 1,
            "due_at": due,
            "version": timer.get("version", 1) + 1,
        }
        await self.store.update_timer(
            timer["_id"],
            changes,
            [
                trail(
                    now,
                    "retried",
                    f"{event.outcome.value}; next at {due.isoformat()}",
                    event.attempt + 1,
                )
            ],
        )
        await self._complete({**timer, **changes}, now)
