"""The rules of a contact task: its id, its lease, its state, and what a valid result is.

Pure: no broker, no database. The store and the API apply these rules.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from aftersales_contracts import CallOutcome, ContactPurpose, Scores, deterministic_id

#: Purposes whose conversation is the CSI questionnaire (D6/D7, D16): a reached customer is
#: asked its items. The sales questionnaire (D17, SSI) has other items and is not scored
#: through this contract yet.
SCORED_PURPOSES: frozenset[ContactPurpose] = frozenset(
    {
        ContactPurpose.SERVICE_CALL_DAY3,
        ContactPurpose.SMS_SURVEY_DAY7,
        ContactPurpose.SERVICE_CALL_DAY30,
    }
)


#: D16: items a CSI answer must hold; "service_process" is accepted but not yet required, so
#: agents' tools written for the first six items keep working.
CSI_REQUIRED_ITEMS: tuple[str, ...] = tuple(i for i in Scores.ITEMS if i != "service_process")


def csi_item_problems(scores: Scores) -> list[str]:
    """Missing or unknown CSI items, each named (D16)."""
    given = dict(scores.items())
    missing = [f"scores.{i} is required (D16)" for i in CSI_REQUIRED_ITEMS if i not in given]
    unknown = [f"scores.{i} is not a CSI item" for i in given if i not in Scores.ITEMS]
    return missing + unknown


class TaskState(StrEnum):
    OPEN = "open"  # waiting for an agent (never claimed, or its lease ran out)
    CLAIMED = "claimed"  # an agent holds an unexpired lease
    DONE = "done"  # a result was recorded


def task_id_for(contact_id: str, attempt: int) -> str:
    """One task per (contact, attempt): a redelivered ContactDue finds its task already there."""
    return deterministic_id("task", contact_id, str(attempt))


def lease_id_for(task_id: str, lease_no: int) -> str:
    """Leases are numbered per task; inserting lease n is atomic, so only one agent gets it."""
    return f"lease/{task_id}/{lease_no}"


def result_event_id_for(task_id: str) -> str:
    return deterministic_id("contact.result", task_id)


def task_state(done: bool, lease_expires_at: datetime | None, now: datetime) -> TaskState:
    if done:
        return TaskState.DONE
    if lease_expires_at is not None and lease_expires_at > now:
        return TaskState.CLAIMED
    return TaskState.OPEN


def result_problems(
    outcome: CallOutcome,
    purposes: list[ContactPurpose],
    scores: Scores | None,
    callback_at: datetime | None,
    now: datetime,
    opted_out_of: list[ContactPurpose] | None = None,
) -> list[str]:
    """Why a submitted result cannot be accepted; empty when it can (D4, D15, D16)."""
    problems: list[str] = []
    if outcome is CallOutcome.REACHED:
        if scores is None and SCORED_PURPOSES.intersection(purposes):
            scored = sorted(p.value for p in SCORED_PURPOSES.intersection(purposes))
            problems.append(
                "scores are required when the outcome is 'reached' and the contact is a "
                f"questionnaire ({', '.join(scored)}; D16)"
            )
        if scores is not None:
            problems.extend(csi_item_problems(scores))
    elif scores is not None:
        problems.append("scores are only allowed when the outcome is 'reached'")
    if outcome is CallOutcome.CALL_BACK_LATER:
        # D15: "call back later (with a time)": the scheduler brings the task back then, moved
        # into calling hours (D13).
        if callback_at is None:
            problems.append("callback_at is required when the outcome is 'call_back_later' (D15)")
        elif callback_at <= now:
            problems.append("callback_at must be in the future")
    elif callback_at is not None:
        problems.append("callback_at is only allowed when the outcome is 'call_back_later'")
    if opted_out_of is not None:
        if outcome is not CallOutcome.OPTED_OUT:
            problems.append("opted_out_of is only allowed when the outcome is 'opted_out'")
        elif not opted_out_of:
            problems.append("opted_out_of names at least one purpose, or is left out for all (D4)")
    return problems
