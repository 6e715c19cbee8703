"""Kafka subscribers of the scheduler: each topic is consumed in batches bounded by count and
wait (SCHEDULER_BATCH_MAX_RECORDS / SCHEDULER_BATCH_TIMEOUT_MS), and each batch is handed to one
planning use case, which reads what the batch needs in bulk and writes once.

The guarantees are `aftersales_runtime.batches`': offsets are committed after the use case
stored its effects; a batch cut short is delivered again and ends in the same state (the use
cases are idempotent, see `planning.ports.Changes`); a record that is not the contract's
(not JSON, schema) is refused and parked on its own while its neighbours are planned; a batch
that keeps failing is taken apart so only the record that fails is parked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TypeVar

from aftersales_contracts.envelope import Event
from aftersales_contracts.events import (
    AppointmentEvent,
    ComplaintEvent,
    ContactResult,
    VehicleDelivered,
    VehicleFileCorrected,
    WorkOrderClosed,
)
from aftersales_contracts.topics import (
    APPOINTMENT_EVENT,
    COMPLAINT_EVENT,
    CONTACT_RESULT,
    VEHICLE_DELIVERED,
    VEHICLE_FILE_CORRECTED,
    WORKORDER_CLOSED,
)
from aftersales_runtime.batches import Received, Refused, batch_subscriber, parse_events
from aftersales_runtime.outbox import Outbox
from aftersales_runtime.service import Runtime

from aftersales_scheduler.planning.apply_corrections import apply_corrections
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.plan_appointments import plan_appointments
from aftersales_scheduler.planning.plan_confirmations import plan_confirmations
from aftersales_scheduler.planning.plan_deliveries import plan_deliveries
from aftersales_scheduler.planning.plan_work_orders import plan_work_orders
from aftersales_scheduler.planning.ports import PlanningStore
from aftersales_scheduler.planning.record_results import record_results
from aftersales_scheduler.settings import SchedulerSettings

GROUP = "scheduler"
E = TypeVar("E", bound=Event)


def register(
    runtime: Runtime,
    settings: SchedulerSettings,
    ctx: PlanningContext,
    store: PlanningStore,
    logger: logging.Logger,
    outbox: Outbox,
) -> None:
    broker = runtime.broker

    @batch_subscriber(
        broker,
        settings,
        WORKORDER_CLOSED,
        group=GROUP,
        batch=settings,
        paced=False,
        title=f"{WORKORDER_CLOSED}:scheduler",
        description="Closed work orders (WorkOrderClosed), consumed in batches: D6-D11 plans.",
    )
    async def when_workorders_closed_plan_follow_up(
        records: Sequence[Received],
    ) -> list[Refused]:
        events, refused = parse_events(records, WorkOrderClosed)
        if events:
            await plan_work_orders(ctx, store, events)
        return refused

    @batch_subscriber(
        broker,
        settings,
        VEHICLE_DELIVERED,
        group=GROUP,
        batch=settings,
        paced=False,
        title=f"{VEHICLE_DELIVERED}:scheduler",
        description="Delivered vehicles (VehicleDelivered), consumed in batches: D8 plans.",
    )
    async def when_vehicles_delivered_plan_sales_follow_up(
        records: Sequence[Received],
    ) -> list[Refused]:
        events, refused = parse_events(records, VehicleDelivered)
        if events:
            await plan_deliveries(ctx, store, events)
        return refused

    @batch_subscriber(
        broker,
        settings,
        CONTACT_RESULT,
        group=GROUP,
        batch=settings,
        title=f"{CONTACT_RESULT}:scheduler",
        description="Contact results (ContactResult), consumed in batches: D15 retry, close, "
        "D4 opt-out.",
    )
    async def when_contact_results_retry_or_close(records: Sequence[Received]) -> list[Refused]:
        events, refused = parse_events(records, ContactResult)
        if events:
            await record_results(ctx, store, events, logger, outbox)
        return refused

    @batch_subscriber(
        broker,
        settings,
        VEHICLE_FILE_CORRECTED,
        group=GROUP,
        batch=settings,
        title=f"{VEHICLE_FILE_CORRECTED}:scheduler",
        description="Vehicle files corrected on a call (VehicleFileCorrected), consumed in "
        "batches: D30 the next contact uses the corrected data, D9/D12 reminder re-planned.",
    )
    async def when_vehicle_files_corrected_replan(records: Sequence[Received]) -> list[Refused]:
        events, refused = parse_events(records, VehicleFileCorrected)
        if events:
            await apply_corrections(ctx, store, events)
        return refused

    @batch_subscriber(
        broker,
        settings,
        COMPLAINT_EVENT,
        group=GROUP,
        batch=settings,
        title=f"{COMPLAINT_EVENT}:scheduler",
        description="Complaint events (ComplaintEvent), consumed in batches: D22 the "
        "confirmation call of each confirmation_requested (other kinds are ignored).",
    )
    async def when_complaint_confirmations_requested_plan_them(
        records: Sequence[Received],
    ) -> list[Refused]:
        events, refused = parse_events(records, ComplaintEvent)
        if events:
            await plan_confirmations(ctx, store, events, logger)
        return refused

    @batch_subscriber(
        broker,
        settings,
        APPOINTMENT_EVENT,
        group=GROUP,
        batch=settings,
        title=f"{APPOINTMENT_EVENT}:scheduler",
        description="Workshop appointments (AppointmentEvent), consumed in batches: D31 the "
        "reminder the day before, withdrawn on a cancellation or an early arrival, and the "
        "follow-up call of a no-show.",
    )
    async def when_appointments_change_plan_reminders(
        records: Sequence[Received],
    ) -> list[Refused]:
        events, refused = parse_events(records, AppointmentEvent)
        if events:
            await plan_appointments(ctx, store, events, logger)
        return refused
