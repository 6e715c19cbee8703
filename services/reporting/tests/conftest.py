"""Fixtures of the reporting service's tests: a service on the isolated database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from aftersales_reporting.app import ReportingService, build
from aftersales_reporting.settings import ReportingSettings
from aftersales_runtime.clock import FixedClock

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)


@pytest.fixture
def settings(service_settings) -> ReportingSettings:
    return service_settings(ReportingSettings)


@pytest.fixture
async def service(settings) -> AsyncIterator[ReportingService]:
    built = build(settings, FixedClock(NOW))
    try:
        yield built
    finally:
        await built.runtime.mongo.close()


@pytest.fixture
async def client(service, tokens) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.app)
    manager = tokens.header("cr_manager", dealers=["*"])
    async with httpx.AsyncClient(
        transport=transport, base_url="http://reporting", headers=manager
    ) as http:
        yield http
