"""Composition root of the complaints service: settings, runtime, store, desk, subscribers,
the deadline sweep, the relay of pending publications and the HTTP API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import faststream
from aftersales_contracts import ComplaintEvent
from aftersales_runtime.audit import RevealAudit
from aftersales_runtime.clock import Clock
from aftersales_runtime.outbox import Outbox
from aftersales_runtime.relay import PendingPublications
from aftersales_runtime.service import Runtime
from aftersales_workcalendar import CalendarConfig, WorkingCalendar
from fastapi import FastAPI

from aftersales_complaints.api import complaints_router
from aftersales_complaints.channels import Channels
from aftersales_complaints.channels_api import channels_router
from aftersales_complaints.customer_index import CustomerIndex
from aftersales_complaints.desk import TicketDesk
from aftersales_complaints.domain.deadlines import DeadlineClock, DeadlinePolicy
from aftersales_complaints.domain.grading import GradingRules
from aftersales_complaints.domain.ladder import Ladder
from aftersales_complaints.domain.transitions import Rules
from aftersales_complaints.inbound_log import InboundLog
from aftersales_complaints.settings import ComplaintsSettings
from aftersales_complaints.store import ComplaintsStore
from aftersales_complaints.subscribers import SERVICE, register


@dataclass
class ComplaintsService:
    runtime: Runtime
    store: ComplaintsStore
    desk: TicketDesk
    channels: Channels
    app: FastAPI


def build(settings: ComplaintsSettings, clock: Clock | None = None) -> ComplaintsService:
    runtime = Runtime(SERVICE, settings, clock=clock)
    store = ComplaintsStore(runtime.db)
    dealers = runtime.dealers
    runtime.produces(ComplaintEvent)
    runtime.on_start(store.create_indexes)

    def overrides(dealer_id: str, part: str) -> dict[str, object]:
        dealer = dealers.get(dealer_id)
        found: dict[str, object] = dealer.overrides(SERVICE).get(part, {}) if dealer else {}
        return found

    def grading_for(dealer_id: str) -> GradingRules:
        return settings.grading.overridden(overrides(dealer_id, "grading"))

    @lru_cache(maxsize=256)
    def rules_for(dealer_id: str) -> Rules:
        # Validated when first used: a dealer's bad override fails its first ticket loudly.
        calendar = WorkingCalendar(
            CalendarConfig.model_validate(
                {"timezone": dealers.zone_of(dealer_id).key, **overrides(dealer_id, "calendar")}
            )
        )
        policy = DeadlinePolicy.model_validate(
            {**settings.deadlines.model_dump(), **overrides(dealer_id, "deadlines")}
        )
        ladder = Ladder.model_validate(
            {**settings.ladder.model_dump(), **overrides(dealer_id, "ladder")}
        )
        return Rules(DeadlineClock(calendar, policy), ladder)

    # No grace period: `republish` itself passes over what this process is publishing, and a
    # controlled clock (tests, demo) may stand still.
    pending = PendingPublications(runtime.db, runtime.clock, grace=timedelta(0))
    outbox = Outbox(runtime.db, runtime.events.publish_all)
    desk = TicketDesk(store, rules_for, runtime.clock, outbox, pending, runtime.logger)
    channels = Channels(
        desk, CustomerIndex(runtime.db), InboundLog(runtime.db), dealers.zone_of, grading_for
    )
    register(runtime, settings, channels, grading_for)

    @runtime.on_start
    async def move_the_old_outbox() -> None:
        for key in await store.keys_left_in_the_old_outbox():
            await pending.add(key)
        await store.drop_the_old_outbox()

    @runtime.background
    async def deadline_sweep() -> None:
        while True:
            try:
                await desk.sweep()
            except Exception:  # a dependency's outage: log it, try again on the next pass
                runtime.logger.exception("deadline sweep failed; retrying")
            await asyncio.sleep(settings.sweep_interval_seconds)

    @runtime.background
    async def relay_pending_publications() -> None:
        # What a crash left stored but unpublished goes out even if nothing touches the ticket.
        await pending.run_forever(desk.republish, runtime.logger, settings.sweep_interval_seconds)

    app = runtime.http_app(
        complaints_router(store, desk),
        channels_router(channels, RevealAudit(runtime.db, runtime.clock), settings),
    )
    return ComplaintsService(runtime=runtime, store=store, desk=desk, channels=channels, app=app)


def create_app(settings: ComplaintsSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).app


def asyncapi_app() -> faststream.FastStream:
    return build(ComplaintsSettings()).runtime.asyncapi_app()
