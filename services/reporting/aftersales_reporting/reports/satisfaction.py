"""D24 satisfaction rate (with the previous periods) and D25 strength and weakness items."""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_contracts import Scores

from aftersales_reporting.reports.figures import Doc, at, count_from, histogram, mean_of, rate


@dataclass(frozen=True)
class Thresholds:
    """D24/D25, configurable (settings): the 0-10 bands and the item rules."""

    satisfied_min: int = 8
    very_satisfied_min: int = 9
    very_dissatisfied_below: int = 6
    dissatisfied_below: int = 8
    strength_min_very_satisfied: float = 0.8
    weakness_max_very_satisfied: float = 0.5
    weakness_min_dissatisfied: float = 0.1
    weakness_drop: float = 0.1


def bands(hist: dict[int, int], t: Thresholds) -> Doc:
    """D24: 9-10 very satisfied, 8 satisfied, 6-7 dissatisfied, 0-5 very dissatisfied."""
    return {
        "very_satisfied": count_from(hist, t.very_satisfied_min),
        "satisfied": count_from(hist, t.satisfied_min, t.very_satisfied_min - 1),
        "dissatisfied": count_from(hist, t.very_dissatisfied_below, t.satisfied_min - 1),
        "very_dissatisfied": count_from(hist, 0, t.very_dissatisfied_below - 1),
    }


def satisfaction(hist: dict[int, int], t: Thresholds) -> Doc:
    """The share of overall answers satisfied or very satisfied, with the bands and the mean."""
    answered = sum(hist.values())
    return {
        **rate(count_from(hist, t.satisfied_min), answered),
        "bands": bands(hist, t),
        "average": mean_of(hist),
    }


def satisfaction_report(
    month: str, results: Doc | None, previous: dict[str, Doc | None], t: Thresholds
) -> Doc:
    """The month's overall satisfaction and each previous month's rate (the trend, D24)."""
    return {
        **satisfaction(histogram(at(results, "hist.overall", {})), t),
        "trend": [{"month": m, **rate(*_satisfied(doc, t))} for m, doc in previous.items()],
    }


def _satisfied(doc: Doc | None, t: Thresholds) -> tuple[int, int]:
    hist = histogram(at(doc, "hist.overall", {}))
    return count_from(hist, t.satisfied_min), sum(hist.values())


def _very_share(hist: dict[int, int], t: Thresholds) -> float | None:
    answered = sum(hist.values())
    return count_from(hist, t.very_satisfied_min) / answered if answered else None


def items_report(results: Doc | None, previous: Doc | None, t: Thresholds) -> Doc:
    """D25: every scored item with its numbers, and which are strengths and weaknesses.

    Strength: answered, no answer below `dissatisfied_below`, and a very-satisfied share of at
    least `strength_min_very_satisfied`. Weakness: a very-satisfied share below
    `weakness_max_very_satisfied` with a dissatisfied share above `weakness_min_dissatisfied`,
    or a very-satisfied share at least `weakness_drop` lower than the previous month's.
    """
    stored = at(results, "hist", {})
    names = list(Scores.ITEMS) + sorted(set(stored) - set(Scores.ITEMS))
    items: list[Doc] = []
    for item in names:
        hist = histogram(stored.get(item))
        answered = sum(hist.values())
        very = count_from(hist, t.very_satisfied_min)
        low = count_from(hist, 0, t.dissatisfied_below - 1)
        share = _very_share(hist, t)
        before = _very_share(histogram(at(previous, f"hist.{item}", {})), t)
        drop = round(before - share, 4) if share is not None and before is not None else None
        reasons: list[str] = []
        if answered and low == 0 and share is not None and share >= t.strength_min_very_satisfied:
            kind = "strength"
        else:
            kind = None
            if (
                share is not None
                and share < t.weakness_max_very_satisfied
                and low / answered > t.weakness_min_dissatisfied
            ):
                reasons.append("low_very_satisfied_and_high_dissatisfied")
            if drop is not None and drop >= t.weakness_drop:
                reasons.append("very_satisfied_dropped")
            if reasons:
                kind = "weakness"
        items.append(
            {
                "item": item,
                "answered": answered,
                "average": mean_of(hist),
                "very_satisfied": rate(very, answered),
                "dissatisfied": rate(low, answered),
                "previous_very_satisfied_share": round(before, 4) if before is not None else None,
                "very_satisfied_drop": drop,
                "kind": kind,
                "reasons": reasons,
            }
        )
    return {
        "items": items,
        "strengths": [i["item"] for i in items if i["kind"] == "strength"],
        "weaknesses": [i["item"] for i in items if i["kind"] == "weakness"],
    }
