"""Composition root of the reporting service: settings, runtime, read models, subscribers, HTTP."""

from __future__ import annotations

from dataclasses import dataclass

import faststream
from aftersales_runtime.clock import Clock
from aftersales_runtime.service import Runtime
from fastapi import FastAPI

from aftersales_reporting import subscribers
from aftersales_reporting.api import reports_router
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
    app: FastAPI


def build(settings: ReportingSettings, clock: Clock | None = None) -> ReportingService:
    runtime = Runtime(SERVICE, settings, clock=clock)
    ledger = Ledger(runtime.db)
    subscribers.register(runtime, settings, ledger)
    reports = MonthlyReports(ledger, settings)
    app = runtime.http_app(
        reports_router(reports, Drilldown(ledger), runtime.dealers.zone_of, runtime.clock)
    )
    return ReportingService(runtime=runtime, ledger=ledger, reports=reports, app=app)


def create_app(settings: ReportingSettings, clock: Clock | None = None) -> FastAPI:
    return build(settings, clock).app


def asyncapi_app() -> faststream.FastStream:
    return build(ReportingSettings()).runtime.asyncapi_app()
