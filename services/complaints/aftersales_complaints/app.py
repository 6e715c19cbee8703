"""Composition root of the complaints service: settings, runtime, store, subscriber, HTTP API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import faststream
from aftersales_contracts import ComplaintEvent, ContactResult, topics
from aftersales_runtime.clock import Clock
from aftersales_runtime.service import Runtime
from fastapi import FastAPI

from aftersales_complaints.api import complaints_router
from aftersales_complaints.domain.deadlines import reply_due_at
from aftersales_complaints.domain.grading import GradingRules
from aftersales_complaints.handlers import when_contact_result_open_ticket
from aftersales_complaints.settings import ComplaintsSettings
from aftersales_complaints.store import ComplaintsStore

SERVICE = "complaints"


@dataclass
class ComplaintsService:
    runtime: Runtime
    store: ComplaintsStore
    app: FastAPI


def build(settings: ComplaintsSettings, clock: Clock | None = None) -> ComplaintsService:
    runtime = Runtime(SERVICE, settings, clock=clock)
    store = ComplaintsStore(runtime.db)
    dealers = runtime.dealers
    runtime.uses_topics(topics.CONTACT_RESULT)
    runtime.produces(ComplaintEvent)
    runtime.on_start(store.create_indexes)

    def rules_for(dealer_id: str) -> GradingRules:
        dealer = dealers.get(dealer_id)
        overrides = dealer.overrides(SERVICE).get("grading", {}) if dealer else {}
        return settings.grading.overridden(overrides)

    def reply_due(opened_at: datetime, dealer_id: str) -> datetime:
        zone = dealers.zone_of(dealer_id).key
        return reply_due_at(opened_at, zone, settings.reply_within_working_days)

    @runtime.broker.subscriber(
        settings.topic(topics.CONTACT_RESULT),
        group_id=settings.consumer_group(SERVICE),
        auto_offset_reset="earliest",
    )
    async def open_ticket_for_dissatisfaction(result: ContactResult) -> None:
        await when_contact_result_open_ticket(
            result,
            store,
            rules_for(result.dealer_id),
            reply_due,
            runtime.clock,
            runtime.publish,
            runtime.logger,
        )

    app = runtime.http_app(complaints_router(store))
    return ComplaintsService(runtime=runtime, store=store, app=app)


def create_app(settings: ComplaintsSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).app


def asyncapi_app() -> faststream.FastStream:
    return build(ComplaintsSettings()).runtime.asyncapi_app()
