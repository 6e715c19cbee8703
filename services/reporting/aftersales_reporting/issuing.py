"""D28: the report calendar. On the 3rd, 5th and 8th of each month (the dealer's local date; the
next working day when it is a rest day or a holiday, by the dealer's working calendar) the
reports due that day are issued for the month before: stored as issued and announced on
`aftersales.report.issued` for whoever forwards them (GM, managers, the OEM region).

- An issued report never changes: it is a copy of the figures at the time of issue, stored in
  `issued` as `{dealer}/{month}/{report}/v{version}`. Issuing it again (`reissue`) is version+1.
- One replica issues each report once: version 1 is an insert on that `_id` (a collision means
  another replica, or an earlier pass, issued it).
- The announcement goes out through the outbox (stored in the document, published, marked): a
  pass finds an issued report whose mark is missing and publishes the same event again.
- A day missed (the service was down) is caught up on the next pass in the same month.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from aftersales_contracts import ReportIssued, deterministic_id
from aftersales_runtime.clock import Clock
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.mongo import insert_once
from aftersales_runtime.outbox import Outbox, Pending
from aftersales_workcalendar import WorkingCalendar
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_reporting.periods import previous_months
from aftersales_reporting.reports.monthly import MonthlyReports

ISSUED = "issued"
ANNOUNCE_GRACE = timedelta(minutes=2)
Doc = dict[str, Any]


@dataclass(frozen=True)
class ScheduledReport:
    """One report of D28's calendar: due on `day` of the month after the month it covers."""

    report: str
    chain: Literal["service", "sales"]
    day: int
    recipients: tuple[str, ...]
    sections: tuple[str, ...]  # the parts of the monthly report it carries


CALENDAR: tuple[ScheduledReport, ...] = (
    # Sales: by the 3rd the consultants' SSI data to the customer-relations manager.
    ScheduledReport(
        "ssi_data", "sales", 3, ("cr_manager",), ("satisfaction", "staff.consultant", "sales")
    ),
    # Service: by the 5th the recovery-ticket report to the region's service adviser.
    ScheduledReport(
        "recovery_tickets",
        "service",
        5,
        ("oem_region",),
        ("followup.complaints", "staff.advisor", "scorecard.penalties"),
    ),
    # Sales: by the 5th the sales satisfaction report to the GM, sales and showroom managers.
    ScheduledReport(
        "sales_satisfaction",
        "sales",
        5,
        ("gm", "sales_manager", "showroom_manager"),
        ("satisfaction", "staff.consultant", "sales"),  # D34: face-to-face coverage, points
    ),
    # Service: by the 8th the 3-day follow-up report with each advisor's item scores.
    ScheduledReport(
        "service_followup",
        "service",
        8,
        ("gm", "service_manager", "service_supervisor", "technical_director"),
        (
            "followup",
            "satisfaction",
            "items",
            "staff.advisor",
            "staff.technician",
            "appointments",
        ),
    ),
)
BY_NAME = {r.report: r for r in CALENDAR}


def due_on(calendar: WorkingCalendar, year: int, month: int, day: int) -> date:
    """The day itself, or the next working day when it is a rest day or a holiday (D28)."""
    due = date(year, month, day)
    while not calendar.is_working_day(due):
        due += timedelta(days=1)
    return due


def due_reports(calendar: WorkingCalendar, today: date) -> list[tuple[ScheduledReport, date]]:
    """The calendar's reports due on or before `today` in `today`'s month."""
    found = []
    for scheduled in CALENDAR:
        due = due_on(calendar, today.year, today.month, scheduled.day)
        if due <= today:
            found.append((scheduled, due))
    return found


def _section(report: Doc, path: str) -> Any:
    value: Any = report
    for part in path.split("."):
        value = value[part]
    return value


def issued_id(dealer_id: str, month: str, report: str, version: int) -> str:
    return f"{dealer_id}/{month}/{report}/v{version}"


