"""The weekly report's appointments (D31) and sales side (D24, D34) per ISO week, and the
drill-down of the month's deliveries still without a face-to-face questionnaire (D34): events
handed to the service's projectors on the real FerretDB, the reports read over HTTP and compared
with figures worked out here from the test's own inputs."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from aftersales_contracts import AppointmentEventKind, ContactPurpose

from .conftest import DEALER, Feeder
from .test_reporting_sales import QIAN, ZHAO, appointment, delivery, sales_call, survey

pytestmark = pytest.mark.stack

# ISO week 2026-W46 is Monday 9 to Sunday 15 November. 16:30 UTC on Sunday 15 November is
# Monday 16 November 00:30 in Shanghai: week 47 locally, week 46 in UTC.
W46 = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
W47_LOCALLY = datetime(2026, 11, 15, 16, 30, tzinfo=UTC)

# Zhao delivers three cars in week 46: the first surveyed before its delivery is projected, the
# second after (a survey recorded the next week still counts in the delivery's week), the third
# never. Qian delivers one in week 46 (surveyed) and one in week 47 (not surveyed).
DELIVERIES = [
    delivery(11, ZHAO, W46),
    delivery(12, ZHAO, W46 + timedelta(days=1)),
    delivery(13, ZHAO, W46 + timedelta(days=2)),
    delivery(14, QIAN, W46),
    delivery(15, QIAN, W47_LOCALLY),
]
EARLY_SURVEYS = [survey(11, 10)]
LATE_SURVEYS = [survey(12, 7), survey(14, 9)]


def ssi_calls() -> list:
    calls = [
        sales_call(21, ZHAO, 10, ContactPurpose.SALES_CALL_DAY3),
        sales_call(22, ZHAO, 7, ContactPurpose.SALES_CALL_DAY3),
        sales_call(23, QIAN, 8, ContactPurpose.SALES_CALL_DAY3),
    ]
    late = calls[2].model_copy(update={"contacted_at": W47_LOCALLY})  # week 47 locally
    return [*calls[:2], late]


def appointments() -> list:
    k = AppointmentEventKind
    week46, week47 = date(2026, 11, 10), date(2026, 11, 16)
    events = [appointment(n, k.BOOKED, week46) for n in (31, 32, 33)]
    events += [appointment(31, k.KEPT, week46), appointment(32, k.NO_SHOW, week46)]
    events += [appointment(33, k.CANCELLED, week46), appointment(34, k.BOOKED, week47)]
    return events


async def weekly(client, week: str) -> dict:
    answer = await client.get(f"/v1/dealers/{DEALER}/reports/weekly?week={week}")
    assert answer.status_code == 200, answer.text
    return answer.json()


async def feed_all(feeder: Feeder) -> None:
    await feeder.feed(feeder.records([*EARLY_SURVEYS, *ssi_calls(), *appointments()]))
    await feeder.feed(feeder.records(DELIVERIES))
    await feeder.feed(feeder.records(LATE_SURVEYS))


async def test_the_weekly_report_shows_the_weeks_appointments_and_sales_side_d31_d34(
    service, client
):
    await feed_all(Feeder(service))
    report = await weekly(client, "2026-W46")
    print(json.dumps(report, ensure_ascii=False, indent=1))
    assert report["appointments"] == {
        "booked": 3,
        "cancelled": 1,
        "kept": 1,
        "no_show": 1,
        "arrival_rate": {"numerator": 1, "denominator": 2, "rate": 0.5},
    }
    sales = report["sales"]
    assert sales["face_to_face"] == {
        "deliveries": 4,
        "surveyed": 3,
        "missed": 1,
        "coverage": {"numerator": 3, "denominator": 4, "rate": 0.75, "target": 1.0},
        "penalty_points": 10,
    }
    by_id = {c["id"]: c for c in sales["consultants"]}
    zhao, qian = by_id["sc-1"], by_id["sc-2"]
    assert zhao["name"] == "赵敏"
    assert (zhao["deliveries"], zhao["surveyed"], zhao["missed"]) == (3, 2, 1)
    assert (zhao["coverage_met"], zhao["penalty_points"]) == (False, 10)
    f2f = zhao["face_to_face_satisfaction"]  # scores 10 and 7: one satisfied of two
    assert (f2f["numerator"], f2f["denominator"], f2f["average"]) == (1, 2, 8.5)
    assert (zhao["ssi_calls_made"], zhao["ssi_calls_reached"]) == (2, 2)
    assert (zhao["ssi_satisfaction"]["numerator"], zhao["ssi_satisfaction"]["denominator"]) == (
        1,
        2,
    )
    assert (qian["deliveries"], qian["surveyed"], qian["penalty_points"]) == (1, 1, 0)
    assert (qian["coverage_met"], qian["ssi_calls_made"]) == (True, 0)
    assert report["followup"]["made"] == 2  # the week's two sales calls

    later = await weekly(client, "2026-W47")
    assert later["appointments"]["booked"] == 1
    assert later["sales"]["face_to_face"]["deliveries"] == 1
    assert later["sales"]["face_to_face"]["penalty_points"] == 10
    (only,) = later["sales"]["consultants"]
    assert (only["id"], only["deliveries"], only["ssi_calls_made"]) == ("sc-2", 1, 1)
    assert only["name"] == "钱多"

    # The weeks add up to the month (every delivery is in November locally).
    month = (await client.get(f"/v1/dealers/{DEALER}/reports/monthly?month=2026-11")).json()[
        "sales"
    ]["face_to_face"]
    assert (month["deliveries"], month["surveyed"]) == (5, 3)

    # Redelivered and republished: nothing changes.
    await feed_all(Feeder(service))
    assert await weekly(client, "2026-W46") == report


async def drilldown(client, arg: str = "") -> dict:
    answer = await client.get(
        f"/v1/dealers/{DEALER}/reports/monthly/drilldown",
        params={"month": "2026-11", "figure": "face_to_face_missed", "arg": arg},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_drilldown_lists_the_deliveries_still_without_a_survey_d34(service, client):
    feeder = Feeder(service)
    await feed_all(feeder)
    shown = await drilldown(client)
    print(json.dumps(shown, ensure_ascii=False, indent=1))
    assert shown["total"] == 2
    assert shown["rows"] == [
        {
            "kind": "delivered",
            "delivery_id": "DLV-13",
            "day": "2026-11-12",
            "sales_consultant": "sc-1",
            "vin": "LSVAU218XN2000013",
            "customer_id": "C-13",
            "phone": "138****0013",
            "surveyed": False,
        },
        {
            "kind": "delivered",
            "delivery_id": "DLV-15",
            "day": "2026-11-16",
            "sales_consultant": "sc-2",
            "vin": "LSVAU218XN2000015",
            "customer_id": "C-15",
            "phone": "138****0015",
            "surveyed": False,
        },
    ]
    text = json.dumps(shown, ensure_ascii=False)
    for secret in ("张三", "赵敏", "13800000013"):  # D3: no name, no whole phone
        assert secret not in text
    report = (await client.get(f"/v1/dealers/{DEALER}/reports/monthly?month=2026-11")).json()
    assert shown["total"] == report["sales"]["face_to_face"]["missed"]
    assert [r["delivery_id"] for r in (await drilldown(client, "sc-2"))["rows"]] == ["DLV-15"]

    # The survey of delivery 13 comes (twice: redelivered): it leaves the list.
    await feeder.feed(feeder.records([survey(13, 8), survey(13, 8, event="-again")]))
    assert [r["delivery_id"] for r in (await drilldown(client))["rows"]] == ["DLV-15"]
    assert [r["delivery_id"] for r in (await drilldown(client, "sc-1"))["rows"]] == []


async def test_the_sales_roles_drill_into_the_deliveries_waiting_for_a_survey_only(
    service, client, tokens
):
    """D34: the console's survey page lists the deliveries waiting for their questionnaire to
    the sales roles; the service figures stay the service managers'."""
    await feed_all(Feeder(service))
    for role in ("sales_consultant", "showroom_manager", "sales_manager"):
        headers = tokens.header(role, dealers=[DEALER])
        url = f"/v1/dealers/{DEALER}/reports/monthly/drilldown"
        waiting = await client.get(
            url, params={"month": "2026-11", "figure": "face_to_face_missed"}, headers=headers
        )
        assert waiting.status_code == 200, waiting.text
        assert waiting.json()["total"] == 2
        calls = await client.get(
            url, params={"month": "2026-11", "figure": "reached"}, headers=headers
        )
        assert calls.status_code == 403
        assert "service_manager" in calls.json()["detail"]
