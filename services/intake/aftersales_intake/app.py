"""Intake's composition root: settings → runtime, store, pipeline, subscribers, HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import faststream
from aftersales_contracts import (
    IntakeRejected,
    VehicleDelivered,
    VehicleFileCorrected,
    WorkOrderClosed,
)
from aftersales_runtime.clock import Clock
from aftersales_runtime.outbox import Outbox
from aftersales_runtime.service import Runtime
from fastapi import FastAPI

from aftersales_intake.api import build_router
from aftersales_intake.contact_results import ContactResults
from aftersales_intake.pipeline import Intake
from aftersales_intake.settings import IntakeSettings
from aftersales_intake.store import IntakeStore
from aftersales_intake.subscribers import register


@dataclass
class Service:
    runtime: Runtime
    store: IntakeStore
    intake: Intake
    results: ContactResults
    http: FastAPI


def build(settings: IntakeSettings, clock: Clock | None = None, *, consume: bool = True) -> Service:
    """The intake service; `consume=False` builds it without subscribers (the file import
    publishes through it but must not join the consumer group)."""
    runtime = Runtime("intake", settings, clock=clock)
    store = IntakeStore(runtime.db)
    runtime.produces(WorkOrderClosed, VehicleDelivered, IntakeRejected, VehicleFileCorrected)
    outbox = Outbox(runtime.db, runtime.events.publish_all)
    intake = Intake(
        store,
        outbox,
        runtime.dealers,
        runtime.clock,
        runtime.logger,
        timedelta(seconds=settings.future_tolerance_seconds),
    )
    results = ContactResults(store, outbox, runtime.clock, runtime.logger, intake.files_lock)
    if consume:
        register(runtime, settings, intake, results)
    runtime.on_start(store.create_indexes)
    http = runtime.http_app(build_router(intake, settings), title="aftersales intake")
    return Service(runtime, store, intake, results, http)


def create_app(settings: IntakeSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).http


def asyncapi_app() -> faststream.FastStream:
    return build(IntakeSettings()).runtime.asyncapi_app()
