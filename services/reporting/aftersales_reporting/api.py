"""HTTP API: a dealer's monthly follow-up report (D23, D24)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from aftersales_runtime.auth import Caller, allow
from fastapi import APIRouter, Query

from aftersales_reporting.domain.monthly import MONTH_PATTERN, month_window, monthly_report
from aftersales_reporting.store import ReportingStore, result_fact


def reports_router(
    store: ReportingStore, zone_of: Callable[[str], ZoneInfo], satisfied_min_score: int
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["reports"])

    @router.get("/dealers/{dealer_id}/reports/monthly")
    async def monthly(
        dealer_id: str,
        month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM, dealer's local")],
        caller: Annotated[Caller, allow("service_manager", "cr_manager", "gm", "oem_region")],
    ) -> dict[str, Any]:
        start, end = month_window(month, zone_of(dealer_id))
        results = await store.results_between(dealer_id, start, end)
        grades = await store.opened_grades_between(dealer_id, start, end)
        return monthly_report(
            dealer_id, month, (result_fact(r) for r in results), grades, satisfied_min_score
        )

    return router
