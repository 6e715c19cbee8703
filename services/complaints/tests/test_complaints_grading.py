"""The first grading rule (D18, D19) and the reply deadline (D20), as configuration."""

from datetime import UTC, datetime

import pytest
from aftersales_complaints.domain.deadlines import working_calendar
from aftersales_complaints.domain.grading import GradingRules, OverallBand, grade_result
from aftersales_complaints.domain.ladder import Ladder
from aftersales_contracts import ComplaintGrade, Scores
from hypothesis import given
from hypothesis import strategies as st

RULES = GradingRules()
SEVERITY = "ABCD"


def scores(**given_items: int) -> Scores:
    return Scores(**{item: given_items.get(item, 9) for item in Scores.ITEMS})


def test_all_scores_eight_or_more_and_no_complaint_open_nothing():
    assert grade_result(scores(overall=8, quality=8), False, RULES) is None
    assert grade_result(None, False, RULES) is None


@pytest.mark.parametrize(
    ("overall", "grade", "role"),
    [
        (0, "B", "service_manager"),
        (4, "B", "service_manager"),
        (5, "C", "service_supervisor"),
        (6, "C", "service_supervisor"),
        (7, "D", "service_advisor"),
    ],
)
def test_overall_bands(overall, grade, role):
    verdict = grade_result(scores(overall=overall, quality=min(overall + 3, 10)), False, RULES)
    assert verdict is not None
    assert verdict.grade == grade
    assert Ladder().start[verdict.grade] == role  # D19: the grade's owner
    assert "overall" in verdict.low_items


def test_any_item_at_two_or_below_is_at_least_b():
    verdict = grade_result(scores(overall=7, charges=2), False, RULES)
    assert verdict is not None
    assert verdict.grade is ComplaintGrade.B
    assert verdict.low_items == ["charges", "overall"]


def test_a_low_item_with_a_good_overall_is_d():
    verdict = grade_result(scores(timeliness=6), False, RULES)
    assert verdict is not None
    assert verdict.grade is ComplaintGrade.D
    assert verdict.low_items == ["timeliness"]


def test_a_stated_complaint_without_scores_is_c():
    verdict = grade_result(None, True, RULES)
    assert verdict is not None
    assert verdict.grade is ComplaintGrade.C
    assert verdict.low_items == []


def test_the_rule_is_configuration():
    strict = RULES.overridden({"overall_bands": [{"max_overall": 7, "grade": "B"}]})
    verdict = grade_result(scores(overall=7), False, strict)
    assert verdict is not None
    assert verdict.grade is ComplaintGrade.B
    with pytest.raises(ValueError, match="empty word"):
        GradingRules(crisis_words=("律师", " "))


def _expected_grade(s: Scores, stated: bool) -> str | None:
    """The issue's rule written out independently, for the property below."""
    low = [i for i in Scores.ITEMS if s[i] < 8]
    if not low and not stated:
        return None
    grades = ["C"] if stated else []
    if low:
        grades.append("B" if s["overall"] <= 4 else "C" if s["overall"] <= 6 else "D")
        if min(s[i] for i in Scores.ITEMS) <= 2:
            grades.append("B")
    return min(grades, key=SEVERITY.index)


@given(
    st.fixed_dictionaries({item: st.integers(0, 10) for item in Scores.ITEMS}).map(Scores),
    st.booleans(),
)
def test_grade_matches_the_rule_for_every_answer(answer, stated):
    verdict = grade_result(answer, stated, RULES)
    expected = _expected_grade(answer, stated)
    assert (verdict.grade.value if verdict else None) == expected
    if verdict:
        assert verdict.low_items == [i for i, score in answer.items() if score < 8]
        assert verdict.rule


def test_overall_bands_pick_the_tightest_matching_band():
    rules = GradingRules(
        overall_bands=(
            OverallBand(max_overall=7, grade=ComplaintGrade.D),
            OverallBand(max_overall=3, grade=ComplaintGrade.A),
        )
    )
    verdict = grade_result(scores(overall=3), False, rules)
    assert verdict is not None
    assert verdict.grade is ComplaintGrade.A


def test_reply_is_due_one_working_day_later_skipping_sunday():
    # Saturday 2026-11-28 10:00 Shanghai → Monday 10:00 (Sunday is a rest day by default).
    saturday = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert working_calendar("Asia/Shanghai").add_working_days(saturday, 1) == datetime(
        2026, 11, 30, 2, 0, tzinfo=UTC
    )
    monday = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert working_calendar("Asia/Shanghai").add_working_days(monday, 1) == datetime(
        2026, 11, 24, 2, 0, tzinfo=UTC
    )


def test_not_fixed_first_time_opens_a_ticket_like_a_low_score_and_names_its_rule():
    # D16/D18: every score fine, but the fault came back: a ticket, graded by configuration.
    verdict = grade_result(scores(), False, RULES, None, {"fixed_first_time": False})
    assert verdict is not None
    assert (verdict.grade, verdict.rule, verdict.low_items) == ("C", "no:fixed_first_time", [])
    assert grade_result(scores(), False, RULES, None, {"fixed_first_time": True}) is None
    assert grade_result(scores(), False, RULES, None, {"explained_work": False}) is None
    # A lower score that grades more severely wins; the rule that fired is the score's.
    both = grade_result(scores(overall=3), False, RULES, None, {"fixed_first_time": False})
    assert both is not None
    assert (both.grade, both.rule) == ("B", "overall<=4")
    milder = GradingRules(no_answer_grades={"fixed_first_time": ComplaintGrade.D})
    configured = grade_result(None, False, milder, None, {"fixed_first_time": False})
    assert configured is not None
    assert configured.grade == "D"


def test_no_answer_grades_are_validated():
    with pytest.raises(ValueError, match="no_answer_grades"):
        GradingRules.model_validate({"no_answer_grades": {"fixed_first_time": "E"}})
