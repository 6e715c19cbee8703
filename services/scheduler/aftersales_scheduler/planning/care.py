"""D10 care: birthday, insurance and licence expiry, each with its lead time, planned as
contacts of the customer (D13 like any other); the timer id carries the occasion's date."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from aftersales_contracts.events import ContactPurpose

from aftersales_scheduler.domain.plan import PlannedContact
from aftersales_scheduler.domain.reminders import next_anniversary
from aftersales_scheduler.domain.slots import timer_id as make_timer_id
from aftersales_scheduler.filing import birthday_sequence
from aftersales_scheduler.planning.contacts import Subject, dated, plan
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.working_set import WorkingSet


@dataclass(frozen=True)
class Occasion:
    """A D10 care occasion: whose (`source`: the customer or the vehicle), which (`step`: it
    carries the date), and when its contact is due (`day` less `lead_days`)."""

    source: str
    step: str
    purpose: ContactPurpose
    day: date
    lead_days: int


def _occasions(
    ctx: PlanningContext,
    now: datetime,
    subject: Subject,
    birthday: date | None,
    insurance_expiry: date | None,
    licence_expiry: date | None,
) -> list[Occasion]:
    """D10: birthday, insurance and licence expiry, each with its lead time; the timer id
    carries the date, so the same occasion is planned once whoever mentions it. `now` is the
    batch's (`WorkingSet.now`): the timers a batch reads are the ones it plans, even when the
    dealer's day turns in between."""
    dealer = subject.dealer_id
    lead = ctx.policy(dealer).care_lead_days
    today = now.astimezone(ctx.zone(dealer)).date()
    customer, vin = subject.customer, subject.vehicle.vin
    occasions: list[Occasion] = []
    if birthday is not None:
        day = next_anniversary(birthday, today)
        occasions.append(
            Occasion(
                f"customer-{customer.customer_id}",
                f"birthday_{day.year}",
                ContactPurpose.BIRTHDAY_CARE,
                day,
                lead.birthday,
            )
        )
    if insurance_expiry is not None and insurance_expiry >= today:
        occasions.append(
            Occasion(
                f"vehicle-{vin}",
                f"insurance_{insurance_expiry.isoformat()}",
                ContactPurpose.INSURANCE_EXPIRY_CARE,
                insurance_expiry,
                lead.insurance_expiry,
            )
        )
    if licence_expiry is not None and licence_expiry >= today:
        occasions.append(
            Occasion(
                f"customer-{customer.customer_id}",
                f"licence_{licence_expiry.isoformat()}",
                ContactPurpose.LICENCE_EXPIRY_CARE,
                licence_expiry,
                lead.licence_expiry,
            )
        )
    return occasions


def _care_contacts(
    ctx: PlanningContext, now: datetime, subject: Subject, occasions: list[Occasion]
) -> list[tuple[Subject, PlannedContact]]:
    """Each occasion's contact, with the subject it is planned for (the occasion's source)."""
    return [
        (
            replace(
                subject,
                source_id=o.source,
                work_order_id=None,
                contact_source_id=subject.contact_source_id or subject.source_id,
            ),
            dated(
                ctx,
                now,
                subject.dealer_id,
                o.step,
                o.purpose,
                o.day - timedelta(days=o.lead_days),
                subject.customer,
            ),
        )
        for o in occasions
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
        # Kept so the daily job plans next year's birthday without a new visit; the index
        # (written before the file) names the customer only when the birthday is new to it.
        if ws.person(subject.customer_key).get("birthday") != birthday.isoformat():
            ws.add_birthday(
                birthday_sequence(subject.dealer_id, f"{birthday:%m-%d}"), subject.customer_key
            )
        ws.set_person(
            subject.customer_key,
            {
                "care_dealer_id": subject.dealer_id,
                "birthday": birthday.isoformat(),
                "care_subject": subject.to_document(),
            },
        )
    occasions = _occasions(ctx, ws.now, subject, birthday, insurance_expiry, licence_expiry)
    for care, contact in _care_contacts(ctx, ws.now, subject, occasions):
        plan(ws, ctx, care, "care", [contact])


def care_timer_ids(
    ctx: PlanningContext,
    now: datetime,
    subject: Subject,
    birthday: date | None,
    insurance_expiry: date | None,
    licence_expiry: date | None,
) -> list[str]:
    """The timer ids `plan_care` plans (without dating their contacts: the calendar's work)."""
    return [
        make_timer_id(subject.dealer_id, o.source, o.step)
        for o in _occasions(ctx, now, subject, birthday, insurance_expiry, licence_expiry)
    ]
