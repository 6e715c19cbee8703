"""The monthly report's arithmetic (D23, D24) and the dealer's local month."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aftersales_contracts import CallOutcome, ComplaintGrade, Scores
from aftersales_reporting.domain.monthly import (
    DECLINED,
    UNREACHED,
    ResultFact,
    month_window,
    monthly_report,
)
from hypothesis import given
from hypothesis import strategies as st

SHANGHAI = ZoneInfo("Asia/Shanghai")
scores_st = st.fixed_dictionaries({item: st.integers(0, 10) for item in Scores.ITEMS}).map(Scores)
fact_st = st.one_of(
    st.builds(ResultFact, outcome=st.just(CallOutcome.REACHED), scores=scores_st),
    st.builds(ResultFact, outcome=st.sampled_from(list(CallOutcome)), scores=st.none()),
)


def test_every_outcome_is_in_exactly_one_bucket():
    buckets = [{CallOutcome.REACHED}, UNREACHED, DECLINED]
    for outcome in CallOutcome:
        assert sum(outcome in bucket for bucket in buckets) == 1


def test_a_month_without_data_is_zeros_and_no_averages():
    report = monthly_report("d", "2026-11", [], [])
    assert report["contacts_made"] == report["reached"] == report["unreached"] == 0
    assert report["complaints_opened"] == {"A": 0, "B": 0, "C": 0, "D": 0, "total": 0}
    assert set(report["average_scores"].values()) == {None}
    assert report["satisfaction_rate"] is None


def test_a_small_month_by_hand():
    nine = Scores(attitude=9, quality=9, charges=9, timeliness=9, environment=9, overall=9)
    six = Scores(attitude=6, quality=4, charges=8, timeliness=7, environment=10, overall=6)
    facts = [
        ResultFact(CallOutcome.REACHED, nine),
        ResultFact(CallOutcome.REACHED, six),
        ResultFact(CallOutcome.NO_ANSWER, None),
        ResultFact(CallOutcome.WRONG_NUMBER, None),
        ResultFact(CallOutcome.REFUSED, None),
    ]
    report = monthly_report("d", "2026-11", facts, [ComplaintGrade.C, ComplaintGrade.C])
    assert (report["contacts_made"], report["reached"], report["unreached"]) == (5, 2, 2)
    assert report["declined"] == 1
    assert report["average_scores"]["quality"] == 6.5
    assert report["average_scores"]["overall"] == 7.5
    assert report["satisfaction_rate"] == 0.5
    assert report["complaints_opened"] == {"A": 0, "B": 0, "C": 2, "D": 0, "total": 2}


@given(st.lists(fact_st, max_size=40), st.lists(st.sampled_from(list(ComplaintGrade))))
def test_figures_add_up(facts, grades):
    report = monthly_report("d", "2026-11", facts, grades)
    assert report["contacts_made"] == len(facts)
    assert report["reached"] + report["unreached"] + report["declined"] == len(facts)
    assert report["complaints_opened"]["total"] == len(grades)
    scored = [f.scores for f in facts if f.scores is not None]
    assert report["scored_answers"] == len(scored)
    if scored:
        for item in Scores.ITEMS:
            values = [s[item] for s in scored if item in s.root]
            assert report["average_scores"][item] == pytest.approx(
                sum(values) / len(values), abs=0.005
            )
        satisfied = [s for s in scored if s["overall"] >= 8]
        assert report["satisfaction_rate"] == pytest.approx(
            len(satisfied) / len(scored), abs=0.00005
        )


@given(st.integers(0, 10), st.integers(0, 10))
def test_the_satisfaction_threshold_is_configurable(overall, threshold):
    answer = Scores(attitude=9, quality=9, charges=9, timeliness=9, environment=9, overall=overall)
    report = monthly_report("d", "m", [ResultFact(CallOutcome.REACHED, answer)], [], threshold)
    assert report["satisfaction_rate"] == (1.0 if overall >= threshold else 0.0)


def test_the_month_is_the_dealers_local_month():
    start, end = month_window("2026-12", SHANGHAI)
    assert start == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


@given(st.integers(2000, 2098), st.integers(1, 12))  # months are 2000-01…2099-12 (MONTH_PATTERN)
def test_consecutive_months_tile_time(year, number):
    month = f"{year:04d}-{number:02d}"
    following = f"{year + number // 12:04d}-{number % 12 + 1:02d}"
    start, end = month_window(month, SHANGHAI)
    assert month_window(following, SHANGHAI)[0] == end
    assert timedelta(days=28) <= end - start <= timedelta(days=31)
    assert start.astimezone(SHANGHAI).day == 1


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-11", "2026-00", "november"])
def test_bad_months_are_refused(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_window(bad, SHANGHAI)
