"""Whether a contact result opens a recovery ticket, and its grade (D18, D19).

The rule is configuration (D19: "the grading rules are configuration"): `GradingRules` holds
every number and word, validated when loaded, and a dealer (or its OEM, through the dealer
directory) may override any of them. Every verdict names the rule that fired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aftersales_contracts import FIXED_FIRST_TIME, ComplaintGrade, ComplaintSource, Scores
from pydantic import BaseModel, ConfigDict, Field, model_validator


class OverallBand(BaseModel):
    """An overall score at or below `max_overall` gives `grade` (the lowest matching band wins)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_overall: int = Field(ge=0, le=10)
    grade: ComplaintGrade


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
    # D19 examples: safety, media, legal threat → crisis. Matched in the customer's own words.
    crisis_words: tuple[str, ...] = (
        "安全",
        "媒体",
        "投诉到",
        "律师",
        "315",
        "记者",
        "曝光",
        "起诉",
    )
    crisis_grade: ComplaintGrade = ComplaintGrade.A
    # D16/D18: a "no" to one of these yes/no items opens a ticket like a low score, with this
    # grade: "not fixed right the first time" (一次修复) means the car comes back (D26).
    no_answer_grades: dict[str, ComplaintGrade] = Field(
        default_factory=lambda: {FIXED_FIRST_TIME: ComplaintGrade.C}
    )
    # D29: a complaint from this source is at least this grade (the car maker's transfer is a
    # formal complaint, 投诉: B by default).
    source_grades: dict[ComplaintSource, ComplaintGrade] = Field(
        default_factory=lambda: {ComplaintSource.OEM: ComplaintGrade.B}
    )
    # D18: a second unhappy result for the same vehicle within this many days raises the grade.
    repeat_within_days: int = Field(30, ge=0, le=366)

    @model_validator(mode="after")
    def _words_are_words(self) -> GradingRules:
        if any(not word.strip() for word in self.crisis_words):
            raise ValueError("crisis_words may not hold an empty word")
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
    rule: str  # which rule gave the grade, e.g. "crisis_word:律师", "overall<=4"


def raised(grade: ComplaintGrade) -> ComplaintGrade:
    """D18: one step more severe (D → C → B → A); A stays A."""
    order = list(ComplaintGrade)
    return order[max(order.index(grade) - 1, 0)]


def grade_result(
    scores: Scores | None,
    complaint_stated: bool,
    rules: GradingRules,
    comment: str | None = None,
    yes_no: Mapping[str, bool] | None = None,
    source: ComplaintSource | None = None,
) -> Verdict | None:
    """None when the answer opens no ticket; else the most severe grade any rule gives."""
    low_items = scores.low_items(rules.low_score_below) if scores is not None else []
    words = [w for w in rules.crisis_words if comment and w in comment]
    noes = [item for item in rules.no_answer_grades if yes_no and yes_no.get(item) is False]
    if not low_items and not complaint_stated and not words and not noes:
        return None
    fired: list[tuple[ComplaintGrade, str]] = []
    if words:
        fired.append((rules.crisis_grade, f"crisis_word:{words[0]}"))
    # D18: "not fixed right the first time" opens a ticket as a low score does.
    fired += [(rules.no_answer_grades[item], f"no:{item}") for item in noes]
    if source is not None and source in rules.source_grades:
        fired.append((rules.source_grades[source], f"source:{source.value}"))
    if complaint_stated:
        fired.append((rules.stated_complaint_grade, "stated_complaint"))
    if scores is not None and low_items:
        bands = [b for b in rules.overall_bands if scores["overall"] <= b.max_overall]
        if bands:
            band = min(bands, key=lambda b: b.max_overall)
            fired.append((band.grade, f"overall<={band.max_overall}"))
        else:
            fired.append((rules.default_grade, "low_item"))
        if any(score <= rules.item_floor_max for _, score in scores.items()):
            fired.append((rules.item_floor_grade, f"item<={rules.item_floor_max}"))
    # A is the most severe and sorts first; among equals the first rule listed above wins.
    grade, rule = min(fired, key=lambda f: f[0])
    return Verdict(grade=grade, low_items=low_items, rule=rule)
