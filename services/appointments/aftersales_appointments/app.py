"""Composition root of the appointments service: settings → runtime, store, use cases'
context, subscribers, the no-show sweep and the HTTP API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import faststream
from aftersales_contracts import AppointmentEvent
from aftersales_runtime.clock import Clock
from aftersales_runtime.outbox import Outbox
from aftersales_runtime.service import Runtime
from fastapi import FastAPI

from aftersales_appointments.api import appointments_router
from aftersales_appointments.context import Context
from aftersales_appointments.domain.workshop import Workshop
from aftersales_appointments.no_shows import sweep_no_shows
from aftersales_appointments.settings import AppointmentsSettings
from aftersales_appointments.store import AppointmentStore
from aftersales_appointments.subscribers import register

SERVICE = "appointments"


@dataclass
class Service:
    runtime: Runtime
    ctx: Context
    http: FastAPI


def build(settings: AppointmentsSettings, clock: Clock | None = None) -> Service:
    runtime = Runtime(SERVICE, settings, clock=clock)
    runtime.produces(AppointmentEvent)
    dealers = runtime.dealers

    def workshop_of(dealer_id: str) -> Workshop:
        # D31: capacity is configuration; a dealer's override is validated when first used.
        dealer = dealers.get(dealer_id)
        return settings.workshop.overridden(
            dealer.overrides(SERVICE).get("workshop", {}) if dealer else {}
        )

    ctx = Context(
        store=AppointmentStore(runtime.db),
        outbox=Outbox(runtime.db, runtime.events.publish_all),
        clock=runtime.clock,
        workshop_of=workshop_of,
        zone_of=dealers.zone_of,
    )
    register(runtime, settings, ctx)

    @runtime.background
    async def no_show_sweep() -> None:
        while True:
            try:
                await sweep_no_shows(ctx, dealers.ids())
            except Exception:  # a dependency's outage: log it, try again on the next pass
                runtime.logger.exception("no-show sweep failed; retrying")
            await asyncio.sleep(settings.sweep_interval_seconds)

    http = runtime.http_app(appointments_router(ctx))
    return Service(runtime, ctx, http)


def create_app(settings: AppointmentsSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).http


def asyncapi_app() -> faststream.FastStream:
    return build(AppointmentsSettings()).runtime.asyncapi_app()
