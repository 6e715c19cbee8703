"""D23: the follow-up report of a period (月报/周报)."""

from __future__ import annotations

from aftersales_contracts import ComplaintGrade, ComplaintSource

from aftersales_reporting.reports.figures import (
    DECLINED_OUTCOMES,
    UNREACHED_OUTCOMES,
    Doc,
    at,
    counts,
    rate,
)


def followup_report(results: Doc | None, due: Doc | None, expired: Doc | None) -> Doc:
    """Planned (first attempts due in the period), made (every attempt, D15), reached,
    unreached by reason, expired (not made in time), timeliness of the reached follow-ups that
    had a window, and the customers' issues by category."""
    outcome = counts(at(results, "outcome", {}))
    return {
        "planned": at(due, "planned"),
        "made": at(results, "made"),
        "reached": outcome.get("reached", 0),
        "unreached": sum(outcome.get(o, 0) for o in UNREACHED_OUTCOMES),
        "unreached_by_reason": {o: outcome.get(o, 0) for o in UNREACHED_OUTCOMES},
        "declined": sum(outcome.get(o, 0) for o in DECLINED_OUTCOMES),
        "declined_by_reason": {o: outcome.get(o, 0) for o in DECLINED_OUTCOMES},
        "expired": at(expired, "expired"),
        "timeliness_rate": rate(at(results, "timely.yes"), at(results, "timely.n")),
        "issues_by_category": counts(at(results, "issues", {})),
    }


def complaints_report(complaints: Doc | None) -> Doc:
    """Tickets opened in the period by grade, closed and reopened in it, still open of those
    opened in it, and D23's timely-handling completion rate: of the period's tickets closed so
    far, those whose every step met its deadline."""
    grades = counts(at(complaints, "grade", {}))
    sources = counts(at(complaints, "source", {}))
    opened = at(complaints, "opened")
    closed_of_opened = at(complaints, "closed_of_opened")
    return {
        "opened": opened,
        "opened_by_grade": {g.value: grades.get(g.value, 0) for g in ComplaintGrade},
        # D29: by channel (tickets counted before channels were kept are in none)
        "opened_by_source": {s.value: sources.get(s.value, 0) for s in ComplaintSource},
        "closed": at(complaints, "closed"),
        "reopened": at(complaints, "reopened"),
        "still_open": opened - closed_of_opened,
        "breached_tickets": at(complaints, "breached_of_opened"),
        "escalations": at(complaints, "escalated"),
        "timely_handling_rate": rate(at(complaints, "timely_of_opened"), closed_of_opened),
        "root_causes": counts(at(complaints, "root_cause", {})),
    }
