"""Composition root of the scheduler."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import timedelta

import faststream
from aftersales_contracts.events import ContactClosed, ContactDue
from aftersales_contracts.topics import (
    APPOINTMENT_EVENT,
    COMPLAINT_EVENT,
    CONTACT_RESULT,
    VEHICLE_DELIVERED,
    VEHICLE_FILE_CORRECTED,
    WORKORDER_CLOSED,
)
from aftersales_runtime.clock import Clock
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.outbox import Outbox
from aftersales_runtime.service import Runtime
from fastapi import FastAPI

from aftersales_scheduler import api, subscribers
from aftersales_scheduler.dispatcher import Dispatcher
from aftersales_scheduler.domain.policy import PolicyBook
from aftersales_scheduler.periodic import PeriodicJobs
from aftersales_scheduler.planning.context import PlanningContext
from aftersales_scheduler.settings import SchedulerSettings
from aftersales_scheduler.store import TimerStore
from aftersales_scheduler.timer_metrics import watch_dispatcher


@dataclass
class Service:
    runtime: Runtime
    store: TimerStore
    planning: PlanningContext
    dispatcher: Dispatcher
    jobs: PeriodicJobs
    http: FastAPI


def load_policies(directory: DealerDirectory) -> PolicyBook:
    """Validated on load: a bad `settings.scheduler` stops the start with the dealer's name."""
    return PolicyBook.build((d.dealer_id, d.oem, d.overrides("scheduler")) for d in directory)


def build(
    settings: SchedulerSettings,
    clock: Clock | None = None,
    directory: DealerDirectory | None = None,
) -> Service:
    runtime = Runtime("scheduler", settings, clock=clock, dealers=directory)
    directory = runtime.dealers
    store = TimerStore(runtime.db)
    planning = PlanningContext(load_policies(directory), directory, runtime.clock)
    owner = settings.instance_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"

    runtime.produces(ContactDue, ContactClosed)
    dispatcher = Dispatcher(
        store.timeline,
        runtime.clock,
        runtime.publish,
        owner=owner,
        batch=settings.dispatch_batch,
        lease=timedelta(seconds=settings.claim_lease_seconds),
        logger=runtime.logger,
        contacts=store.contacts,
    )
    runtime.uses_topics(
        WORKORDER_CLOSED,
        VEHICLE_DELIVERED,
        CONTACT_RESULT,
        VEHICLE_FILE_CORRECTED,
        COMPLAINT_EVENT,
        APPOINTMENT_EVENT,
    )
    outbox = Outbox(runtime.db, runtime.events.publish_all)  # D15: closures
    subscribers.register(runtime, settings, planning, store, runtime.logger, outbox)

    async def dispatch_loop() -> None:
        await dispatcher.run_forever(settings.dispatch_interval_seconds)

    runtime.background(dispatch_loop)
    watch_dispatcher(runtime, dispatcher)
    jobs = PeriodicJobs(store, planning, owner, runtime.logger)
    if settings.periodic_jobs:
        periodic = jobs.scheduler(settings.periodic_interval_seconds)

        async def start_periodic() -> None:
            # The first run starts at once, in the background: a restarted process catches up
            # without holding its start (over a large history a run takes a while).
            periodic.start()

        async def stop_periodic() -> None:
            periodic.shutdown(wait=False)

        runtime.on_start(start_periodic)
        runtime.on_stop(stop_periodic)
    http = runtime.http_app(api.router(store))
    return Service(runtime, store, planning, dispatcher, jobs, http)


def create_app(settings: SchedulerSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).http


def asyncapi_app() -> faststream.FastStream:
    return build(SchedulerSettings()).runtime.asyncapi_app()
