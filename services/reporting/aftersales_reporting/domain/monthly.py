"""The monthly follow-up report's arithmetic (D23, D24). Pure: facts in, figures out.

Definitions (every contact result is one contact made, i.e. one attempt, D15):
- `reached`: outcome `reached`;
- `unreached`: nobody could be asked: `no_answer`, `busy`, `call_back_later`, `wrong_number`;
- `declined`: someone answered but would not take part: `refused`, `opted_out`;
  so `contacts_made = reached + unreached + declined`;
- `average_scores`: per item, the mean over reached results that carry scores, rounded to two
  decimals; null when there is none (no answer is not a score of 0);
- `satisfaction_rate` (D24): the share of those results whose overall score is at least the
  threshold (default 8: 9–10 very satisfied, 8 satisfied), rounded to four decimals; null
  without scores;
- `complaints_opened`: tickets opened in the month, by grade, and their total.
The month is the dealer's local calendar month of `contacted_at` / `opened_at`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aftersales_contracts import CallOutcome, ComplaintGrade, Scores
from aftersales_contracts.primitives import MONTH_PATTERN

UNREACHED: frozenset[CallOutcome] = frozenset(
    {
        CallOutcome.NO_ANSWER,
        CallOutcome.BUSY,
        CallOutcome.CALL_BACK_LATER,
        CallOutcome.WRONG_NUMBER,
    }
)
DECLINED: frozenset[CallOutcome] = frozenset({CallOutcome.REFUSED, CallOutcome.OPTED_OUT})

_MONTH = re.compile(MONTH_PATTERN)


@dataclass(frozen=True)
class ResultFact:
    outcome: CallOutcome
    scores: Scores | None


def month_window(month: str, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of a local calendar month `YYYY-MM` in `zone`."""
    if not _MONTH.match(month):
        raise ValueError(f"month must be YYYY-MM, got {month!r}")
    year, number = int(month[:4]), int(month[5:])
    following = (year + 1, 1) if number == 12 else (year, number + 1)
    start = datetime(year, number, 1, tzinfo=zone)
    end = datetime(*following, 1, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def monthly_report(
    dealer_id: str,
    month: str,
    results: Iterable[ResultFact],
    complaint_grades: Iterable[ComplaintGrade],
    satisfied_min_score: int = 8,
) -> dict[str, Any]:
    facts = list(results)
    scored = [f.scores for f in facts if f.outcome is CallOutcome.REACHED and f.scores is not None]
    complaints = {grade.value: 0 for grade in ComplaintGrade}
    for grade in complaint_grades:
        complaints[grade.value] += 1
    satisfied = sum(1 for s in scored if s["overall"] >= satisfied_min_score)
    return {
        "dealer_id": dealer_id,
        "month": month,
        "contacts_made": len(facts),
        "reached": sum(1 for f in facts if f.outcome is CallOutcome.REACHED),
        "unreached": sum(1 for f in facts if f.outcome in UNREACHED),
        "declined": sum(1 for f in facts if f.outcome in DECLINED),
        "average_scores": {
            item: _mean([s[item] for s in scored if item in s.root]) for item in Scores.ITEMS
        },
        "scored_answers": len(scored),
        "satisfaction_rate": round(satisfied / len(scored), 4) if scored else None,
        "complaints_opened": {**complaints, "total": sum(complaints.values())},
    }
