"""Facts from events (idempotent on replay) and the monthly report over HTTP, computed here
independently from the test's own inputs."""

import io
import json
import random
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import aftersales_reporting.ledger as ledger_module
import openpyxl
import pytest
from aftersales_contracts import (
    CallOutcome,
    Channel,
    ComplaintEvent,
    ComplaintEventKind,
    ComplaintGrade,
    ContactDue,
    ContactPurpose,
    ContactResult,
    Customer,
    Scores,
    Vehicle,
    correlation_id_for,
    deterministic_id,
)
from pymongo.errors import AutoReconnect

from .conftest import DEALER, Feeder

pytestmark = pytest.mark.stack

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Around the November/December boundary in Shanghai (16:00 UTC on 30 November).
START = datetime(2026, 11, 29, 0, 0, tzinfo=UTC)


def contact_result(
    n: int, dealer: str, at: datetime, outcome: CallOutcome, answer
) -> ContactResult:
    task_id = deterministic_id("test.task", dealer, str(n))
    return ContactResult(
        event_id=deterministic_id("contact.result", task_id),
        occurred_at=at,
        dealer_id=dealer,
        correlation_id=correlation_id_for(dealer, f"WO-{n}"),
        contact_id=deterministic_id("test.contact", dealer, str(n)),
        task_id=task_id,
        agent_id="agent-1",
        channel=Channel.PHONE,
        purposes=[ContactPurpose.SERVICE_CALL_DAY3],
        attempt=1,
        outcome=outcome,
        contacted_at=at,
        scores=answer,
        work_order_id=f"WO-{n}",
        vin=f"LSVAU218XN2{n:06d}",
        customer_id=f"C-{n}",
    )


def ticket_opened(n: int, dealer: str, at: datetime, grade: ComplaintGrade) -> ComplaintEvent:
    ticket_id = deterministic_id("ticket", str(n))
    return ComplaintEvent(
        event_id=deterministic_id("complaint.opened", ticket_id),
        occurred_at=at,
        dealer_id=dealer,
        correlation_id=correlation_id_for(dealer, f"WO-{n}"),
        ticket_id=ticket_id,
        kind=ComplaintEventKind.OPENED,
        grade=grade,
        contact_id=deterministic_id("test.contact", dealer, str(n)),
        vin=f"LSVAU218XN2{n:06d}",
        customer_id=f"C-{n}",
        assigned_role="service_supervisor",
        opened_at=at,
    )


def generated_inputs(seed: int):
    rng = random.Random(seed)
    results, tickets = [], []
    for n in range(60):
        dealer = rng.choice([DEALER, DEALER, "dealer-bj-002"])
        at = START + timedelta(minutes=rng.randrange(0, 4 * 24 * 60))
        outcome = rng.choice(list(CallOutcome) + [CallOutcome.REACHED] * 3)
        answer = (
            Scores(**{item: rng.randint(0, 10) for item in Scores.ITEMS})
            if outcome is CallOutcome.REACHED and rng.random() < 0.9
            else None
        )
        results.append(contact_result(n, dealer, at, outcome, answer))
        if answer is not None and answer["overall"] < 8:
            grade = rng.choice(list(ComplaintGrade))
            tickets.append(ticket_opened(n, dealer, at + timedelta(minutes=1), grade))
    return results, tickets


