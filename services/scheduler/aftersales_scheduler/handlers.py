"""Subscribers: each translates one event into a planning use case (one dealer at a time)."""

from __future__ import annotations

from aftersales_contracts.events import ContactResult, VehicleDelivered, WorkOrderClosed
from aftersales_contracts.topics import CONTACT_RESULT, VEHICLE_DELIVERED, WORKORDER_CLOSED
from aftersales_runtime.service import Runtime

from aftersales_scheduler.planning import Planner

GROUP = "scheduler"


def register(runtime: Runtime, planner: Planner) -> None:
    broker, settings = runtime.broker, runtime.settings

    @broker.subscriber(
        settings.topic(WORKORDER_CLOSED),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
    )
    async def when_workorder_closed_plan_follow_up(event: WorkOrderClosed) -> None:
        await planner.plan_work_order(event)

    @broker.subscriber(
        settings.topic(VEHICLE_DELIVERED),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
    )
    async def when_vehicle_delivered_plan_sales_follow_up(event: VehicleDelivered) -> None:
        await planner.plan_delivery(event)

    @broker.subscriber(
        settings.topic(CONTACT_RESULT),
        group_id=settings.consumer_group(GROUP),
        auto_offset_reset="earliest",
    )
    async def when_contact_result_retry_or_close(event: ContactResult) -> None:
        await planner.record_result(event)
