"""Pure rules of a contact task (D3, D15, D16)."""

from datetime import UTC, datetime, timedelta

import pytest
from aftersales_contact.domain.tasks import (
    SCORED_PURPOSES,
    TaskState,
    lease_id_for,
    result_problems,
    task_id_for,
    task_state,
)
from aftersales_contracts import CallOutcome, ContactPurpose, Scores

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SCORES = Scores(attitude=9, quality=9, charges=9, timeliness=9, environment=9, overall=9)


def test_task_ids_are_deterministic_per_contact_and_attempt():
    assert task_id_for("c-1", 1) == task_id_for("c-1", 1)
    assert len({task_id_for("c-1", 1), task_id_for("c-1", 2), task_id_for("c-2", 1)}) == 3
    assert lease_id_for("t", 1) != lease_id_for("t", 2)


@pytest.mark.parametrize(
    ("done", "expires", "state"),
    [
        (False, None, TaskState.OPEN),
        (False, NOW + timedelta(seconds=1), TaskState.CLAIMED),
        (False, NOW, TaskState.OPEN),  # a lease ends at its expiry instant
        (True, NOW + timedelta(minutes=5), TaskState.DONE),
    ],
)
def test_task_state(done, expires, state):
    assert task_state(done, expires, NOW) is state


@pytest.mark.parametrize("purpose", sorted(SCORED_PURPOSES))
def test_a_reached_questionnaire_needs_scores(purpose):
    problems = result_problems(CallOutcome.REACHED, [purpose], None, None, NOW)
    assert len(problems) == 1
    assert "scores are required" in problems[0]
    assert result_problems(CallOutcome.REACHED, [purpose], SCORES, None, NOW) == []


def test_a_reached_reminder_needs_no_scores():
    assert (
        result_problems(CallOutcome.REACHED, [ContactPurpose.BIRTHDAY_CARE], None, None, NOW) == []
    )


@pytest.mark.parametrize("outcome", [o for o in CallOutcome if o is not CallOutcome.REACHED])
def test_scores_only_when_reached(outcome):
    callback = NOW + timedelta(hours=1) if outcome is CallOutcome.CALL_BACK_LATER else None
    problems = result_problems(outcome, [ContactPurpose.SERVICE_CALL_DAY3], SCORES, callback, NOW)
    assert problems == ["scores are only allowed when the outcome is 'reached'"]


def test_a_callback_time_only_with_call_back_later():
    later = NOW + timedelta(days=1)
    purposes = [ContactPurpose.SERVICE_CALL_DAY3]
    assert result_problems(CallOutcome.CALL_BACK_LATER, purposes, None, later, NOW) == []
    assert result_problems(CallOutcome.BUSY, purposes, None, later, NOW) == [
        "callback_at is only allowed when the outcome is 'call_back_later'"
    ]


def test_call_back_later_needs_the_customers_time_in_the_future():
    purposes = [ContactPurpose.SERVICE_CALL_DAY3]
    missing = result_problems(CallOutcome.CALL_BACK_LATER, purposes, None, None, NOW)
    past = result_problems(CallOutcome.CALL_BACK_LATER, purposes, None, NOW, NOW)
    assert missing == ["callback_at is required when the outcome is 'call_back_later' (D15)"]
    assert past == ["callback_at must be in the future"]


def test_an_opt_out_may_name_the_purposes_it_refuses():
    purposes = [ContactPurpose.SERVICE_CALL_DAY3]
    care = [ContactPurpose.BIRTHDAY_CARE]
    assert result_problems(CallOutcome.OPTED_OUT, purposes, None, None, NOW, care) == []
    assert result_problems(CallOutcome.OPTED_OUT, purposes, None, None, NOW, None) == []
    assert result_problems(CallOutcome.OPTED_OUT, purposes, None, None, NOW, []) == [
        "opted_out_of names at least one purpose, or is left out for all (D4)"
    ]
    assert result_problems(CallOutcome.REFUSED, purposes, None, None, NOW, care) == [
        "opted_out_of is only allowed when the outcome is 'opted_out'"
    ]
