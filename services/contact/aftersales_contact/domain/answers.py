"""What a valid answer to a contact is: outcome rules (D4, D15), the questionnaire's items
(D16, D17), issue categories and lapse reasons (D11, D15), the data check (D30).

Pure: no broker, no database. Every problem names the field it is about (`scores.quality`,
`yes_no.fixed_first_time`, `issues.0.code`), so the API answers 422 with that location.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from aftersales_contracts import CallOutcome, Coded, ContactPurpose, QuestionnaireRef
from aftersales_contracts.questionnaires import CodeList, Questionnaire

Problem = tuple[str, str]  # (field, why)


@dataclass(frozen=True)
class Answer:
    """The parts of a submitted answer the rules look at."""

    outcome: CallOutcome
    scores: Mapping[str, int] | None = None
    yes_no: Mapping[str, bool] | None = None
    questionnaire: QuestionnaireRef | None = None
    issues: Sequence[Coded] = ()
    lapse_reason: Coded | None = None
    has_data_check: bool = False
    callback_at: datetime | None = None
    opted_out_of: Sequence[ContactPurpose] | None = None


def chosen_questionnaire(
    offered: Sequence[Questionnaire], named: QuestionnaireRef | None
) -> tuple[Questionnaire | None, list[Problem]]:
    """The questionnaire the answer is for: the one named, else the task's only one."""
    if named is not None:
        for q in offered:
            if q.id == named.id and q.version == named.version:
                return q, []
        listed = ", ".join(f"{q.id} v{q.version}" for q in offered) or "none"
        return None, [
            (
                "questionnaire",
                f"questionnaire {named.id} v{named.version} is not one of this task's ({listed})",
            )
        ]
    if len(offered) > 1:
        listed = ", ".join(f"{q.id} v{q.version}" for q in offered)
        return None, [("questionnaire", f"name the questionnaire answered: one of {listed}")]
    return (offered[0] if offered else None), []


def _outcome_problems(answer: Answer, now: datetime) -> list[Problem]:
    problems: list[Problem] = []
    if answer.outcome is CallOutcome.CALL_BACK_LATER:
        # D15: "call back later (with a time)": the scheduler brings the task back then, moved
        # into calling hours (D13).
        if answer.callback_at is None:
            problems.append(
                ("callback_at", "callback_at is required when the outcome is 'call_back_later'")
            )
        elif answer.callback_at <= now:
            problems.append(("callback_at", "callback_at must be in the future"))
    elif answer.callback_at is not None:
        problems.append(
            ("callback_at", "callback_at is only allowed when the outcome is 'call_back_later'")
        )
    if answer.opted_out_of is not None:
        if answer.outcome is not CallOutcome.OPTED_OUT:
            problems.append(
                ("opted_out_of", "opted_out_of is only allowed when the outcome is 'opted_out'")
            )
        elif not answer.opted_out_of:
            problems.append(
                ("opted_out_of", "opted_out_of names at least one purpose, or is left out (D4)")
            )
    return problems


def _unreached_problems(answer: Answer) -> list[Problem]:
    """Only a reached customer answered anything."""
    given = {
        "scores": answer.scores is not None,
        "yes_no": answer.yes_no is not None,
        "questionnaire": answer.questionnaire is not None,
        "issues": bool(answer.issues),
        "lapse_reason": answer.lapse_reason is not None,
        "data_check": answer.has_data_check,
    }
    return [
        (name, f"{name} is only allowed when the outcome is 'reached'")
        for name, present in given.items()
        if present
    ]


def _reached_problems(
    answer: Answer,
    purposes: Sequence[ContactPurpose],
    offered: Sequence[Questionnaire],
    issue_categories: CodeList,
    lapse_reasons: CodeList,
) -> tuple[Questionnaire | None, list[Problem]]:
    questionnaire, problems = chosen_questionnaire(offered, answer.questionnaire)
    if questionnaire is not None:
        if answer.scores is None and answer.yes_no is None:
            problems.append(
                (
                    "scores",
                    "scores are required when the outcome is 'reached' and the contact is a "
                    f"questionnaire ({questionnaire.id}; D16, D17)",
                )
            )
        else:
            problems += questionnaire.answer_problems(answer.scores, answer.yes_no)
    elif not offered:
        for name, given in (("scores", answer.scores), ("yes_no", answer.yes_no)):
            if given is not None:
                problems.append((name, f"{name}: this contact's purposes have no questionnaire"))
    for n, issue in enumerate(answer.issues):
        found = issue_categories.problem(f"issues.{n}", issue)
        if found:
            problems.append(found)
    if answer.lapse_reason is not None:
        if ContactPurpose.LAPSED_CUSTOMER_RECALL not in purposes:
            problems.append(
                ("lapse_reason", "lapse_reason belongs to a lapsed-customer recall (D11)")
            )
        else:
            found = lapse_reasons.problem("lapse_reason", answer.lapse_reason)
            if found:
                problems.append(found)
    return questionnaire, problems


def answer_problems(
    answer: Answer,
    purposes: Sequence[ContactPurpose],
    offered: Sequence[Questionnaire],
    issue_categories: CodeList,
    lapse_reasons: CodeList,
    now: datetime,
) -> tuple[Questionnaire | None, list[Problem]]:
    """The questionnaire answered (None when none) and why the answer cannot be accepted."""
    problems = _outcome_problems(answer, now)
    if answer.outcome is not CallOutcome.REACHED:
        return None, problems + _unreached_problems(answer)
    questionnaire, more = _reached_problems(
        answer, purposes, offered, issue_categories, lapse_reasons
    )
    return questionnaire, problems + more
