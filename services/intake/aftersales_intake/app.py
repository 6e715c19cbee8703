"""Intake's composition root: settings → runtime, store, pipeline, subscribers, HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import faststream
from aftersales_contracts import Event, topics
from aftersales_runtime.clock import Clock
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.kafka import publish_event
from aftersales_runtime.service import Runtime
from fastapi import FastAPI
from faststream.specification import AsyncAPI

from aftersales_intake.api import build_router
from aftersales_intake.handlers import register
from aftersales_intake.pipeline import Intake
from aftersales_intake.settings import IntakeSettings
from aftersales_intake.store import IntakeStore


@dataclass
class Service:
    runtime: Runtime
    store: IntakeStore
    intake: Intake
    http: FastAPI


def build(settings: IntakeSettings, clock: Clock | None = None) -> Service:
    runtime = Runtime("intake", settings, clock=clock)
    store = IntakeStore(runtime.db)
    broker = runtime.broker

    async def publish(event: Event) -> None:
        await publish_event(broker, settings, event)

    intake = Intake(
        store,
        publish,
        DealerDirectory.load(settings.dealers_file),
        runtime.clock,
        runtime.logger,
        timedelta(seconds=settings.future_tolerance_seconds),
    )
    register(broker, settings, intake)
    runtime.uses_topics(
        topics.DMS_WORKORDER_CLOSED,
        topics.DMS_VEHICLE_DELIVERED,
        topics.CONTACT_RESULT,
        topics.WORKORDER_CLOSED,
        topics.VEHICLE_DELIVERED,
        topics.INTAKE_REJECTED,
        topics.DEAD_LETTER,
    )
    runtime.on_start(store.create_indexes)
    http = runtime.http_app(build_router(intake, settings), title="aftersales intake")
    return Service(runtime, store, intake, http)


def create_app(settings: IntakeSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).http


def asyncapi_app() -> faststream.FastStream:
    service = build(IntakeSettings())
    return faststream.FastStream(
        service.runtime.broker,
        specification=AsyncAPI(title="aftersales intake", version="1.0.0"),
    )
