"""Composition root of the reporting service: settings, runtime, store, subscribers, HTTP API."""

from __future__ import annotations

from dataclasses import dataclass

import faststream
from aftersales_contracts import ComplaintEvent, ContactResult, topics
from aftersales_runtime.clock import Clock
from aftersales_runtime.service import Runtime
from fastapi import FastAPI

from aftersales_reporting.api import reports_router
from aftersales_reporting.handlers import record_complaint_event, record_contact_result
from aftersales_reporting.settings import ReportingSettings
from aftersales_reporting.store import ReportingStore

SERVICE = "reporting"


@dataclass
class ReportingService:
    runtime: Runtime
    store: ReportingStore
    app: FastAPI


def build(settings: ReportingSettings, clock: Clock | None = None) -> ReportingService:
    runtime = Runtime(SERVICE, settings, clock=clock)
    store = ReportingStore(runtime.db)
    runtime.uses_topics(topics.CONTACT_RESULT, topics.COMPLAINT_EVENT)
    runtime.on_start(store.create_indexes)

    @runtime.broker.subscriber(
        settings.topic(topics.CONTACT_RESULT),
        group_id=settings.consumer_group(SERVICE),
        auto_offset_reset="earliest",
    )
    async def count_contact_result(event: ContactResult) -> None:
        await record_contact_result(event, store, runtime.logger)

    @runtime.broker.subscriber(
        settings.topic(topics.COMPLAINT_EVENT),
        group_id=settings.consumer_group(SERVICE),
        auto_offset_reset="earliest",
    )
    async def count_complaint_event(event: ComplaintEvent) -> None:
        await record_complaint_event(event, store, runtime.logger)

    app = runtime.http_app(
        reports_router(store, runtime.dealers.zone_of, settings.satisfied_min_score)
    )
    return ReportingService(runtime=runtime, store=store, app=app)


def create_app(settings: ReportingSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).app


def asyncapi_app() -> faststream.FastStream:
    return build(ReportingSettings()).runtime.asyncapi_app()
