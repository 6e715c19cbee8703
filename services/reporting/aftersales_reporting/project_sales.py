"""Projection of the sales side's deliveries and face-to-face questionnaires (D24, D34).

A delivery (`VehicleDelivered`) and its questionnaire (`DeliverySurveyed`, one per delivery,
without a consultant) come on two topics in either order; the entity of the delivery joins
them, and whichever of the two comes second counts the survey in the delivery's month and ISO
week. The two projectors take turns (`Projector.serial`), so neither misses the other.

Documents (periods of `delivered_at`, the dealer's local time):
- `S/{dealer}/{month}` and `S/{dealer}/{week}`: `delivered`, `surveyed` and, per sales
  consultant, `consultant.{id}.delivered|surveyed|f2f.s{overall}` (a histogram of the
  questionnaires' overall scores), `names.consultant.{id}`;
- `SR/{dealer}/{month}/{dd}` (day of the delivery): rows `{kind: delivered, delivery_id, day,
  sales_consultant, vin, phone}` (the buyer's phone masked, D3; no name) and `{kind: surveyed,
  delivery_id}`, pushed by whichever of the two counts the survey: the drill-down of the
  deliveries still without a questionnaire (D34) is the first kind without the second;
- entity `F/{dealer}/{delivery_id}`: `delivered_month`, `delivered_week`, `delivered_on`,
  `consultant`, `surveyed`, `overall`. (An entity stored before weeks were counted has no
  `delivered_week`/`delivered_on`: its late survey counts in the month only; a rebuild
  completes it.)
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aftersales_contracts import DeliverySurveyed, VehicleDelivered
from aftersales_runtime.batches import Received
from aftersales_runtime.privacy import mask_phone

from aftersales_reporting.ledger import Change, Contribution, Doc, key_part
from aftersales_reporting.periods import month_of_date, week_of_date
from aftersales_reporting.projector import Outcome, ZoneOf


def delivery_key(dealer_id: str, delivery_id: str) -> str:
    return f"F/{dealer_id}/{delivery_id}"


def _delivery(state: dict[str, Doc], key: str) -> Doc:
    return state.setdefault(
        key,
        {
            "_id": key,
            "delivered_month": None,
            "delivered_week": None,
            "delivered_on": None,
            "consultant": None,
            "surveyed": False,
            "overall": None,
        },
    )


def _periods(dealer_id: str, delivery: Doc) -> list[Change]:
    """One change of the sales counters per period the delivery counts in (month, week)."""
    periods = (delivery["delivered_month"], delivery.get("delivered_week"))
    return [Change(f"S/{dealer_id}/{p}") for p in periods if p is not None]


def _survey_marker(dealer_id: str, delivery_id: str, delivery: Doc) -> list[Change]:
    """D34: the delivery's row on its day page gets its survey (the drill-down's join)."""
    on = delivery.get("delivered_on")
    if on is None:
        return []
    page = f"SR/{dealer_id}/{on[:7]}/{on[8:10]}"
    row = {"kind": "surveyed", "delivery_id": delivery_id}
    return [Change(page, push=[row])]


def _count_survey(change: Change, delivery: Doc) -> None:
    """D34: the delivery has its questionnaire; D24: its overall score, per consultant."""
    person = delivery["consultant"]
    change.add("surveyed")
    change.add(f"consultant.{person}.surveyed")
    if delivery["overall"] is not None:
        change.add(f"consultant.{person}.f2f.s{delivery['overall']}")


def count_delivery(event: VehicleDelivered, zone: ZoneInfo, state: dict[str, Doc]) -> list[Change]:
    """The sales figures of a delivery (its first event only), with its survey if it came first."""
    dealer = event.dealer_id
    delivery = _delivery(state, delivery_key(dealer, event.delivery_id))
    if delivery["delivered_month"] is not None:
        return []
    consultant = event.sales_consultant
    person = key_part(consultant.id)
    on = event.delivered_at.astimezone(zone).date()
    delivery.update(
        delivered_month=month_of_date(on),
        delivered_week=week_of_date(on),
        delivered_on=on.isoformat(),
        consultant=person,
    )
    changes = _periods(dealer, delivery)
    for sales in changes:
        sales.add("delivered")
        sales.add(f"consultant.{person}.delivered")
        if consultant.name:
            sales.names[f"names.consultant.{person}"] = consultant.name
        if delivery["surveyed"]:
            _count_survey(sales, delivery)
    row = {
        "kind": "delivered",
        "delivery_id": event.delivery_id,
        "day": on.isoformat(),
        "sales_consultant": consultant.id,
        "vin": event.vehicle.vin,
        "customer_id": event.customer.customer_id,  # what the survey form is recorded against
        "phone": mask_phone(event.customer.phone),  # D3: never the whole phone, no name
    }
    page = f"SR/{dealer}/{on.strftime('%Y-%m')}/{on.strftime('%d')}"
    changes.append(Change(page, push=[row]))
    if delivery["surveyed"]:
        changes += _survey_marker(dealer, event.delivery_id, delivery)
    return changes


@dataclass
class SurveysProjection:
    zone_of: ZoneOf

    def entity_ids(self, event: DeliverySurveyed) -> list[str]:
        return [delivery_key(event.dealer_id, event.delivery_id)]

    def project(
        self, record: Received, event: DeliverySurveyed, state: dict[str, Doc], outcome: Outcome
    ) -> None:
        key = delivery_key(event.dealer_id, event.delivery_id)
        delivery = _delivery(state, key)
        changes: list[Change] = []
        if not delivery["surveyed"]:  # D34: one questionnaire per delivery
            delivery["surveyed"] = True
            delivery["overall"] = event.scores.root.get("overall") if event.scores else None
            if delivery["delivered_month"] is not None:
                changes = _periods(event.dealer_id, delivery)
                for sales in changes:
                    _count_survey(sales, delivery)
                changes += _survey_marker(event.dealer_id, event.delivery_id, delivery)
            outcome.entities[key] = delivery
        outcome.contributions.append(Contribution(record, changes))
