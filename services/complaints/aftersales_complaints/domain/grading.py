"""Whether a contact result opens a recovery ticket, its grade and who leads it (D18, D19).

The rule is configuration (D19: "the grading rules are configuration"): `GradingRules` holds
every number, with the defaults of issue 3, and a dealer may override any of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftersales_contracts import ComplaintGrade, Scores
from pydantic import BaseModel, ConfigDict, Field, model_validator


class OverallBand(BaseModel):
    """An overall score at or below `max_overall` gives `grade` (the lowest matching band wins)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_overall: int = Field(ge=0, le=10)
    grade: ComplaintGrade


def _default_roles() -> dict[ComplaintGrade, str]:
    # D19: A crisis → GM; B complaint → service manager; C → service supervisor; D → advisor.
    return {
        ComplaintGrade.A: "general_manager",
        ComplaintGrade.B: "service_manager",
        ComplaintGrade.C: "service_supervisor",
        ComplaintGrade.D: "service_advisor",
    }


class GradingRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    low_score_below: int = Field(8, ge=1, le=11)  # D18: any score below 8 opens a ticket
    overall_bands: tuple[OverallBand, ...] = (
        OverallBand(max_overall=4, grade=ComplaintGrade.B),
        OverallBand(max_overall=6, grade=ComplaintGrade.C),
        OverallBand(max_overall=7, grade=ComplaintGrade.D),
    )
    item_floor_max: int = Field(2, ge=0, le=10)  # any item at or below this …
    item_floor_grade: ComplaintGrade = ComplaintGrade.B  # … gives at least this grade
    stated_complaint_grade: ComplaintGrade = ComplaintGrade.C  # the customer said "complaint"
    default_grade: ComplaintGrade = ComplaintGrade.D  # a low item while overall is in no band
    roles: dict[ComplaintGrade, str] = Field(default_factory=_default_roles)

    @model_validator(mode="after")
    def _every_grade_has_a_role(self) -> GradingRules:
        missing = sorted(g.value for g in ComplaintGrade if g not in self.roles)
        if missing:
            raise ValueError(f"roles needs a role for every grade; missing {missing}")
        return self

    def overridden(self, overrides: dict[str, object]) -> GradingRules:
        """These rules with a dealer's overrides applied (DOMAIN: every number overridable)."""
        if not overrides:
            return self
        return GradingRules.model_validate({**self.model_dump(), **overrides})


@dataclass(frozen=True)
class Verdict:
    grade: ComplaintGrade
    low_items: list[str]
    assigned_role: str


def _most_severe(grades: list[ComplaintGrade]) -> ComplaintGrade:
    return min(grades)  # A is the most severe and sorts first


def grade_result(
    scores: Scores | None, complaint_stated: bool, rules: GradingRules
) -> Verdict | None:
    """None when the answer opens no ticket; else the most severe grade any rule gives."""
    low_items = scores.low_items(rules.low_score_below) if scores is not None else []
    if not low_items and not complaint_stated:
        return None
    grades: list[ComplaintGrade] = []
    if complaint_stated:
        grades.append(rules.stated_complaint_grade)
    if scores is not None and low_items:
        bands = [b for b in rules.overall_bands if scores.overall <= b.max_overall]
        if bands:
            grades.append(min(bands, key=lambda b: b.max_overall).grade)
        else:
            grades.append(rules.default_grade)
        if any(getattr(scores, item) <= rules.item_floor_max for item in Scores.ITEMS):
            grades.append(rules.item_floor_grade)
    grade = _most_severe(grades)
    return Verdict(grade=grade, low_items=low_items, assigned_role=rules.roles[grade])
