"""D24 SSI per sales consultant, D34 face-to-face coverage, D29 complaints by channel and D31
appointments: events handed to the service's projectors on the real FerretDB, the monthly
report read over HTTP and compared with figures computed here from the test's own inputs."""

import asyncio
import io
import json
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from aftersales_contracts import (
    AppointmentEvent,
    AppointmentEventKind,
    CallOutcome,
    Channel,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    ComplaintSource,
    ContactPurpose,
    ContactResult,
    Customer,
    DeliverySurveyed,
    QuestionnaireRef,
    Scores,
    Staff,
    Vehicle,
    VehicleDelivered,
)

from .conftest import DEALER, Feeder

pytestmark = pytest.mark.stack

# 16:00 UTC on 30 November is 1 December 00:00 in Shanghai.
NOVEMBER = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
LATE_NOVEMBER_UTC = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # December locally
ZHAO, QIAN = Staff(id="sc-1", name="赵敏"), Staff(id="sc-2", name="钱多")


def vin(n: int) -> str:
    return f"LSVAU218XN2{n:06d}"


def delivery(n: int, consultant: Staff, at: datetime = NOVEMBER) -> VehicleDelivered:
    return VehicleDelivered(
        event_id=f"delivered-{n}",
        occurred_at=at,
        dealer_id=DEALER,
        correlation_id=f"c-{n}",
        delivery_id=f"DLV-{n}",
        delivered_at=at,
        vehicle=Vehicle(vin=vin(n), brand="B", model="M"),
        customer=Customer(
            customer_id=f"C-{n}",
            name="张三",
            phone=f"+86138{n:08d}",
            is_owner=True,
            contact_consent=True,
        ),
        sales_consultant=consultant,
    )


def survey(n: int, overall: int | None, event: str = "") -> DeliverySurveyed:
    return DeliverySurveyed(
        event_id=f"surveyed-{n}{event}",
        occurred_at=NOVEMBER + timedelta(hours=1),
        dealer_id=DEALER,
        correlation_id=f"c-{n}",
        delivery_id=f"DLV-{n}",
        vin=vin(n),
        customer_id=f"C-{n}",
        surveyed_at=NOVEMBER + timedelta(hours=1),
        recorded_by="sales-desk",
        questionnaire=QuestionnaireRef(id="delivery-face-to-face", version=1),
        scores=Scores(overall=overall) if overall is not None else None,
    )


def sales_call(
    n: int, consultant: Staff, overall: int | None, purpose: ContactPurpose
) -> ContactResult:
    return ContactResult(
        event_id=f"ssi-{n}",
        occurred_at=NOVEMBER,
        dealer_id=DEALER,
        correlation_id=f"c-{n}",
        contact_id=f"K-{n}",
        task_id=f"task-{n}",
        agent_id="agent-1",
        channel=Channel.PHONE,
        purposes=[purpose],
        attempt=1,
        outcome=CallOutcome.REACHED if overall is not None else CallOutcome.NO_ANSWER,
        contacted_at=NOVEMBER,
        scores=Scores(overall=overall) if overall is not None else None,
        vin=vin(n),
        customer_id=f"C-{n}",
        sales_consultant=consultant,
    )


# Zhao: 4 deliveries in November, 3 surveyed (scores 10, 9, 6); Qian: 2 deliveries, 1 surveyed
# without scores; one delivery of Qian's late on 30 November UTC is December in Shanghai; a
# survey of a delivery never published counts nowhere.
DELIVERIES = [
    delivery(1, ZHAO),
    delivery(2, ZHAO),
    delivery(3, ZHAO),
    delivery(4, ZHAO),
    delivery(5, QIAN),
    delivery(6, QIAN),
    delivery(7, QIAN, LATE_NOVEMBER_UTC),
]
SURVEYS = [survey(1, 10), survey(2, 9), survey(3, 6), survey(5, None), survey(99, 10)]


async def monthly(client, month: str = "2026-11") -> dict:
    answer = await client.get(f"/v1/dealers/{DEALER}/reports/monthly?month={month}")
    assert answer.status_code == 200
    return answer.json()


