"""Who holds a ticket, who it escalates to, and the penalty points of a late step (D19, D21)."""

from __future__ import annotations

from aftersales_contracts import ComplaintGrade, ComplaintStep
from pydantic import BaseModel, ConfigDict, Field, model_validator


def _default_levels() -> tuple[str, ...]:
    # D21 (default): advisor → supervisor → service manager → GM.
    return ("service_advisor", "service_supervisor", "service_manager", "gm")


def _default_start() -> dict[ComplaintGrade, str]:
    # D19: D the advisor, C the service supervisor, B the service manager, A the GM (with the
    # service manager: see `joint_feedback`).
    return {
        ComplaintGrade.D: "service_advisor",
        ComplaintGrade.C: "service_supervisor",
        ComplaintGrade.B: "service_manager",
        ComplaintGrade.A: "gm",
    }


def _default_points() -> dict[str, int]:
    # D21: advisor 10, supervisor 20, service manager and customer-relations manager 25 each.
    return {
        "service_advisor": 10,
        "service_supervisor": 20,
        "service_manager": 25,
        "cr_manager": 25,
    }


def _default_joint() -> dict[ComplaintGrade, tuple[str, ...]]:
    # D20: for A and B the service manager and the customer-relations manager give the feedback
    # together, after discussing it, before the reply.
    both = ("service_manager", "cr_manager")
    return {ComplaintGrade.A: both, ComplaintGrade.B: both}


class Ladder(BaseModel):
    """The escalation ladder and its penalties; configuration, overridable per dealer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: tuple[str, ...] = Field(default_factory=_default_levels, min_length=1)
    start: dict[ComplaintGrade, str] = Field(default_factory=_default_start)
    points: dict[str, int] = Field(default_factory=_default_points)
    joint_feedback: dict[ComplaintGrade, tuple[str, ...]] = Field(default_factory=_default_joint)
    escalate_on_breach: bool = True  # D21 (default): an overdue step escalates one level
    # The person who holds a role at the dealer (staff id), for penalties and notices. The
    # advisor is the ticket's own (D18: linked to the advisor); others fall back to the role.
    people: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Ladder:
        missing = sorted(g.value for g in ComplaintGrade if g not in self.start)
        if missing:
            raise ValueError(f"start needs a role for every grade; missing {missing}")
        off = sorted(r for r in self.start.values() if r not in self.levels)
        if off:
            raise ValueError(f"start roles must be on the ladder's levels; not there: {off}")
        if any(p < 0 for p in self.points.values()):
            raise ValueError("points may not be negative")
        return self

    def level_of(self, role: str) -> int:
        return self.levels.index(role) if role in self.levels else len(self.levels) - 1

    def above(self, role: str) -> str | None:
        """One level up, or None at the top."""
        level = self.level_of(role)
        return self.levels[level + 1] if level + 1 < len(self.levels) else None

    def feedback_roles(self, grade: ComplaintGrade, owner: str) -> tuple[str, ...]:
        """Who must give the step's feedback: the grade's pair (A/B), else the holder."""
        return self.joint_feedback.get(grade, (owner,))

    def late(
        self, step: ComplaintStep, grade: ComplaintGrade, owner: str, escalations: int
    ) -> tuple[str, ...]:
        """D21: the roles a late step is counted against (the people it was with)."""
        if step is ComplaintStep.FEEDBACK and escalations == 0:
            return self.feedback_roles(grade, owner)
        return (owner,)

    def person(self, role: str, advisor_id: str | None, dealer_id: str) -> str:
        if role == "service_advisor" and advisor_id:
            return advisor_id
        return self.people.get(role) or f"{dealer_id}/{role}"