@dataclass
class Issuer:
    db: AsyncDatabase[Doc]
    reports: MonthlyReports
    dealers: DealerDirectory
    calendar_of: Callable[[str], WorkingCalendar]
    clock: Clock
    outbox: Outbox
    logger: logging.Logger
    announced: set[str] = field(default_factory=set)  # published, known to this process

    async def issue_due(self) -> list[str]:
        """One pass over every dealer: issue what is due and not issued; publish what is issued
        and not yet announced. Returns the ids of the reports this pass issued."""
        issued: list[str] = []
        now = self.clock.now()
        for dealer_id in self.dealers.ids():
            today = now.astimezone(self.dealers.zone_of(dealer_id)).date()
            month = previous_months(f"{today:%Y-%m}", 1)[0]
            for scheduled, due in due_reports(self.calendar_of(dealer_id), today):
                doc_id = issued_id(dealer_id, month, scheduled.report, 1)
                if await self._issue(dealer_id, month, scheduled, due, 1, now):
                    issued.append(doc_id)
                else:
                    await self._announce_if_missing(doc_id, now)
        return issued

    async def reissue(self, dealer_id: str, month: str, report: str) -> Doc:
        """A new version of an issued report, with today's figures (D28)."""
        scheduled = BY_NAME[report]
        now = self.clock.now()
        version = await self._latest(dealer_id, month, report) + 1
        while not await self._issue(dealer_id, month, scheduled, now.date(), version, now):
            version += 1  # another caller took this version first
        found = await self.db[ISSUED].find_one(
            {"_id": issued_id(dealer_id, month, report, version)}
        )
        assert found is not None
        return found

    async def versions(self, dealer_id: str, month: str) -> list[Doc]:
        """Every issued version of the month's reports (few: read one by one by `_id`)."""
        found: list[Doc] = []
        for scheduled in CALENDAR:
            version = 1
            while doc := await self.db[ISSUED].find_one(
                {"_id": issued_id(dealer_id, month, scheduled.report, version)}
            ):
                found.append(doc)
                version += 1
        return found

    async def _latest(self, dealer_id: str, month: str, report: str) -> int:
        version = 0
        while await self.db[ISSUED].find_one(
            {"_id": issued_id(dealer_id, month, report, version + 1)}, {"_id": 1}
        ):
            version += 1
        return version

    async def _issue(
        self,
        dealer_id: str,
        month: str,
        scheduled: ScheduledReport,
        due: date,
        version: int,
        now: datetime,
    ) -> bool:
        doc_id = issued_id(dealer_id, month, scheduled.report, version)
        report = await self.reports.monthly(dealer_id, month)
        event = ReportIssued(
            event_id=deterministic_id("report.issued", doc_id),
            occurred_at=now,
            dealer_id=dealer_id,
            correlation_id=f"{dealer_id}/{month}/{scheduled.report}",
            report_id=doc_id,
            report=scheduled.report,
            chain=scheduled.chain,
            month=month,
            version=version,
            due_on=due,
            issued_at=now,
            recipients=list(scheduled.recipients),
        )
        document = {
            "_id": doc_id,
            "dealer_id": dealer_id,
            "month": month,
            "report": scheduled.report,
            "chain": scheduled.chain,
            "version": version,
            "due_on": due.isoformat(),
            "issued_at": now,
            "recipients": list(scheduled.recipients),
            "content": {p.replace(".", "_"): _section(report, p) for p in scheduled.sections},
            "event": event.model_dump(mode="json"),
        }
        if not await insert_once(self.db, ISSUED, document):
            return False  # D28: issued already (another replica, an earlier pass)
        await self.outbox.flush([Pending(ISSUED, doc_id, (event,))])
        self.announced.add(doc_id)
        self.logger.info("report issued", extra={"report_id": doc_id, "dealer_id": dealer_id})
        return True

    async def _announce_if_missing(self, doc_id: str, now: datetime) -> None:
        """Publish a stored announcement nobody marked: its issuer died before the mark. Not
        while the issuer may still be at it (`ANNOUNCE_GRACE`): the same event twice is
        harmless (same event id) but needless."""
        if doc_id in self.announced or await self.outbox.published_revisions(ISSUED, [doc_id]):
            self.announced.add(doc_id)
            return
        document = await self.db[ISSUED].find_one({"_id": doc_id})
        if document is not None and document["issued_at"] <= now - ANNOUNCE_GRACE:
            event = ReportIssued.model_validate(document["event"])
            await self.outbox.flush([Pending(ISSUED, doc_id, (event,))])
            self.announced.add(doc_id)
