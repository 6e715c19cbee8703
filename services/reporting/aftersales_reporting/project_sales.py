"""Projection of the sales side's deliveries and face-to-face questionnaires (D24, D34).

A delivery (`VehicleDelivered`) and its questionnaire (`DeliverySurveyed`, one per delivery,
without a consultant) come on two topics in either order; the entity of the delivery joins
them, and whichever of the two comes second counts the survey in the delivery's month. The two
projectors take turns (`Projector.serial`), so neither misses the other.

Documents:
- `S/{dealer}/{month}` (month of `delivered_at`): `delivered`, `surveyed` and, per sales
  consultant, `consultant.{id}.delivered|surveyed|f2f.s{overall}` (a histogram of the
  questionnaires' overall scores), `names.consultant.{id}`;
- entity `F/{dealer}/{delivery_id}`: `delivered_month`, `consultant`, `surveyed`, `overall`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_contracts import DeliverySurveyed, VehicleDelivered
from aftersales_runtime.batches import Received

from aftersales_reporting.ledger import Change, Contribution, Doc, key_part
from aftersales_reporting.projector import Outcome, ZoneOf


def delivery_key(dealer_id: str, delivery_id: str) -> str:
    return f"F/{dealer_id}/{delivery_id}"


def _delivery(state: dict[str, Doc], key: str) -> Doc:
    return state.setdefault(
        key,
        {
            "_id": key,
            "delivered_month": None,
            "consultant": None,
            "surveyed": False,
            "overall": None,
        },
    )


def _count_survey(change: Change, delivery: Doc) -> None:
    """D34: the delivery has its questionnaire; D24: its overall score, per consultant."""
    person = delivery["consultant"]
    change.add("surveyed")
    change.add(f"consultant.{person}.surveyed")
    if delivery["overall"] is not None:
        change.add(f"consultant.{person}.f2f.s{delivery['overall']}")


def count_delivery(event: VehicleDelivered, month: str, state: dict[str, Doc]) -> list[Change]:
    """The sales figures of a delivery (its first event only), with its survey if it came first."""
    key = delivery_key(event.dealer_id, event.delivery_id)
    delivery = _delivery(state, key)
    if delivery["delivered_month"] is not None:
        return []
    consultant = event.sales_consultant
    person = key_part(consultant.id)
    delivery["delivered_month"], delivery["consultant"] = month, person
    sales = Change(f"S/{event.dealer_id}/{month}")
    sales.add("delivered")
    sales.add(f"consultant.{person}.delivered")
    if consultant.name:
        sales.names[f"names.consultant.{person}"] = consultant.name
    if delivery["surveyed"]:
        _count_survey(sales, delivery)
    return [sales]


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
                sales = Change(f"S/{event.dealer_id}/{delivery['delivered_month']}")
                _count_survey(sales, delivery)
                changes.append(sales)
            outcome.entities[key] = delivery
        outcome.contributions.append(Contribution(record, changes))
