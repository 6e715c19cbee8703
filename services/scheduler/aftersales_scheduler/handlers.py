"""Subscribers: each hands its event to one planning use case (one dealer at a time).

One message at a time for now (a one-element list): the use cases take lists, so batch
consumption only changes this file.
"""

from __future__ import annotations

import logging

from aftersales_contracts.events import (
    ComplaintEvent,
    ContactResult,
    VehicleDelivered,
    VehicleFileCorrected,
    WorkOrderClosed,
)
from aftersales_contracts.topics import (
    COMPLAINT_EVENT,
    CONTACT_RESULT,
    VEHICLE_DELIVERED,
    VEHICLE_FILE_CORRECTED,
    WORKORDER_CLOSED,
)
from aftersales_runtime.outbox import Outbox
from aftersales_runtime.service import Runtime

from aftersales_scheduler.planning.apply_corrections import apply_corrections
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.planning.plan_confirmations import plan_confirmations
from aftersales_scheduler.planning.plan_deliveries import plan_deliveries
from aftersales_scheduler.planning.plan_work_orders import plan_work_orders
from aftersales_scheduler.planning.ports import PlanningStore
from aftersales_scheduler.planning.record_results import record_results

GROUP = "scheduler"


def register(
    runtime: Runtime,
    ctx: PlanningContext,
    store: PlanningStore,
    logger: logging.Logger,
    outbox: Outbox,
) -> None:
    broker, settings = runtime.broker, runtime.settings

    @broker.subscriber(
        settings.topic(WORKORDER_CLOSED),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
    )
    async def when_workorder_closed_plan_follow_up(event: WorkOrderClosed) -> None:
        await plan_work_orders(ctx, store, [event])

    @broker.subscriber(
        settings.topic(VEHICLE_DELIVERED),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
    )
    async def when_vehicle_delivered_plan_sales_follow_up(event: VehicleDelivered) -> None:
        await plan_deliveries(ctx, store, [event])

    @broker.subscriber(
        settings.topic(CONTACT_RESULT),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
    )
    async def when_contact_result_retry_or_close(event: ContactResult) -> None:
        await record_results(ctx, store, [event], logger, outbox)

    @broker.subscriber(
        settings.topic(VEHICLE_FILE_CORRECTED),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
    )
    async def when_vehicle_file_corrected_replan(event: VehicleFileCorrected) -> None:
        await apply_corrections(ctx, store, [event])

    @broker.subscriber(
        settings.topic(COMPLAINT_EVENT),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
    )
    async def when_complaint_confirmation_requested_plan_it(event: ComplaintEvent) -> None:
        await plan_confirmations(ctx, store, [event], logger)
