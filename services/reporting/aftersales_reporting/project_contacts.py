"""Projections of the contact topics: results (D23-D27), contacts due and contacts expired (D23).

Documents (see ledger.py for how they change):
- `R/{dealer}/{month}` and `R/{dealer}/{week}`: results of the period (dealer's local time of
  `contacted_at`): `made`, `outcome.{o}`, `hist.{item}.s{score}` (reached answers per score, so
  any threshold can be read later, D24/D25), `timely.n|yes` (reached follow-ups with a window,
  D23), `yes_no.{item}.yes|no` (D26 come-back), `issues.{code}` (D23), `lapse.{code}` (D11/D26),
  `purpose.{p}.made|reached`, `stated` (complaints stated on the call); the week's document
  also `ssi.{consultant}…` and `names.consultant.{id}` as in `RS` (D24's SSI per week);
- `RS/{dealer}/{month}`: the same per person: `advisor.{id}`, `technician.{id}`, `consultant.{id}`
  (SSI, D24) and `agent.{id}` (the customer-relations staff, D27) with `made`, `reached`,
  `hist.s{overall}`, `sum.{item}`, `n.{item}`, `ftf.yes|no`, `timely.n|yes`; `names.{role}.{id}`;
  and `ssi.{consultant}.made|reached|hist.s{overall}`: the day-3 sales calls only (D24's SSI);
- `RR/{dealer}/{month}/{dd}`: the rows behind the figures (drill-down);
- `D/{dealer}/{month of due_at}`: `planned` (first attempts), `planned_purpose.{p}`, `attempts`;
  `DR/…/{dd}` rows; entity `K/{dealer}/{contact id}`: the customer's masked phone (D3);
- `X/{dealer}/{month of due_at}`: `expired`, `expired_purpose.{p}`; `XR/…/{dd}` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_contracts import (
    FIXED_FIRST_TIME,
    CallOutcome,
    ContactDue,
    ContactExpired,
    ContactPurpose,
    ContactResult,
    Staff,
)
from aftersales_runtime.batches import Received
from aftersales_runtime.privacy import mask_phone

from aftersales_reporting.ledger import Change, Contribution, Doc, key_part
from aftersales_reporting.periods import local_day, local_month, local_week
from aftersales_reporting.projector import Outcome, ZoneOf


def _result_totals(change: Change, event: ContactResult) -> None:
    change.add("made")
    change.add(f"outcome.{event.outcome.value}")
    for purpose in event.purposes:
        change.add(f"purpose.{purpose.value}.made")
    if event.outcome is not CallOutcome.REACHED:
        return
    for purpose in event.purposes:
        change.add(f"purpose.{purpose.value}.reached")
    for item, score in event.scores.items() if event.scores else []:
        change.add(f"hist.{item}.s{score}")
    if event.timely is not None:
        change.add("timely.n")
        change.add("timely.yes", int(event.timely))
    for item, answer in (event.yes_no or {}).items():
        change.add(f"yes_no.{item}.{'yes' if answer else 'no'}")
    for issue in event.issues:
        change.add(f"issues.{issue.code}")
    if event.lapse_reason is not None:
        change.add(f"lapse.{event.lapse_reason.code}")
    if event.complaint_stated:
        change.add("stated")


def _person(change: Change, role: str, person: str, name: str | None, event: ContactResult) -> None:
    at = f"{role}.{key_part(person)}"
    change.add(f"{at}.made")
    if name:
        change.names[f"names.{role}.{key_part(person)}"] = name
    if event.outcome is not CallOutcome.REACHED:
        return
    change.add(f"{at}.reached")
    if event.scores is not None:
        for item, score in event.scores.items():
            change.add(f"{at}.sum.{item}", score)
            change.add(f"{at}.n.{item}")
        if "overall" in event.scores.root:
            change.add(f"{at}.hist.s{event.scores['overall']}")
    fixed = (event.yes_no or {}).get(FIXED_FIRST_TIME)
    if fixed is not None:
        change.add(f"{at}.ftf.{'yes' if fixed else 'no'}")
    if event.timely is not None:
        change.add(f"{at}.timely.n")
        change.add(f"{at}.timely.yes", int(event.timely))


def _ssi(change: Change, event: ContactResult) -> None:
    """D24: SSI per sales consultant, from the day-3 sales calls' overall answers."""
    if event.sales_consultant is None or ContactPurpose.SALES_CALL_DAY3 not in event.purposes:
        return
    person = key_part(event.sales_consultant.id)
    at = f"ssi.{person}"
    change.add(f"{at}.made")
    if event.sales_consultant.name:
        change.names[f"names.consultant.{person}"] = event.sales_consultant.name
    if event.outcome is not CallOutcome.REACHED:
        return
    change.add(f"{at}.reached")
    if event.scores is not None and "overall" in event.scores.root:
        change.add(f"{at}.hist.s{event.scores['overall']}")


