"""Composition root of the reporting service: settings, runtime, read models, subscribers, HTTP."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache

import faststream
from aftersales_contracts import ReportIssued
from aftersales_runtime.clock import Clock
from aftersales_runtime.outbox import Outbox
from aftersales_runtime.service import Runtime
from aftersales_workcalendar import CalendarConfig, WorkingCalendar
from fastapi import FastAPI

from aftersales_reporting import subscribers
from aftersales_reporting.api import issued_router, reports_router
from aftersales_reporting.issuing import Issuer
from aftersales_reporting.ledger import Ledger
from aftersales_reporting.reports.drilldown import Drilldown
from aftersales_reporting.reports.monthly import MonthlyReports
from aftersales_reporting.settings import ReportingSettings

SERVICE = "reporting"


@dataclass
class ReportingService:
    runtime: Runtime
    ledger: Ledger
    reports: MonthlyReports
    issuer: Issuer
    app: FastAPI


def build(settings: ReportingSettings, clock: Clock | None = None) -> ReportingService:
    runtime = Runtime(SERVICE, settings, clock=clock)
    ledger = Ledger(runtime.db)
    subscribers.register(runtime, settings, ledger)
    reports = MonthlyReports(ledger, settings)
    runtime.produces(ReportIssued)

    @lru_cache(maxsize=256)
    def calendar_of(dealer_id: str) -> WorkingCalendar:
        # D28: the dealer's working days (its zone; `reporting.calendar` in the dealer directory).
        dealer = runtime.dealers.get(dealer_id)
        own = dealer.overrides(SERVICE).get("calendar", {}) if dealer else {}
        zone = runtime.dealers.zone_of(dealer_id).key
        return WorkingCalendar(CalendarConfig.model_validate({"timezone": zone, **own}))

    outbox = Outbox(runtime.db, runtime.events.publish_all)
    issuer = Issuer(
        runtime.db, reports, runtime.dealers, calendar_of, runtime.clock, outbox, runtime.logger
    )

    @runtime.background
    async def issue_reports_due() -> None:
        while True:
            try:
                await issuer.issue_due()
            except Exception:  # the next pass comes; one failure must not stop the calendar
                runtime.logger.exception("report calendar pass failed")
            await asyncio.sleep(settings.issue_every_seconds)

    app = runtime.http_app(
        reports_router(
            reports,
            Drilldown(ledger, settings.satisfied_min_score),
            runtime.dealers.zone_of,
            runtime.clock,
        ),
        issued_router(issuer, runtime.dealers.zone_of, runtime.clock),
    )
    return ReportingService(runtime, ledger, reports, issuer, app)


def create_app(settings: ReportingSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).app


def asyncapi_app() -> faststream.FastStream:
    return build(ReportingSettings()).runtime.asyncapi_app()