async def test_face_to_face_coverage_joins_a_survey_before_or_after_its_delivery_d34(
    service, client
):
    feeder = Feeder(service)
    # Two surveys come before their deliveries, the others after; one survey comes twice.
    await feeder.feed(feeder.records(SURVEYS[:2]))
    await feeder.feed(feeder.records(DELIVERIES))
    await feeder.feed(feeder.records([*SURVEYS[2:], survey(1, 3, event="-again")]))
    report = await monthly(client)
    sales = report["sales"]
    print(json.dumps({"sales": sales}, ensure_ascii=False, indent=1))
    assert sales["face_to_face"] == {
        "deliveries": 6,
        "surveyed": 4,
        "missed": 2,
        "coverage": {"numerator": 4, "denominator": 6, "rate": 0.6667, "target": 1.0},
        "penalty_points": 20,
    }
    by_id = {c["id"]: c for c in sales["consultants"]}
    assert set(by_id) == {"sc-1", "sc-2"}
    zhao, qian = by_id["sc-1"], by_id["sc-2"]
    assert zhao["name"] == "赵敏"
    assert (zhao["deliveries"], zhao["surveyed"], zhao["missed"]) == (4, 3, 1)
    assert zhao["coverage"] == {"numerator": 3, "denominator": 4, "rate": 0.75}
    assert zhao["coverage_met"] is False
    assert zhao["penalty_points"] == 10
    # D24: two of the three scored questionnaires are satisfied (>= 8), the second of
    # delivery 1 (score 3) is ignored: one questionnaire per delivery.
    f2f = zhao["face_to_face_satisfaction"]
    assert (f2f["numerator"], f2f["denominator"], f2f["average"]) == (2, 3, 8.33)
    assert (qian["deliveries"], qian["surveyed"], qian["penalty_points"]) == (2, 1, 10)
    assert qian["face_to_face_satisfaction"]["denominator"] == 0
    december = (await monthly(client, "2026-12"))["sales"]
    assert december["face_to_face"]["deliveries"] == 1
    assert december["face_to_face"]["missed"] == 1

    # Redelivered and republished: nothing changes.
    again = Feeder(service)
    await again.feed(again.records([*SURVEYS, *DELIVERIES]))
    assert (await monthly(client))["sales"] == sales


async def test_a_delivery_and_its_survey_projected_at_the_same_time_still_join_d34(service, client):
    deliveries = [delivery(100 + n, ZHAO) for n in range(30)]
    surveys = [survey(100 + n, 9) for n in range(30)]
    feeder = Feeder(service)
    delivered, surveyed = feeder.records(deliveries), feeder.records(surveys)
    projectors = feeder.projectors

    async def run(topic: str, records) -> None:
        for start in range(0, len(records), 3):
            assert await projectors[topic].run(records[start : start + 3]) == []

    await asyncio.gather(
        *(run(topic, records) for topic, records in [*delivered.items(), *surveyed.items()])
    )
    figures = (await monthly(client))["sales"]["face_to_face"]
    assert (figures["deliveries"], figures["surveyed"], figures["missed"]) == (30, 30, 0)
    assert figures["coverage"]["rate"] == 1.0


async def test_ssi_per_consultant_counts_the_day3_sales_calls_only_d24(service, client):
    results = [
        sales_call(1, ZHAO, 10, ContactPurpose.SALES_CALL_DAY3),
        sales_call(2, ZHAO, 7, ContactPurpose.SALES_CALL_DAY3),
        sales_call(3, ZHAO, None, ContactPurpose.SALES_CALL_DAY3),  # not reached
        sales_call(4, QIAN, 8, ContactPurpose.SALES_CALL_DAY3),
        sales_call(5, QIAN, 2, ContactPurpose.SERVICE_CALL_DAY3),  # not a sales call
    ]
    feeder = Feeder(service)
    await feeder.feed(feeder.records(results))
    report = await monthly(client)
    by_id = {c["id"]: c for c in report["sales"]["consultants"]}
    print(json.dumps({"consultants": report["sales"]["consultants"]}, ensure_ascii=False))
    zhao, qian = by_id["sc-1"], by_id["sc-2"]
    assert (zhao["ssi_calls_made"], zhao["ssi_calls_reached"]) == (3, 2)
    assert {k: zhao["ssi_satisfaction"][k] for k in ("numerator", "denominator", "rate")} == {
        "numerator": 1,
        "denominator": 2,
        "rate": 0.5,
    }
    assert zhao["ssi_satisfaction"]["average"] == 8.5
    assert (qian["ssi_satisfaction"]["numerator"], qian["ssi_satisfaction"]["denominator"]) == (
        1,
        1,
    )
    assert zhao["deliveries"] == 0
    assert zhao["coverage"]["rate"] is None


def opened(n: int, source: ComplaintSource | None, at: datetime = NOVEMBER) -> ComplaintEvent:
    return ComplaintEvent(
        event_id=f"opened-{n}",
        occurred_at=at,
        dealer_id=DEALER,
        correlation_id=f"c-{n}",
        ticket_id=f"T-{n}",
        kind=ComplaintEventKind.OPENED,
        grade=ComplaintGrade.C,
        contact_id=f"K-{n}",
        vin=vin(n),
        customer_id=f"C-{n}",
        assigned_role="service_supervisor",
        opened_at=at,
        source=source,
    )


