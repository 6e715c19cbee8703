"""D28: the report calendar on a controlled clock, with two replicas sharing the database."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aftersales_contracts import CallOutcome, Channel, ContactPurpose, ContactResult, Scores
from aftersales_reporting.app import build
from aftersales_reporting.issuing import ISSUED, Issuer, due_on
from aftersales_reporting.subscribers import feeds
from aftersales_runtime.batches import Received
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.outbox import Outbox
from aftersales_workcalendar import CalendarConfig, WorkingCalendar

pytestmark = pytest.mark.stack

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar(CalendarConfig(timezone="Asia/Shanghai"))
DEALER = "dealer-sz-001"


def local(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def result(n: int, at: datetime) -> ContactResult:
    return ContactResult(
        event_id=f"r-{n}",
        occurred_at=at,
        dealer_id=DEALER,
        correlation_id="c",
        contact_id=f"k-{n}",
        task_id=f"t-{n}",
        agent_id="agent-1",
        channel=Channel.PHONE,
        purposes=[ContactPurpose.SERVICE_CALL_DAY3],
        attempt=1,
        outcome=CallOutcome.REACHED,
        contacted_at=at,
        scores=Scores(overall=9),
        vin="LSVAU218XN2000001",
        customer_id="C-1",
    )


def test_a_due_day_on_a_rest_day_or_holiday_moves_to_the_next_working_day():
    assert due_on(CALENDAR, 2027, 1, 3) == date(2027, 1, 4)  # Sunday -> Monday
    assert due_on(CALENDAR, 2026, 5, 3) == date(2026, 5, 6)  # Sunday in 劳动节 (May 1-5)
    assert due_on(CALENDAR, 2026, 12, 5) == date(2026, 12, 5)  # a Saturday: a working day


@pytest.mark.parametrize(
    ("month_start", "expected"),
    [
        (
            date(2027, 1, 1),
            {
                "ssi_data": date(2027, 1, 4),
                "recovery_tickets": date(2027, 1, 5),
                "sales_satisfaction": date(2027, 1, 5),
                "service_followup": date(2027, 1, 8),
            },
        ),
        (
            date(2026, 5, 1),
            {
                "ssi_data": date(2026, 5, 6),
                "recovery_tickets": date(2026, 5, 6),
                "sales_satisfaction": date(2026, 5, 6),
                "service_followup": date(2026, 5, 8),
            },
        ),
    ],
)
async def test_reports_are_issued_once_on_the_3rd_5th_and_8th_when_the_3rd_is_a_sunday(
    settings, mongo_db, month_start, expected
):
    clock = FixedClock(local(month_start, 0))
    service = build(settings, clock)
    announced: list = []

    async def capture(events):
        announced.extend(events)

    def replica() -> Issuer:
        return Issuer(
            service.runtime.db,
            service.reports,
            service.runtime.dealers,
            lambda _: CALENDAR,
            clock,
            Outbox(service.runtime.db, capture),
            service.runtime.logger,
        )

    replicas = [replica(), replica()]
    reported = f"{(month_start - timedelta(days=1)):%Y-%m}"
    results = feeds(service.ledger, lambda _: SHANGHAI)[0].projector
    december = local(month_start - timedelta(days=3), 11)
    await results.run(
        [Received(result(1, december).model_dump_json().encode(), None, (), "r", 0, 0)]
    )

    issued_on: dict[str, date] = {}
    for offset in range(10):
        day = month_start + timedelta(days=offset)
        clock.set(local(day, 10))
        passes = await asyncio.gather(*(r.issue_due() for r in replicas))
        for doc_id in [i for p in passes for i in p if i.startswith(f"{DEALER}/")]:
            assert doc_id.split("/")[2] not in issued_on, f"{doc_id} issued twice"
            issued_on[doc_id.split("/")[2]] = day
        if offset == 8:  # a late result of the reported month, after the reports were issued
            late = Received(result(2, december).model_dump_json().encode(), None, (), "r", 0, 1)
            await results.run([late])

    print("issued on:", {report: day.isoformat() for report, day in issued_on.items()})
    assert issued_on == expected
    mine = [e for e in announced if e.dealer_id == DEALER]
    assert sorted(e.report for e in mine) == sorted(expected)  # announced once each
    assert {e.month for e in mine} == {reported}
    assert len(announced) == len(expected) * len(list(service.runtime.dealers))

    # An issued report never changes; a re-issue is a new version with today's figures.
    first = await mongo_db[ISSUED].find_one({"_id": f"{DEALER}/{reported}/ssi_data/v1"})
    assert first["content"]["satisfaction"]["denominator"] == 1
    # D24/D34: the sales chain carries the consultants' SSI and face-to-face coverage.
    assert first["content"]["sales"]["face_to_face"]["coverage"]["target"] == 1.0
    followup = await mongo_db[ISSUED].find_one({"_id": f"{DEALER}/{reported}/service_followup/v1"})
    assert followup["content"]["appointments"]["arrival_rate"]["denominator"] == 0
    again = await replicas[0].reissue(DEALER, reported, "ssi_data")
    assert again["version"] == 2
    assert again["content"]["satisfaction"]["denominator"] == 2
    assert (await mongo_db[ISSUED].find_one({"_id": first["_id"]})) == first
    await service.runtime.mongo.close()
