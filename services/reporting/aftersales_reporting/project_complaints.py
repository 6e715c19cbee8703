"""Projection of recovery-ticket events (D18-D23, D27).

Documents:
- `C/{dealer}/{month}`, counted in the month of the event's own time (`occurred_at`) unless
  said otherwise: `opened` and `grade.{g}` (month of `opened_at`), `closed`, `reopened`,
  `escalated`, `breaches`, `root_cause.{category}`, `source.{channel}` (D29, month of
  `opened_at`; a ticket without a source came from a follow-up); and, on the month the
  ticket was opened, what became of that month's tickets: `closed_of_opened` (closed now),
  `timely_of_opened` (closed now and no step ever breached its deadline: D23's timely-handling
  completion),
  `breached_of_opened`; per service advisor `advisor.{id}.opened|grade.{g}` (D27: below-8
  tickets are assessed per advisor); `penalty.{person}.points|tickets` in the penalty's own
  month (D21/D27) with `roles.{person}`;
- `CR/{dealer}/{month}/{dd}`: one row per ticket opened (drill-down; its current state is read
  from the ticket entity);
- entity `T/{dealer}/{ticket}`: opened month, grade, advisor, breached, closed.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_contracts import ComplaintEvent, ComplaintEventKind, ComplaintSource
from aftersales_runtime.batches import Received

from aftersales_reporting.ledger import Change, Contribution, Doc, key_part
from aftersales_reporting.periods import local_day, local_month
from aftersales_reporting.projector import Outcome, ZoneOf

Kind = ComplaintEventKind


def ticket_key(dealer_id: str, ticket_id: str) -> str:
    return f"T/{dealer_id}/{ticket_id}"


@dataclass
class ComplaintsProjection:
    zone_of: ZoneOf

    def entity_ids(self, event: ComplaintEvent) -> list[str]:
        return [ticket_key(event.dealer_id, event.ticket_id)]

    def project(
        self, record: Received, event: ComplaintEvent, state: dict[str, Doc], outcome: Outcome
    ) -> None:
        zone = self.zone_of(event.dealer_id)
        dealer = event.dealer_id
        key = ticket_key(dealer, event.ticket_id)
        opened_month = local_month(event.opened_at, zone)
        ticket = state.setdefault(
            key,
            {
                "_id": key,
                "ticket_id": event.ticket_id,
                "opened_month": opened_month,
                "opened_at": event.opened_at,
                "grade": event.grade.value,
                "service_advisor": event.service_advisor.id if event.service_advisor else None,
                "opened": False,
                "breached": False,
                "closed": False,
                "closed_timely": False,
            },
        )
        ticket["grade"] = event.grade.value
        if event.state is not None:
            ticket["state"] = event.state
        now = Change(f"C/{dealer}/{local_month(event.occurred_at, zone)}")
        cohort = Change(f"C/{dealer}/{ticket['opened_month']}")
        changes = [now, cohort]
        if event.kind is Kind.OPENED and not ticket["opened"]:
            ticket["opened"] = True
            cohort.add("opened")
            cohort.add(f"grade.{event.grade.value}")
            # D29: complaints by channel; events older than the field came from follow-ups.
            cohort.add(f"source.{(event.source or ComplaintSource.FOLLOW_UP).value}")
            if event.service_advisor is not None:
                advisor = key_part(event.service_advisor.id)
                cohort.add(f"advisor.{advisor}.opened")
                cohort.add(f"advisor.{advisor}.grade.{event.grade.value}")
                cohort.names[f"names.advisor.{advisor}"] = event.service_advisor.name
            row = {
                "ticket_id": event.ticket_id,
                "event_id": event.event_id,
                "opened_at": event.opened_at,
                "grade": event.grade.value,
                "rule": event.rule,
                "low_items": list(event.low_items),
                "contact_id": event.contact_id,
                "service_advisor": ticket["service_advisor"],
                "work_order_id": event.work_order_id,
                "vin": event.vin,
                "customer_id": event.customer_id,
            }
            day = local_day(event.opened_at, zone)
            changes.append(Change(f"CR/{dealer}/{ticket['opened_month']}/{day}", push=[row]))
        elif event.kind is Kind.CLOSED:
            now.add("closed")
            if not ticket["closed"]:
                ticket["closed"] = True
                ticket["closed_timely"] = not ticket["breached"]
                cohort.add("closed_of_opened")
                cohort.add("timely_of_opened", int(ticket["closed_timely"]))
        elif event.kind is Kind.REOPENED:
            now.add("reopened")
            if ticket["closed"]:
                cohort.add("closed_of_opened", -1)
                cohort.add("timely_of_opened", -int(ticket["closed_timely"]))
                ticket["closed"] = ticket["closed_timely"] = False
        elif event.kind is Kind.BREACHED:
            now.add("breaches")
            if not ticket["breached"]:
                ticket["breached"] = True
                cohort.add("breached_of_opened")
        elif event.kind is Kind.ESCALATED:
            now.add("escalated")
        elif event.kind is Kind.RESOLVED and event.root_cause_category:
            now.add(f"root_cause.{key_part(event.root_cause_category)}")
        elif event.kind is Kind.PENALTY and event.person and event.points is not None:
            month = event.month or local_month(event.occurred_at, zone)
            penalty = Change(f"C/{dealer}/{month}")
            person = key_part(event.person)
            penalty.add(f"penalty.{person}.points", event.points)
            penalty.add(f"penalty.{person}.tickets")
            penalty.names[f"roles.{person}"] = event.role or ""
            changes.append(penalty)
        outcome.contributions.append(Contribution(record, changes))
        outcome.entities[key] = ticket