def local_month(at: datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m")


def expected_report(results, tickets, dealer, month):
    mine = [r for r in results if r.dealer_id == dealer and local_month(r.contacted_at) == month]
    scored = [r.scores for r in mine if r.scores is not None]
    opened = [
        t.grade.value
        for t in tickets
        if t.dealer_id == dealer and local_month(t.opened_at) == month
    ]
    unreached = {"no_answer", "busy", "call_back_later", "wrong_number"}
    return {
        "contacts_made": len(mine),
        "reached": sum(r.outcome == "reached" for r in mine),
        "unreached": sum(r.outcome in unreached for r in mine),
        "declined": sum(r.outcome in {"refused", "opted_out"} for r in mine),
        "average_scores": {
            item: sum(s[item] for s in scored) / len(scored) if scored else None
            for item in Scores.ITEMS
        },
        "satisfaction_rate": (
            sum(s["overall"] >= 8 for s in scored) / len(scored) if scored else None
        ),
        "complaints_opened": {
            **{g: opened.count(g) for g in "ABCD"},
            "total": len(opened),
        },
    }


async def test_replayed_and_republished_events_count_once(service, client):
    results, tickets = generated_inputs(seed=7)
    feeder = Feeder(service)
    batches = feeder.records([*results, *tickets])
    await feeder.feed(batches)
    first = (await client.get(f"/v1/dealers/{DEALER}/reports/monthly?month=2026-11")).json()
    await feeder.feed(batches, size=7)  # redelivered records (same offsets), other batch sizes
    await feeder.feed(feeder.records([*results, *tickets]))  # republished (new offsets)
    again = (await client.get(f"/v1/dealers/{DEALER}/reports/monthly?month=2026-11")).json()
    assert again == first
    assert (
        first["contacts_made"]
        == expected_report(results, tickets, DEALER, "2026-11")["contacts_made"]
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_monthly_report_equals_the_figures_of_its_inputs(service, client, seed):
    results, tickets = generated_inputs(seed)
    feeder = Feeder(service)
    await feeder.feed(feeder.records([*results, *tickets, *results[:10]]))
    for dealer in (DEALER, "dealer-bj-002"):
        for month in ("2026-11", "2026-12"):
            answer = await client.get(f"/v1/dealers/{dealer}/reports/monthly?month={month}")
            assert answer.status_code == 200
            report = answer.json()
            expected = expected_report(results, tickets, dealer, month)
            assert report["dealer_id"] == dealer
            assert report["month"] == month
            for key in ("contacts_made", "reached", "unreached", "declined", "complaints_opened"):
                assert report[key] == expected[key], key
            for item, value in expected["average_scores"].items():
                assert report["average_scores"][item] == pytest.approx(value, abs=0.005)
            assert report["satisfaction_rate"] == pytest.approx(
                expected["satisfaction_rate"], abs=0.00005
            )
    assert sum(
        expected_report(results, tickets, d, m)["contacts_made"]
        for d in (DEALER, "dealer-bj-002")
        for m in ("2026-11", "2026-12")
    ) == len(results)
    # The generated inputs really straddle the month boundary.
    assert expected_report(results, tickets, DEALER, "2026-11")["contacts_made"] > 0
    assert expected_report(results, tickets, DEALER, "2026-12")["contacts_made"] > 0


async def test_an_empty_month_is_zeros_and_a_bad_or_future_month_is_422(client):
    empty = (await client.get(f"/v1/dealers/{DEALER}/reports/monthly?month=2025-01")).json()
    assert (empty["contacts_made"], empty["reached"], empty["unreached"]) == (0, 0, 0)
    assert empty["complaints_opened"]["total"] == 0
    for bad in ("2026-13", "2026-1", "yesterday"):
        answer = await client.get(f"/v1/dealers/{DEALER}/reports/monthly?month={bad}")
        assert answer.status_code == 422
    assert (await client.get(f"/v1/dealers/{DEALER}/reports/monthly")).status_code == 422
    future = await client.get(f"/v1/dealers/{DEALER}/reports/monthly?month=2027-01")
    assert future.status_code == 422
    assert "month" in future.text
    unknown = await client.get("/v1/dealers/dealer-nowhere-999/reports/monthly?month=2026-11")
    assert unknown.status_code == 404


async def test_the_exports_hold_the_reports_figures_as_numbers(service, client, tmp_path):
    results, tickets = generated_inputs(seed=4)
    feeder = Feeder(service)
    await feeder.feed(feeder.records([*results, *tickets]))
    report = (await client.get(f"/v1/dealers/{DEALER}/reports/monthly?month=2026-11")).json()

    answer = await client.get(f"/v1/dealers/{DEALER}/reports/monthly.xlsx?month=2026-11")
    assert answer.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == [
        "回访月报",
        "满意度",
        "优劣势项目",
        "保养与流失",
        "预约",
        "销售面访与SSI",
        "考核",
        "人员成绩",
    ]
    rows = list(book["回访月报"].iter_rows(values_only=True))
    print("monthly report:", json.dumps(report, ensure_ascii=False)[:1500])
    print("first sheet:", *rows[:12], sep="\n  ")
    first = {row[0]: row[1] for row in rows[2:]}
    assert first["已回访数（次）"] == report["followup"]["made"]
    assert first["成功回访数"] == report["reached"]
    assert isinstance(first["成功回访数"], int)

    pdf = await client.get(f"/v1/dealers/{DEALER}/reports/monthly.pdf?month=2026-11")
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    assert b"FontFile2" in pdf.content  # the TrueType CJK font is embedded
    if shutil.which("pdftoppm"):
        (tmp_path / "report.pdf").write_bytes(pdf.content)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "report.pdf", "page"],
            cwd=tmp_path,
            check=True,
        )
        assert list(tmp_path.glob("page*.png"))


