"""Projection of work orders and new-car deliveries: D12 due-maintenance arrivals, D26 first
maintenance.

The scheduler does not publish D12's monthly due list yet, so the list is derived here from the
work orders: a vehicle is due in the month of the `next_maintenance_due_date` its latest work
order gave (counted once per vehicle and month, as a list fixed on the 1st would be), and it
arrived when a later work order of that VIN settles in that month.

Documents:
- `W/{dealer}/{month}`: `work_orders` and `type.{t}` (month of `settled_at`; first revisions
  only, a correction is the same visit), `due` and `due_arrived` (D12);
- `WR/{dealer}/{month}/{dd}`: rows `{kind: due|arrived, vin, …}` of the due list;
- entity `V/{dealer}/{vin}`: `due_months` counted, `due_month` now, `arrived` months;
- `N/{dealer}/{month}`: `delivered` (month of `delivered_at`) and `first_due` (month of the
  first-maintenance due date, D8); D26's first-maintenance rate for a month is the month's
  `first_maintenance` work orders over the cars whose first maintenance fell due in it;
- a delivery's sales figures (D24, D34): `project_sales.py`.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_contracts import VehicleDelivered, WorkOrderClosed
from aftersales_runtime.batches import Received

from aftersales_reporting.ledger import Change, Contribution, Doc
from aftersales_reporting.periods import local_day, local_month, month_of_date
from aftersales_reporting.project_sales import count_delivery, delivery_key
from aftersales_reporting.projector import Outcome, ZoneOf


def vehicle_key(dealer_id: str, vin: str) -> str:
    return f"V/{dealer_id}/{vin}"


@dataclass
class WorkOrdersProjection:
    zone_of: ZoneOf

    def entity_ids(self, event: WorkOrderClosed) -> list[str]:
        return [vehicle_key(event.dealer_id, event.vehicle.vin)]

    def project(
        self, record: Received, event: WorkOrderClosed, state: dict[str, Doc], outcome: Outcome
    ) -> None:
        if event.revision != 1:
            outcome.contributions.append(Contribution(record, []))
            return
        zone = self.zone_of(event.dealer_id)
        dealer, vin = event.dealer_id, event.vehicle.vin
        key = vehicle_key(dealer, vin)
        vehicle = state.setdefault(
            key, {"_id": key, "due_months": [], "due_month": None, "arrived": [], "last": None}
        )
        month = local_month(event.settled_at, zone)
        visits = Change(f"W/{dealer}/{month}")
        visits.add("work_orders")
        visits.add(f"type.{event.work_order_type.value}")
        changes = [visits]
        later = vehicle["last"] != event.work_order_id
        if vehicle["due_month"] == month and month not in vehicle["arrived"] and later:
            vehicle["arrived"].append(month)  # D12: a due customer came in
            visits.add("due_arrived")
            row = {
                "kind": "arrived",
                "vin": vin,
                "work_order_id": event.work_order_id,
                "at": event.settled_at,
                "customer_id": event.customer.customer_id,
            }
            changes.append(
                Change(
                    f"WR/{dealer}/{month}/{local_day(event.settled_at, zone)}",
                    push=[row],
                )
            )
        vehicle["last"] = event.work_order_id
        due = event.next_maintenance_due_date
        if due is not None:
            due_month = month_of_date(due)
            vehicle["due_month"] = due_month
            if due_month not in vehicle["due_months"]:
                vehicle["due_months"].append(due_month)
                counted = Change(f"W/{dealer}/{due_month}")
                counted.add("due")
                row = {
                    "kind": "due",
                    "vin": vin,
                    "work_order_id": event.work_order_id,
                    "due_date": due.isoformat(),
                    "customer_id": event.customer.customer_id,
                }
                changes += [
                    counted,
                    Change(f"WR/{dealer}/{due_month}/{due.strftime('%d')}", push=[row]),
                ]
        outcome.contributions.append(Contribution(record, changes))
        outcome.entities[key] = vehicle


@dataclass
class DeliveriesProjection:
    zone_of: ZoneOf

    def entity_ids(self, event: VehicleDelivered) -> list[str]:
        return [delivery_key(event.dealer_id, event.delivery_id)]

    def project(
        self, record: Received, event: VehicleDelivered, state: dict[str, Doc], outcome: Outcome
    ) -> None:
        zone = self.zone_of(event.dealer_id)
        dealer = event.dealer_id
        month = local_month(event.delivered_at, zone)
        delivered = Change(f"N/{dealer}/{month}")
        delivered.add("delivered")
        changes = [delivered, *count_delivery(event, zone, state)]
        key = delivery_key(dealer, event.delivery_id)
        outcome.entities[key] = state[key]
        due = event.first_maintenance_due_date
        if due is not None:
            first = Change(f"N/{dealer}/{month_of_date(due)}")
            first.add("first_due")
            row = {
                "vin": event.vehicle.vin,
                "delivery_id": event.delivery_id,
                "due_date": due.isoformat(),
                "customer_id": event.customer.customer_id,
            }
            changes += [
                first,
                Change(
                    f"NR/{dealer}/{month_of_date(due)}/{due.strftime('%d')}",
                    push=[row],
                ),
            ]
        outcome.contributions.append(Contribution(record, changes))