async def test_complaints_are_counted_by_channel_in_the_month_opened_d29(service, client):
    s = ComplaintSource
    tickets = [
        opened(1, s.HOTLINE),
        opened(2, s.HOTLINE),
        opened(3, s.WEBSITE),
        opened(4, None),  # an older event: a follow-up's
        opened(5, s.FOLLOW_UP),
        opened(6, s.OEM, LATE_NOVEMBER_UTC),  # December in Shanghai
    ]
    feeder = Feeder(service)
    await feeder.feed(feeder.records(tickets))
    complaints = (await monthly(client))["followup"]["complaints"]
    print(json.dumps({"opened_by_source": complaints["opened_by_source"]}))
    assert complaints["opened_by_source"] == {
        "follow_up": 2,
        "hotline": 2,
        "website": 1,
        "email": 0,
        "letter": 0,
        "walk_in": 0,
        "oem": 0,
        "colleague": 0,
    }
    assert sum(complaints["opened_by_source"].values()) == complaints["opened"] == 5
    december = (await monthly(client, "2026-12"))["followup"]["complaints"]
    assert december["opened_by_source"]["oem"] == 1


def appointment(n: int, kind: AppointmentEventKind, day: date) -> AppointmentEvent:
    start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=1)
    return AppointmentEvent(
        event_id=f"appointment-{n}-{kind.value}",
        occurred_at=NOVEMBER,
        dealer_id=DEALER,
        correlation_id=f"c-{n}",
        appointment_id=f"AP-{n}",
        kind=kind,
        vin=vin(n),
        customer_id=f"C-{n}",
        day=day,
        slot_id="slot-1",
        slot_start=start,
        slot_end=start + timedelta(hours=1),
        service="maintenance",
        actor="system",
    )


async def test_appointments_and_the_arrival_rate_per_month_of_the_day_d31(service, client):
    k = AppointmentEventKind
    nov, dec = date(2026, 11, 20), date(2026, 12, 1)
    events = [appointment(n, k.BOOKED, nov) for n in range(6)]
    events += [appointment(0, k.CANCELLED, nov)]
    events += [appointment(n, k.KEPT, nov) for n in (1, 2, 3)]
    events += [appointment(4, k.NO_SHOW, nov)]
    events += [appointment(9, k.BOOKED, dec), appointment(9, k.KEPT, dec)]
    feeder = Feeder(service)
    await feeder.feed(feeder.records(events))
    november = (await monthly(client))["appointments"]
    print(json.dumps({"appointments": november}))
    assert november == {
        "booked": 6,
        "cancelled": 1,
        "kept": 3,
        "no_show": 1,
        "arrival_rate": {"numerator": 3, "denominator": 4, "rate": 0.75},
    }
    december = (await monthly(client, "2026-12"))["appointments"]
    assert (december["booked"], december["kept"], december["arrival_rate"]["rate"]) == (1, 1, 1.0)


async def test_the_exports_show_coverage_ssi_channels_and_appointments_in_chinese(service, client):
    feeder = Feeder(service)
    await feeder.feed(feeder.records([*DELIVERIES, *SURVEYS]))
    await feeder.feed(feeder.records([opened(1, ComplaintSource.HOTLINE)]))
    await feeder.feed(
        feeder.records([appointment(1, AppointmentEventKind.BOOKED, NOVEMBER.date())])
    )
    answer = await client.get(f"/v1/dealers/{DEALER}/reports/monthly.xlsx?month=2026-11")
    assert answer.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    rows = list(book["销售面访与SSI"].iter_rows(min_row=2, values_only=True))
    assert rows[0][:8] == (
        "销售顾问",
        "姓名",
        "交车数",
        "面访数",
        "未面访数",
        "面访覆盖率",
        "目标",
        "扣分",
    )
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id["合计"][2:6] == (6, 4, 2, 0.6667)
    assert by_id["sc-1"][1:8] == ("赵敏", 4, 3, 1, 0.75, 1, 10)
    followup = {row[0]: row[1] for row in book["回访月报"].iter_rows(min_row=3, values_only=True)}
    assert followup["投诉渠道-热线来电"] == 1
    booked = {row[0]: row[1] for row in book["预约"].iter_rows(min_row=3, values_only=True)}
    assert booked["预约数"] == 1
    pdf = await client.get(f"/v1/dealers/{DEALER}/reports/monthly.pdf?month=2026-11")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
