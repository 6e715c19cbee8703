"""The reporting service's Kafka subscribers: each topic's batches go to its projector."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aftersales_contracts import (
    AppointmentEvent,
    ComplaintEvent,
    ContactDue,
    ContactExpired,
    ContactResult,
    DeliverySurveyed,
    VehicleDelivered,
    WorkOrderClosed,
    topics,
)
from aftersales_runtime.batches import Received, Refused, batch_subscriber
from aftersales_runtime.service import Runtime

from aftersales_reporting.ledger import Ledger
from aftersales_reporting.project_appointments import AppointmentsProjection
from aftersales_reporting.project_complaints import ComplaintsProjection
from aftersales_reporting.project_contacts import (
    DueProjection,
    ExpiredProjection,
    ResultsProjection,
)
from aftersales_reporting.project_sales import SurveysProjection
from aftersales_reporting.project_vehicles import DeliveriesProjection, WorkOrdersProjection
from aftersales_reporting.projector import Projector, ZoneOf
from aftersales_reporting.settings import ReportingSettings

GROUP = "reporting"


@dataclass(frozen=True)
class Feed:
    topic: str
    projector: Projector[Any]
    description: str


def feeds(ledger: Ledger, zone_of: ZoneOf) -> list[Feed]:
    """Every consumed topic with its projector (the rebuild replays the same list)."""
    deliveries = asyncio.Lock()  # D34: a delivery and its survey join in one entity
    return [
        Feed(
            topics.CONTACT_RESULT,
            Projector(ContactResult, ResultsProjection(zone_of), ledger),
            "Contact results: follow-ups made, answers, issues, staff figures (D23-D27).",
        ),
        Feed(
            topics.CONTACT_DUE,
            Projector(ContactDue, DueProjection(zone_of), ledger),
            "Contacts due: follow-ups planned (D23), masked phones for drill-downs.",
        ),
        Feed(
            topics.CONTACT_EXPIRED,
            Projector(ContactExpired, ExpiredProjection(zone_of), ledger),
            "Follow-ups not made in time (D23).",
        ),
        Feed(
            topics.COMPLAINT_EVENT,
            Projector(ComplaintEvent, ComplaintsProjection(zone_of), ledger),
            "Recovery tickets: opened, closed, breaches, penalties (D21-D23, D27).",
        ),
        Feed(
            topics.WORKORDER_CLOSED,
            Projector(WorkOrderClosed, WorkOrdersProjection(zone_of), ledger),
            "Work orders: visits, first maintenance, the due list and its arrivals (D12, D26).",
        ),
        Feed(
            topics.VEHICLE_DELIVERED,
            Projector(VehicleDelivered, DeliveriesProjection(zone_of), ledger, deliveries),
            "New-car deliveries: first maintenance due (D26), per sales consultant (D34).",
        ),
        Feed(
            topics.DELIVERY_SURVEYED,
            Projector(DeliverySurveyed, SurveysProjection(zone_of), ledger, deliveries),
            "Face-to-face questionnaires at delivery: coverage and scores per consultant (D34).",
        ),
        Feed(
            topics.APPOINTMENT_EVENT,
            Projector(AppointmentEvent, AppointmentsProjection(zone_of), ledger),
            "Workshop appointments: booked, cancelled, kept, no-shows (D31).",
        ),
    ]


def register(runtime: Runtime, settings: ReportingSettings, ledger: Ledger) -> None:
    for feed in feeds(ledger, runtime.dealers.zone_of):
        runtime.uses_topics(feed.topic)
        _subscribe(runtime, settings, feed)


def _subscribe(runtime: Runtime, settings: ReportingSettings, feed: Feed) -> None:
    async def project(records: Sequence[Received]) -> list[Refused]:
        return await feed.projector.run(records)

    project.__name__ = "project_" + feed.topic.split(".", 1)[1].replace(".", "_")
    batch_subscriber(
        runtime.broker,
        settings,
        feed.topic,
        group=GROUP,
        batch=settings,
        title=f"{feed.topic}:reporting",
        description=f"{feed.description} Consumed in batches.",
    )(project)
