"""Per person (D24 per advisor, technician and sales consultant; D27 the scorecard; D28's
follow-up report with each service advisor's item scores)."""

from __future__ import annotations

from aftersales_contracts import ComplaintGrade, Scores

from aftersales_reporting.reports.figures import Doc, at, count_from, histogram, rate
from aftersales_reporting.reports.satisfaction import Thresholds, satisfaction
from aftersales_reporting.settings import Band

ROLES = ("advisor", "technician", "consultant", "agent")


def _person(
    role: str, person: str, figures: Doc, staff: Doc | None, complaints: Doc | None, t: Thresholds
) -> Doc:
    sums, ns = figures.get("sum", {}), figures.get("n", {})
    entry: Doc = {
        "id": person,
        "name": at(staff, f"names.{role}.{person}", None),
        "made": figures.get("made", 0),
        "reached": figures.get("reached", 0),
        "satisfaction": satisfaction(histogram(figures.get("hist")), t),
        "item_averages": {
            item: round(sums[item] / ns[item], 2) for item in Scores.ITEMS if ns.get(item)
        },
        "timeliness_rate": rate(at(figures, "timely.yes"), at(figures, "timely.n")),
        "come_back_rate": rate(
            at(figures, "ftf.no"), at(figures, "ftf.no") + at(figures, "ftf.yes")
        ),
    }
    if role == "advisor":
        # D27: service advisors are assessed by the service manager on their below-8 tickets.
        grades = at(complaints, f"advisor.{person}.grade", {})
        entry["tickets_opened"] = at(complaints, f"advisor.{person}.opened")
        entry["tickets_by_grade"] = {g.value: grades.get(g.value, 0) for g in ComplaintGrade}
    return entry


def staff_report(staff: Doc | None, complaints: Doc | None, t: Thresholds) -> Doc:
    return {
        role: [
            _person(role, person, figures, staff, complaints, t)
            for person, figures in sorted(at(staff, role, {}).items())
        ]
        for role in ROLES
    }


def band_bonus(score: float | None, bands: list[Band]) -> int | None:
    """D27: the bonus of the highest band whose lower bound the score reaches."""
    if score is None:
        return None
    for band in sorted(bands, key=lambda b: b.min_score, reverse=True):
        if score >= band.min_score:
            return band.bonus
    return None


def scorecard(
    results: Doc | None,
    staff: Doc | None,
    complaints: Doc | None,
    consultant_bands: list[Band],
    manager_bands: list[Band],
    t: Thresholds,
) -> Doc:
    """D27: one follow-up score of the customer-relations department (the mean overall answer
    of the month on a 100-point scale), the bonus it gives its consultants (the agents who made
    the month's calls) and its manager, and every person's penalty points (D21)."""
    hist = histogram(at(results, "hist.overall", {}))
    answered = sum(hist.values())
    score = round(sum(s * n for s, n in hist.items()) * 10 / answered, 2) if answered else None
    penalties = at(complaints, "penalty", {})
    roles = at(complaints, "roles", {})
    consultant_bonus = band_bonus(score, consultant_bands)
    return {
        "department_score": score,
        "answers": answered,
        "very_satisfied_answers": count_from(hist, t.very_satisfied_min),
        "consultant_bonus": consultant_bonus,
        "manager_bonus": band_bonus(score, manager_bands),
        "consultants": [
            {
                "id": agent,
                "calls_made": figures.get("made", 0),
                "bonus": consultant_bonus,
                "penalty_points": at(penalties, f"{agent}.points"),
            }
            for agent, figures in sorted(at(staff, "agent", {}).items())
        ],
        "penalties": [
            {
                "person": person,
                "role": roles.get(person) or None,
                "points": p.get("points", 0),
                "late_tickets": p.get("tickets", 0),
            }
            for person, p in sorted(penalties.items())
        ],
    }
