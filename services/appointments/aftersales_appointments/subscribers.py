"""Kafka subscribers: work orders, in batches, into the arrivals use case (D31)."""

from __future__ import annotations

from collections.abc import Sequence

from aftersales_contracts import WorkOrderClosed, topics
from aftersales_runtime.batches import Received, Refused, batch_subscriber, parse_events
from aftersales_runtime.service import Runtime

from aftersales_appointments.arrivals import record_arrivals
from aftersales_appointments.context import Context
from aftersales_appointments.settings import AppointmentsSettings

GROUP = "appointments"


def register(runtime: Runtime, settings: AppointmentsSettings, ctx: Context) -> None:
    runtime.uses_topics(topics.WORKORDER_CLOSED)

    @batch_subscriber(
        runtime.broker,
        settings,
        topics.WORKORDER_CLOSED,
        group=GROUP,
        batch=settings,
        title="aftersales.workorder.closed:appointments",
        description="Work orders, in batches: one opened on a booked day (or the next) keeps "
        "the appointment.",
    )
    async def when_work_orders_closed_record_arrivals(
        records: Sequence[Received],
    ) -> list[Refused]:
        orders, refused = parse_events(records, WorkOrderClosed)
        await record_arrivals(ctx, orders)
        return refused
