"""The reports' arithmetic (D24-D27) on hand-made read-model documents, and the projections'
transitions (tickets, due lists) on hand-made events."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from aftersales_contracts import (
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    Customer,
    Staff,
    Vehicle,
    WorkOrderClosed,
    WorkOrderType,
)
from aftersales_reporting.ledger import Change
from aftersales_reporting.periods import local_month, local_week, previous_months
from aftersales_reporting.project_complaints import ComplaintsProjection
from aftersales_reporting.project_vehicles import WorkOrdersProjection
from aftersales_reporting.projector import Outcome
from aftersales_reporting.reports.followup import complaints_report
from aftersales_reporting.reports.satisfaction import Thresholds, bands, items_report
from aftersales_reporting.reports.staff import band_bonus
from aftersales_reporting.settings import ReportingSettings
from aftersales_runtime.batches import Received

SHANGHAI = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
RECORD = Received(b"", None, (), "t", 0, 0)


def hist(**scores: int) -> dict[str, int]:
    return {f"s{k[1:]}": v for k, v in scores.items()}


def test_the_bands_of_d24_split_every_score_once():
    counted = bands({s: 1 for s in range(11)}, Thresholds())
    assert counted == {
        "very_satisfied": 2,
        "satisfied": 1,
        "dissatisfied": 2,
        "very_dissatisfied": 6,
    }


def test_a_boundary_score_belongs_to_the_higher_band_d27():
    settings = ReportingSettings()
    got = [
        band_bonus(s, settings.consultant_bands) for s in (100, 99.9, 90, 89.99, 80, 70, 60, 59.9)
    ]
    assert got == [300, 200, 200, 100, 100, 0, -100, -150]
    assert band_bonus(90, settings.manager_bands) == 150
    assert band_bonus(None, settings.manager_bands) is None


def test_strengths_and_weaknesses_come_with_their_numbers_d25():
    results = {
        "hist": {
            "attitude": hist(s10=9, s9=1),  # no dissatisfied, 100 % very satisfied
            "quality": hist(s9=3, s8=3, s5=4),  # 30 % very satisfied, 40 % dissatisfied
            "charges": hist(s9=6, s8=4),  # 60 % very satisfied, 80 % last month
            "timeliness": hist(s9=7, s7=1, s8=2),  # a dissatisfied answer: no strength
        }
    }
    previous = {"hist": {"charges": hist(s10=8, s8=2)}}
    report = items_report(results, previous, Thresholds())
    by_item = {i["item"]: i for i in report["items"]}
    assert report["strengths"] == ["attitude"]
    assert report["weaknesses"] == ["quality", "charges"]
    assert by_item["quality"]["dissatisfied"] == {"numerator": 4, "denominator": 10, "rate": 0.4}
    assert by_item["quality"]["reasons"] == ["low_very_satisfied_and_high_dissatisfied"]
    assert by_item["charges"]["very_satisfied_drop"] == 0.2
    assert by_item["charges"]["reasons"] == ["very_satisfied_dropped"]
    assert by_item["timeliness"]["kind"] is None
    assert by_item["environment"]["answered"] == 0
    assert by_item["environment"]["kind"] is None
    stricter = items_report(results, previous, Thresholds(strength_min_very_satisfied=1.01))
    assert stricter["strengths"] == []


def ticket(kind: ComplaintEventKind, n: int, at: datetime, **extra) -> ComplaintEvent:
    return ComplaintEvent(
        event_id=f"e-{kind.value}-{n}-{at.isoformat()}",
        occurred_at=at,
        dealer_id="d1",
        correlation_id="c",
        ticket_id=f"T{n}",
        kind=kind,
        grade=ComplaintGrade.C,
        contact_id="k",
        vin="LSVAU218XN2000001",
        customer_id="C1",
        assigned_role="service_supervisor",
        service_advisor=Staff(id="sa.1", name="王"),
        opened_at=AT,
        **extra,
    )


def apply(projection, events) -> dict[str, dict[str, int]]:
    state: dict = {}
    outcome = Outcome()
    for event in events:
        projection.project(RECORD, event, state, outcome)
    totals: dict[str, dict[str, int]] = {}
    for contribution in outcome.contributions:
        for change in contribution.changes:
            doc = totals.setdefault(change.doc_id, {})
            for path, amount in change.inc.items():
                doc[path] = doc.get(path, 0) + amount
    return totals


def test_timely_handling_counts_the_months_tickets_closed_without_a_breach_d23():
    later = AT + timedelta(days=25)  # closed in December, opened in November
    k = ComplaintEventKind
    events = [
        ticket(k.OPENED, 1, AT),
        ticket(k.CLOSED, 1, later),
        ticket(k.OPENED, 2, AT),
        ticket(k.BREACHED, 2, AT),
        ticket(k.CLOSED, 2, AT),
        ticket(k.OPENED, 3, AT),
        ticket(k.CLOSED, 3, AT),
        ticket(k.REOPENED, 3, later),
        ticket(k.OPENED, 4, AT),
        ticket(
            k.PENALTY, 2, AT, person="sup-1", role="service_supervisor", points=20, month="2026-11"
        ),
    ]
    counted = apply(ComplaintsProjection(lambda _: SHANGHAI), events)
    november = {k: v for k, v in counted["C/d1/2026-11"].items()}
    report = complaints_report(
        {
            "opened": november["opened"],
            "grade": {"C": november["grade.C"]},
            "closed_of_opened": november["closed_of_opened"],
            "timely_of_opened": november["timely_of_opened"],
            "closed": november["closed"],
        }
    )
    assert report["opened"] == 4
    assert report["opened_by_grade"]["C"] == 4
    assert report["still_open"] == 2  # ticket 3 reopened, ticket 4 never closed
    assert report["timely_handling_rate"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert counted["C/d1/2026-12"]["closed"] == 1
    assert counted["C/d1/2026-12"]["reopened"] == 1
    assert november["advisor.sa%2E1.opened"] == 4
    assert november["penalty.sup-1.points"] == 20


def work_order(n: int, vin: str, settled: datetime, due: date | None) -> WorkOrderClosed:
    return WorkOrderClosed(
        event_id=f"wo-{n}",
        occurred_at=settled,
        dealer_id="d1",
        correlation_id="c",
        work_order_id=f"WO-{n}",
        work_order_type=WorkOrderType.MAINTENANCE,
        revision=1,
        opened_at=settled,
        settled_at=settled,
        vehicle=Vehicle(vin=vin, brand="B", model="M"),
        customer=Customer(
            customer_id="C1", name="张", phone="+8613800138000", is_owner=True, contact_consent=True
        ),
        service_advisor=Staff(id="sa-1", name="王"),
        total_amount=100,
        next_maintenance_due_date=due,
    )


def test_the_due_list_counts_a_vehicle_once_and_its_arrival_in_the_due_month_d12():
    vin_a, vin_b = "LSVAU218XN2000001", "LSVAU218XN2000002"
    events = [
        work_order(1, vin_a, AT, date(2027, 2, 10)),
        work_order(2, vin_b, AT, date(2027, 2, 20)),
        work_order(3, vin_a, datetime(2027, 2, 5, 3, tzinfo=UTC), date(2027, 8, 1)),  # came in
        work_order(4, vin_a, datetime(2027, 2, 25, 3, tzinfo=UTC), None),  # came again: once
    ]
    counted = apply(WorkOrdersProjection(lambda _: SHANGHAI), events)
    assert counted["W/d1/2027-02"]["due"] == 2
    assert counted["W/d1/2027-02"]["due_arrived"] == 1
    assert counted["W/d1/2027-08"]["due"] == 1


def test_periods_are_the_dealers_local_ones():
    eve = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 1 December 01:00 in Shanghai
    assert local_month(eve, SHANGHAI) == "2026-12"
    assert local_week(eve, SHANGHAI) == "2026-W49"
    assert previous_months("2027-01", 2) == ["2026-12", "2026-11"]


def test_a_change_adds_up():
    change = Change("x")
    change.add("a")
    change.add("a", 2)
    assert change.inc == {"a": 3}