async def test_a_drilldown_lists_the_contacts_behind_a_figure_with_masked_phones(service, client):
    results, tickets = generated_inputs(seed=5)
    reached = next(
        r
        for r in results
        if r.outcome == "reached"
        and local_month(r.contacted_at) == "2026-11"
        and r.dealer_id == DEALER
    )
    due = ContactDue(
        event_id="due-1",
        occurred_at=reached.contacted_at,
        dealer_id=DEALER,
        correlation_id="c",
        contact_id=reached.contact_id,
        purposes=[ContactPurpose.SERVICE_CALL_DAY3],
        channel=Channel.PHONE,
        due_at=reached.contacted_at,
        attempt=1,
        vehicle=Vehicle(vin=reached.vin, brand="B", model="M"),
        customer=Customer(
            customer_id=reached.customer_id,
            name="张三",
            phone="+8613800138000",
            is_owner=True,
            contact_consent=True,
        ),
    )
    feeder = Feeder(service)
    await feeder.feed(feeder.records([*results, *tickets, due]))
    report = (await client.get(f"/v1/dealers/{DEALER}/reports/monthly?month=2026-11")).json()
    drill = (
        await client.get(
            f"/v1/dealers/{DEALER}/reports/monthly/drilldown",
            params={"month": "2026-11", "figure": "reached", "limit": 500},
        )
    ).json()
    assert drill["total"] == report["reached"] == len(drill["rows"])
    assert all(row["outcome"] == "reached" for row in drill["rows"])
    phones = {row["contact_id"]: row["phone"] for row in drill["rows"]}
    assert phones[reached.contact_id] == "138****8000"  # D3: masked, never whole
    assert "13800138000" not in str(drill)
    assert "张三" not in str(drill)
    tickets_drill = (
        await client.get(
            f"/v1/dealers/{DEALER}/reports/monthly/drilldown",
            params={"month": "2026-11", "figure": "tickets"},
        )
    ).json()
    assert tickets_drill["total"] == report["complaints_opened"]["total"]
    bad = await client.get(
        f"/v1/dealers/{DEALER}/reports/monthly/drilldown",
        params={"month": "2026-11", "figure": "nothing"},
    )
    assert bad.status_code == 422
    assert "figure" in bad.text


