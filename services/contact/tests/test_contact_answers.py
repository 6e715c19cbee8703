"""Pure rules of an answer (D4, D11, D15, D16, D17): outcomes, questionnaire items, codes."""

from datetime import UTC, datetime, timedelta

import pytest
from aftersales_contact.domain.answers import Answer, answer_problems
from aftersales_contracts import CallOutcome, Coded, ContactPurpose, QuestionnaireRef
from aftersales_contracts.questionnaires import CSI_ID, SSI_ID, default_catalogue

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CATALOGUE = default_catalogue()
CSI_SCORES = dict.fromkeys(
    ("attitude", "environment", "service_process", "quality", "charges", "timeliness", "overall"),
    9,
)
CSI_YES_NO = {"fixed_first_time": True}
DAY3 = [ContactPurpose.SERVICE_CALL_DAY3]
SCORED = [
    ContactPurpose.SERVICE_CALL_DAY3,
    ContactPurpose.SMS_SURVEY_DAY7,
    ContactPurpose.SERVICE_CALL_DAY30,
    ContactPurpose.SALES_CALL_DAY3,
]


def problems(answer: Answer, purposes=DAY3, dealer="dealer-sz-001"):
    offered = CATALOGUE.for_purposes(purposes, dealer)
    questionnaire, found = answer_problems(
        answer, purposes, offered, CATALOGUE.issue_categories, CATALOGUE.lapse_reasons, NOW
    )
    return questionnaire, found


def fields(found):
    return [field for field, _ in found]


def reached(**parts) -> Answer:
    return Answer(outcome=CallOutcome.REACHED, **parts)


@pytest.mark.parametrize("purpose", SCORED)
def test_a_reached_questionnaire_needs_its_answers(purpose):
    questionnaire, found = problems(reached(), [purpose])
    assert questionnaire is not None
    assert fields(found) == ["scores"]
    assert "scores are required" in found[0][1]


def test_the_full_csi_answer_is_accepted_and_names_its_questionnaire():
    questionnaire, found = problems(reached(scores=CSI_SCORES, yes_no=CSI_YES_NO))
    assert found == []
    assert questionnaire is not None
    assert questionnaire.ref == QuestionnaireRef(id=CSI_ID, version=1)


def test_missing_and_foreign_items_are_named_one_by_one():
    scores = {k: v for k, v in CSI_SCORES.items() if k != "service_process"} | {"viewing": 9}
    _, found = problems(reached(scores=scores, yes_no={"test_drive_invited": True}))
    assert sorted(fields(found)) == [
        "scores.service_process",
        "scores.viewing",
        "yes_no.fixed_first_time",
        "yes_no.test_drive_invited",
    ]


def test_the_sales_call_asks_the_ssi_and_refuses_csi_items():
    questionnaire, found = problems(
        reached(scores=CSI_SCORES, yes_no=CSI_YES_NO), [ContactPurpose.SALES_CALL_DAY3]
    )
    assert questionnaire is not None
    assert questionnaire.id == SSI_ID
    assert "scores.service_process" in fields(found)
    assert "scores.viewing" in fields(found)


def test_a_questionnaire_named_must_be_the_tasks():
    named = QuestionnaireRef(id=SSI_ID, version=1)
    _, found = problems(reached(scores=CSI_SCORES, yes_no=CSI_YES_NO, questionnaire=named))
    assert fields(found) == ["questionnaire"]


def test_a_reached_reminder_needs_no_answers_and_takes_no_scores():
    questionnaire, found = problems(reached(), [ContactPurpose.BIRTHDAY_CARE])
    assert (questionnaire, found) == (None, [])
    _, found = problems(reached(scores=CSI_SCORES), [ContactPurpose.BIRTHDAY_CARE])
    assert fields(found) == ["scores"]


@pytest.mark.parametrize("outcome", [o for o in CallOutcome if o is not CallOutcome.REACHED])
def test_answers_only_when_reached(outcome):
    callback = NOW + timedelta(hours=1) if outcome is CallOutcome.CALL_BACK_LATER else None
    answer = Answer(
        outcome=outcome,
        scores=CSI_SCORES,
        yes_no=CSI_YES_NO,
        issues=[Coded(code="price")],
        has_data_check=True,
        callback_at=callback,
    )
    _, found = problems(answer)
    assert fields(found) == ["scores", "yes_no", "issues", "data_check"]


def test_issues_are_categories_of_the_configured_list_and_other_has_words():
    issues = [Coded(code="waiting_time"), Coded(code="noise"), Coded(code="other")]
    _, found = problems(reached(scores=CSI_SCORES, yes_no=CSI_YES_NO, issues=issues))
    assert fields(found) == ["issues.1.code", "issues.2.text"]
    fine = [Coded(code="price"), Coded(code="other", text="洗车没洗干净")]
    assert problems(reached(scores=CSI_SCORES, yes_no=CSI_YES_NO, issues=fine))[1] == []


def test_a_lapse_reason_belongs_to_a_recall_and_is_one_of_d11():
    recall = [ContactPurpose.LAPSED_CUSTOMER_RECALL]
    assert problems(reached(lapse_reason=Coded(code="other_workshop")), recall)[1] == []
    _, found = problems(reached(lapse_reason=Coded(code="too_far")), recall)
    assert fields(found) == ["lapse_reason.code"]
    _, found = problems(
        reached(scores=CSI_SCORES, yes_no=CSI_YES_NO, lapse_reason=Coded(code="natural_churn"))
    )
    assert fields(found) == ["lapse_reason"]


def test_a_callback_time_only_with_call_back_later():
    later = NOW + timedelta(days=1)
    assert problems(Answer(outcome=CallOutcome.CALL_BACK_LATER, callback_at=later))[1] == []
    _, found = problems(Answer(outcome=CallOutcome.BUSY, callback_at=later))
    assert found == [
        ("callback_at", "callback_at is only allowed when the outcome is 'call_back_later'")
    ]


def test_call_back_later_needs_the_customers_time_in_the_future():
    _, missing = problems(Answer(outcome=CallOutcome.CALL_BACK_LATER))
    _, past = problems(Answer(outcome=CallOutcome.CALL_BACK_LATER, callback_at=NOW))
    assert fields(missing) == ["callback_at"]
    assert "required" in missing[0][1]
    assert past == [("callback_at", "callback_at must be in the future")]


def test_an_opt_out_may_name_the_purposes_it_refuses():
    care = [ContactPurpose.BIRTHDAY_CARE]
    assert problems(Answer(outcome=CallOutcome.OPTED_OUT, opted_out_of=care))[1] == []
    assert problems(Answer(outcome=CallOutcome.OPTED_OUT))[1] == []
    assert fields(problems(Answer(outcome=CallOutcome.OPTED_OUT, opted_out_of=[]))[1]) == [
        "opted_out_of"
    ]
    assert fields(problems(Answer(outcome=CallOutcome.REFUSED, opted_out_of=care))[1]) == [
        "opted_out_of"
    ]