def _people(event: ContactResult) -> list[tuple[str, Staff]]:
    people = [("technician", t) for t in event.technicians]
    if event.service_advisor is not None:
        people.append(("advisor", event.service_advisor))
    if event.sales_consultant is not None:
        people.append(("consultant", event.sales_consultant))
    return people


def result_row(event: ContactResult) -> Doc:
    """One drill-down row: ids and answers, no name and no phone (the phone is joined, masked)."""
    return {
        "event_id": event.event_id,
        "contact_id": event.contact_id,
        "contacted_at": event.contacted_at,
        "outcome": event.outcome.value,
        "purposes": [p.value for p in event.purposes],
        "overall": event.scores.root.get("overall") if event.scores else None,
        "low_items": event.scores.low_items() if event.scores else [],
        "timely": event.timely,
        "fixed_first_time": (event.yes_no or {}).get(FIXED_FIRST_TIME),
        "issues": [i.code for i in event.issues],
        "lapse_reason": event.lapse_reason.code if event.lapse_reason else None,
        "service_advisor": event.service_advisor.id if event.service_advisor else None,
        "technicians": [t.id for t in event.technicians],
        "sales_consultant": event.sales_consultant.id if event.sales_consultant else None,
        "agent": event.agent_id,
        "work_order_id": event.work_order_id,
        "vin": event.vin,
        "customer_id": event.customer_id,
    }


@dataclass
class ResultsProjection:
    zone_of: ZoneOf

    def entity_ids(self, event: ContactResult) -> list[str]:
        return []

    def project(
        self, record: Received, event: ContactResult, state: dict[str, Doc], outcome: Outcome
    ) -> None:
        zone = self.zone_of(event.dealer_id)
        dealer, month = event.dealer_id, local_month(event.contacted_at, zone)
        week = Change(f"R/{dealer}/{local_week(event.contacted_at, zone)}")
        totals = [Change(f"R/{dealer}/{month}"), week]
        for change in totals:
            _result_totals(change, event)
        _ssi(week, event)  # the week's SSI in its results document: one document fewer a pass
        staff = Change(f"RS/{dealer}/{month}")
        for role, person in _people(event):
            _person(staff, role, person.id, person.name, event)
        if event.agent_id:
            _person(staff, "agent", event.agent_id, None, event)
        _ssi(staff, event)
        rows = Change(
            f"RR/{dealer}/{month}/{local_day(event.contacted_at, zone)}",
            push=[result_row(event)],
        )
        outcome.contributions.append(Contribution(record, [*totals, staff, rows]))


@dataclass
class DueProjection:
    zone_of: ZoneOf

    def entity_ids(self, event: ContactDue) -> list[str]:
        return []

    def project(
        self, record: Received, event: ContactDue, state: dict[str, Doc], outcome: Outcome
    ) -> None:
        zone = self.zone_of(event.dealer_id)
        dealer, month = event.dealer_id, local_month(event.due_at, zone)
        counts = Change(f"D/{dealer}/{month}")
        counts.add("attempts")
        changes = [counts]
        if event.attempt == 1:  # D23: a contact is planned once, whatever its retries
            counts.add("planned")
            for purpose in event.purposes:
                counts.add(f"planned_purpose.{purpose.value}")
            row = {
                "event_id": event.event_id,
                "contact_id": event.contact_id,
                "due_at": event.due_at,
                "purposes": [p.value for p in event.purposes],
                "service_advisor": event.service_advisor.id if event.service_advisor else None,
                "work_order_id": event.work_order_id,
                "vin": event.vehicle.vin,
                "customer_id": event.customer.customer_id,
            }
            changes.append(
                Change(
                    f"DR/{dealer}/{month}/{local_day(event.due_at, zone)}",
                    push=[row],
                )
            )
        outcome.contributions.append(Contribution(record, changes))
        outcome.new_entities.append(
            {"_id": f"K/{dealer}/{event.contact_id}", "phone": mask_phone(event.customer.phone)}
        )


@dataclass
class ExpiredProjection:
    zone_of: ZoneOf

    def entity_ids(self, event: ContactExpired) -> list[str]:
        return []

    def project(
        self, record: Received, event: ContactExpired, state: dict[str, Doc], outcome: Outcome
    ) -> None:
        zone = self.zone_of(event.dealer_id)
        dealer, month = event.dealer_id, local_month(event.due_at, zone)
        counts = Change(f"X/{dealer}/{month}")
        counts.add("expired")
        for purpose in event.purposes:
            counts.add(f"expired_purpose.{purpose.value}")
        row = {
            "event_id": event.event_id,
            "contact_id": event.contact_id,
            "due_at": event.due_at,
            "expires_at": event.expires_at,
            "purposes": [p.value for p in event.purposes],
            "work_order_id": event.work_order_id,
            "vin": event.vin,
            "customer_id": event.customer_id,
        }
        rows = Change(f"XR/{dealer}/{month}/{local_day(event.due_at, zone)}", push=[row])
        outcome.contributions.append(Contribution(record, [counts, rows]))
