"""D26 (with D11, D12): first maintenance, due-maintenance arrivals, come-backs, lapses."""

from __future__ import annotations

from aftersales_contracts import FIXED_FIRST_TIME, ContactPurpose

from aftersales_reporting.reports.figures import Doc, at, counts, rate

RECALL = ContactPurpose.LAPSED_CUSTOMER_RECALL.value


def retention_report(
    visits: Doc | None,
    deliveries: Doc | None,
    results: Doc | None,
    due: Doc | None,
    arrival_target: float,
) -> Doc:
    arrival = rate(at(visits, "due_arrived"), at(visits, "due"))
    return {
        # D26: the month's first-maintenance work orders over the new cars whose first
        # maintenance fell due in the month (D8's due date from the delivery).
        "first_maintenance_rate": rate(
            at(visits, "type.first_maintenance"), at(deliveries, "first_due")
        ),
        # D12: vehicles due in the month (derived from work orders, see project_vehicles.py)
        # that came in during the month.
        "due_maintenance_arrival_rate": {
            **arrival,
            "target": arrival_target,
            "met": None if arrival["rate"] is None else arrival["rate"] >= arrival_target,
            "source": "work_orders",
        },
        "come_back_rate": rate(
            at(results, f"yes_no.{FIXED_FIRST_TIME}.no"),
            at(results, f"yes_no.{FIXED_FIRST_TIME}.no")
            + at(results, f"yes_no.{FIXED_FIRST_TIME}.yes"),
        ),
        "lapsed_customers": {
            "recalls_planned": at(due, f"planned_purpose.{RECALL}"),
            "recalls_made": at(results, f"purpose.{RECALL}.made"),
            "recalls_reached": at(results, f"purpose.{RECALL}.reached"),
            "churn_by_reason": counts(at(results, "lapse", {})),
        },
        "work_orders": at(visits, "work_orders"),
        "new_cars_delivered": at(deliveries, "delivered"),
    }
