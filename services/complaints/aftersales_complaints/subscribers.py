"""The complaints service's Kafka subscribers: each one thin, calling exactly one use case."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aftersales_contracts import (
    ContactResult,
    OemComplaintTransferred,
    VehicleDelivered,
    WorkOrderClosed,
    topics,
)
from aftersales_runtime.batches import Received, Refused, batch_subscriber, parse_events
from aftersales_runtime.service import Runtime

from aftersales_complaints.channels import Channels, oem_complaint_transferred
from aftersales_complaints.contact_results import contact_results_recorded
from aftersales_complaints.customer_index import vehicles_delivered, work_orders_closed
from aftersales_complaints.domain.grading import GradingRules
from aftersales_complaints.settings import ComplaintsSettings

SERVICE = "complaints"


def register(
    runtime: Runtime,
    settings: ComplaintsSettings,
    channels: Channels,
    grading_for: Callable[[str], GradingRules],
) -> None:
    runtime.uses_topics(
        topics.CONTACT_RESULT,
        topics.WORKORDER_CLOSED,
        topics.VEHICLE_DELIVERED,
        topics.OEM_COMPLAINT_TRANSFERRED,
    )
    group = settings.consumer_group(SERVICE)
    subscriber = runtime.broker.subscriber
    desk, index = channels.desk, channels.index

    @batch_subscriber(
        runtime.broker,
        settings,
        topics.CONTACT_RESULT,
        group=SERVICE,
        batch=settings,
        title=f"{topics.CONTACT_RESULT}:complaints",
        description="Contact results (ContactResult), consumed in batches, in order: D18 a "
        "dissatisfied answer opens a ticket, D22 a confirmation closes or reopens one.",
    )
    async def on_contact_results(records: Sequence[Received]) -> list[Refused]:
        events, refused = parse_events(records, ContactResult)
        await contact_results_recorded(events, desk, grading_for)
        return refused

    # D29: complaints' own index of customers, to find them by plate, phone or VIN.
    @batch_subscriber(
        runtime.broker,
        settings,
        topics.WORKORDER_CLOSED,
        group=SERVICE,
        batch=settings,
        title=f"{topics.WORKORDER_CLOSED}:complaints",
        description="Closed work orders (WorkOrderClosed), consumed in batches: D29 the "
        "customer index by VIN, plate and phone.",
    )
    async def on_work_orders_closed(records: Sequence[Received]) -> list[Refused]:
        events, refused = parse_events(records, WorkOrderClosed)
        if events:
            await work_orders_closed(events, index)
        return refused

    @batch_subscriber(
        runtime.broker,
        settings,
        topics.VEHICLE_DELIVERED,
        group=SERVICE,
        batch=settings,
        title=f"{topics.VEHICLE_DELIVERED}:complaints",
        description="New-car handovers (VehicleDelivered), consumed in batches: D29 the "
        "customer index, so a buyer can complain before the first work order.",
    )
    async def on_vehicles_delivered(records: Sequence[Received]) -> list[Refused]:
        events, refused = parse_events(records, VehicleDelivered)
        if events:
            await vehicles_delivered(events, index)
        return refused

    @subscriber(
        settings.topic(topics.OEM_COMPLAINT_TRANSFERRED),
        description=(
            "D29: a complaint the car maker (OEM) received and transferred to the dealer, "
            "published by the OEM's integration (an external topic, like the DMS's); the "
            "customer is found by vin, plate or phone and one ticket opens per oem_complaint_id"
        ),
        group_id=group,
        auto_offset_reset="earliest",
    )
    async def on_oem_complaint(event: OemComplaintTransferred) -> None:
        await oem_complaint_transferred(event, channels)