async def drill_reached(client) -> dict:
    answer = await client.get(
        f"/v1/dealers/{DEALER}/reports/monthly/drilldown",
        params={"month": "2026-11", "figure": "reached", "limit": 500},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_drilldown_rows_are_stored_packed_and_rows_stored_before_still_read(service, client):
    results, _ = generated_inputs(seed=4)
    feeder = Feeder(service)
    await feeder.feed(feeder.records(results))
    counters = service.ledger.db[ledger_module.COUNTERS]
    stored = [p async for p in counters.find({}) if p["_id"].startswith(f"RR/{DEALER}/2026-11/")]
    pages = [p for p in stored if "rows" in p]
    assert pages
    assert all(isinstance(r, bytes) for p in pages for r in p["rows"])
    before = await drill_reached(client)
    assert before["total"] > 0

    for page in pages:  # as written before packing: rows as sub-documents
        rows = [ledger_module.unpack_row(r) for r in page["rows"]]
        await counters.update_one({"_id": page["_id"]}, {"$set": {"rows": rows}})
    assert await drill_reached(client) == before

    days = [d for d in stored if "pages" in d]
    for day in days:  # as written before pages: a day's rows in the day's own document
        held = await service.ledger.read(day["pages"])
        rows = [r for page in day["pages"] for r in held[page]["rows"]]
        await counters.replace_one({"_id": day["_id"]}, {"_id": day["_id"], "rows": rows})
        await counters.delete_many({"_id": {"$in": day["pages"]}})
    assert await drill_reached(client) == before


async def test_a_busy_days_rows_are_spread_over_pages_of_at_most_page_rows(
    service, client, monkeypatch
):
    monkeypatch.setattr(ledger_module, "PAGE_ROWS", 3)
    results, _ = generated_inputs(seed=4)
    feeder = Feeder(service)
    records = feeder.records(results)
    await feeder.feed(records, size=7)  # passes that end inside a page
    await feeder.feed(records, size=5)  # and every record delivered again
    counters = service.ledger.db[ledger_module.COUNTERS]
    stored = [p async for p in counters.find({}) if p["_id"].startswith(f"RR/{DEALER}/2026-11/")]
    pages = [p for p in stored if "rows" in p]
    # A page holds the rows of 3 records (each pushed twice: redelivered pages are not guarded).
    held = [{ledger_module.unpack_row(r)["event_id"] for r in p["rows"]} for p in pages]
    assert max(map(len, held)) <= 3
    assert max(len(d["pages"]) for d in stored if "pages" in d) > 1
    assert {p["_id"] for p in pages} == {i for d in stored for i in d.get("pages", [])}

    drill = await drill_reached(client)
    # Every reached result of the dealer's month once, day after day, each day's in the order
    # the results were published.
    mine = [
        r
        for r in results
        if r.dealer_id == DEALER
        and r.outcome == "reached"
        and local_month(r.contacted_at) == "2026-11"
    ]
    expected = sorted(mine, key=lambda r: r.contacted_at.astimezone(SHANGHAI).date())
    assert [row["contact_id"] for row in drill["rows"]] == [r.contact_id for r in expected]


async def test_a_pass_that_died_half_way_counts_each_event_once_when_redelivered(
    service, client, monkeypatch
):
    results, tickets = generated_inputs(seed=9)
    feeder = Feeder(service)
    batches = feeder.records([*results, *tickets])
    real_write = ledger_module.write_each

    async def dies_after_the_first_command(db, collection, writes):
        await real_write(db, collection, writes[:3])  # three documents changed, then the crash
        raise AutoReconnect("the database went away in the middle of the pass")

    monkeypatch.setattr(ledger_module, "write_each", dies_after_the_first_command)
    for topic, records in batches.items():
        with pytest.raises(AutoReconnect):
            await feeder.projectors[topic].run(records)
    monkeypatch.setattr(ledger_module, "write_each", real_write)
    await feeder.feed(batches, size=1000)  # the whole batch comes again

    for dealer in (DEALER, "dealer-bj-002"):
        for month in ("2026-11", "2026-12"):
            report = (
                await client.get(f"/v1/dealers/{dealer}/reports/monthly?month={month}")
            ).json()
            expected = expected_report(results, tickets, dealer, month)
            for key in ("contacts_made", "reached", "unreached", "declined", "complaints_opened"):
                assert report[key] == expected[key], (dealer, month, key)
