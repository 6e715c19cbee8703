"""Projection of workshop appointments (D31): booked, cancelled, kept and no-shows.

Documents (the period of the appointment's `day`, the dealer's local day):
- `A/{dealer}/{month}` and `A/{dealer}/{week}` (ISO week, `2026-W48`): `kind.{k}`, one per event
  of that kind (every change of an appointment is one event).
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_contracts import AppointmentEvent
from aftersales_runtime.batches import Received

from aftersales_reporting.ledger import Change, Contribution, Doc
from aftersales_reporting.periods import month_of_date, week_of_date
from aftersales_reporting.projector import Outcome, ZoneOf


@dataclass
class AppointmentsProjection:
    zone_of: ZoneOf

    def entity_ids(self, event: AppointmentEvent) -> list[str]:
        return []

    def project(
        self, record: Received, event: AppointmentEvent, state: dict[str, Doc], outcome: Outcome
    ) -> None:
        changes = [
            Change(f"A/{event.dealer_id}/{period}")
            for period in (month_of_date(event.day), week_of_date(event.day))
        ]
        for counts in changes:
            counts.add(f"kind.{event.kind.value}")
        outcome.contributions.append(Contribution(record, changes))
