"""HTTP API: a dealer's reports (D23-D27) as JSON, drill-downs, and the exports.

Every route declares its roles; another dealer's objects (and an unknown dealer) answer 404
(the runtime's `allow`), a malformed or future period 422 naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from aftersales_contracts.primitives import MONTH_PATTERN
from aftersales_runtime.auth import Caller, allow
from aftersales_runtime.clock import Clock
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from aftersales_reporting.exports import pdf_of, xlsx_of
from aftersales_reporting.issuing import BY_NAME, Issuer
from aftersales_reporting.periods import WEEK_PATTERN, local_month, local_week
from aftersales_reporting.reports.drilldown import FIGURES, Drilldown
from aftersales_reporting.reports.monthly import MonthlyReports

READERS = ("service_manager", "cr_manager", "gm", "oem_region")
#: D3/issue 12: rows name customers' vehicles and masked phones: the dealer's own managers only.
DRILLERS = ("service_manager", "cr_manager", "gm")
#: D34: the sales roles drill only into the sales figures (the deliveries waiting for their
#: face-to-face questionnaire, which the console's survey page lists).
SALES_DRILLERS = ("sales_manager", "showroom_manager", "sales_consultant")
SALES_FIGURES = frozenset({"face_to_face_missed"})
MonthQuery = Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM, dealer's local")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _not_future(field: str, value: str, current: str) -> None:
    if value > current:
        detail = [
            {
                "loc": ["query", field],
                "msg": f"{value} is in the future (now {current})",
                "type": "value_error",
            }
        ]
        raise HTTPException(422, detail)


def reports_router(
    reports: MonthlyReports, drilldown: Drilldown, zone_of: Callable[[str], ZoneInfo], clock: Clock
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["reports"])

    def month_checked(dealer_id: str, month: str) -> str:
        _not_future("month", month, local_month(clock.now(), zone_of(dealer_id)))
        return month

    @router.get("/dealers/{dealer_id}/reports/monthly")
    async def monthly(
        dealer_id: str, month: MonthQuery, caller: Annotated[Caller, allow(*READERS)]
    ) -> dict[str, Any]:
        """Every report of D23-D27 for a dealer's local calendar month (see the README), with
        complaints by channel (D29), appointments (D31) and the sales side's face-to-face
        coverage and SSI per consultant (`sales`, D24, D34); every rate is {numerator,
        denominator, rate}.

        D12's due-maintenance arrival rate is derived from work orders until the scheduler
        publishes its monthly due list: the vehicles whose `next_maintenance_due_date` falls in
        the month, arrived = a later work order of that VIN settled in the month
        (`retention.due_maintenance_arrival_rate.source` = "work_orders")."""
        return await reports.monthly(dealer_id, month_checked(dealer_id, month))

    @router.get("/dealers/{dealer_id}/reports/weekly")
    async def weekly(
        dealer_id: str,
        week: Annotated[str, Query(pattern=WEEK_PATTERN, description="ISO week YYYY-Www, local")],
        caller: Annotated[Caller, allow(*READERS)],
    ) -> dict[str, Any]:
        """An ISO week: D23/D24 follow-ups made, reached, timeliness, issues and satisfaction;
        D31 the week's appointments and arrival rate; D24/D34 the sales side (`sales`: the week's
        deliveries with their face-to-face coverage and points, SSI per sales consultant)."""
        _not_future("week", week, local_week(clock.now(), zone_of(dealer_id)))
        return await reports.weekly(dealer_id, week)

    @router.get("/dealers/{dealer_id}/reports/monthly/drilldown")
    async def drill(
        dealer_id: str,
        month: MonthQuery,
        figure: Annotated[str, Query(description=f"one of {', '.join(FIGURES)}")],
        caller: Annotated[Caller, allow(*DRILLERS, *SALES_DRILLERS)],
        arg: Annotated[str, Query(max_length=100, description="e.g. an issue code")] = "",
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """The contacts, tickets, vehicles or deliveries behind a figure (customers' phones
        masked), e.g. `figure=face_to_face_missed` (D34: the month's deliveries still without a
        face-to-face questionnaire; `arg` a sales consultant's id, optional; the sales roles may
        ask for this figure only)."""
        if figure not in FIGURES:
            detail = [
                {
                    "loc": ["query", "figure"],
                    "msg": f"unknown figure {figure!r}",
                    "type": "value_error",
                }
            ]
            raise HTTPException(422, detail)
        if not caller.roles & set(DRILLERS) and figure not in SALES_FIGURES:
            raise HTTPException(
                403, f"figure {figure!r} needs one of the roles {', '.join(DRILLERS)}"
            )
        month = month_checked(dealer_id, month)
        return await drilldown.rows(dealer_id, month, figure, arg, offset, limit)

    @router.get(
        "/dealers/{dealer_id}/reports/monthly.xlsx",
        response_class=Response,
        responses={200: {"content": {XLSX: {}}, "description": "one sheet per report"}},
    )
    async def monthly_xlsx(
        dealer_id: str, month: MonthQuery, caller: Annotated[Caller, allow(*READERS)]
    ) -> Response:
        """The monthly report as an XLSX workbook: one sheet per report, Chinese headers."""
        report = await reports.monthly(dealer_id, month_checked(dealer_id, month))
        return Response(
            xlsx_of(report), media_type=XLSX, headers=_attachment(dealer_id, month, "xlsx")
        )

    @router.get(
        "/dealers/{dealer_id}/reports/monthly.pdf",
        response_class=Response,
        responses={200: {"content": {"application/pdf": {}}, "description": "the report"}},
    )
    async def monthly_pdf(
        dealer_id: str, month: MonthQuery, caller: Annotated[Caller, allow(*READERS)]
    ) -> Response:
        """The monthly report as a PDF (a CJK font embedded)."""
        report = await reports.monthly(dealer_id, month_checked(dealer_id, month))
        return Response(
            pdf_of(report),
            media_type="application/pdf",
            headers=_attachment(dealer_id, month, "pdf"),
        )

    return router


def issued_router(issuer: Issuer, zone_of: Callable[[str], ZoneInfo], clock: Clock) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["issued reports"])

    @router.get("/dealers/{dealer_id}/reports/issued")
    async def issued(
        dealer_id: str,
        month: MonthQuery,
        caller: Annotated[Caller, allow(*READERS, "sales_manager", "showroom_manager")],
    ) -> dict[str, Any]:
        """D28: the month's issued reports, every version, as they were issued (never changed)."""
        _not_future("month", month, local_month(clock.now(), zone_of(dealer_id)))
        found = await issuer.versions(dealer_id, month)
        return {"dealer_id": dealer_id, "month": month, "issued": [_public(d) for d in found]}

    @router.post("/dealers/{dealer_id}/reports/issued/{report}/reissue", status_code=201)
    async def reissue(
        dealer_id: str,
        report: str,
        month: MonthQuery,
        caller: Annotated[Caller, allow("service_manager", "cr_manager", "gm")],
    ) -> dict[str, Any]:
        """D28: issue a report again with today's figures: a new version, announced again."""
        if report not in BY_NAME:
            raise HTTPException(404, f"no report {report!r} in the calendar")
        current = local_month(clock.now(), zone_of(dealer_id))
        if month >= current:
            detail = [
                {
                    "loc": ["query", "month"],
                    "msg": f"{month} is not over yet (now {current})",
                    "type": "value_error",
                }
            ]
            raise HTTPException(422, detail)
        return _public(await issuer.reissue(dealer_id, month, report))

    return router


def _public(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in ("_id", "event")} | {
        "report_id": document["_id"]
    }


def _attachment(dealer_id: str, month: str, ext: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{dealer_id}-{month}.{ext}"'}
