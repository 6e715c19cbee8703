"""Per-dealer scheduling policy: the seeds' defaults, overridable per OEM and per dealer.

A dealer's `settings.scheduler` object in the dealer directory overrides any field (nested
objects are merged); an OEM's defaults can be given to `PolicyBook` under `oems`. Validation
happens on load, and an error names the dealer and the field (DOMAIN: every number is
configuration, never code).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import time
from typing import Any

from aftersales_contracts.dms import Channel, WorkOrderType
from aftersales_contracts.events import ContactPurpose
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from aftersales_scheduler.domain.window import CallingHours


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanStep(_Config):
    """One step of a plan: "day N at calling-hours start" — due at the start of calling hours
    on the `days`-th calendar day after its start (settlement or delivery, in the dealer's
    zone; 0 = the same day), on `channel` unless the customer prefers another (D14);
    `timely_days`: the contact is timely until the end of that calendar day after the start
    (None = no timeliness window); `work_order_types` limits it to those types (None = all)."""

    step: str = Field(min_length=1, pattern=r"^[a-z0-9_]+$")
    purpose: ContactPurpose
    days: int = Field(ge=0, le=3660)
    timely_days: int | None = Field(default=None, ge=0, le=3660)
    channel: Channel
    work_order_types: frozenset[WorkOrderType] | None = None

    @model_validator(mode="after")
    def _window_after_due_day(self) -> PlanStep:
        if self.timely_days is not None and self.timely_days < self.days:
            raise ValueError(
                f"timely_days ({self.timely_days}) must not end before the due day ({self.days})"
            )
        return self

    def applies_to(self, work_order_type: WorkOrderType) -> bool:
        return self.work_order_types is None or work_order_type in self.work_order_types


def _default_after_service() -> tuple[PlanStep, ...]:
    # D6: the "3-day call" calls the customers settled two days before (二日前来店维修保养客户):
    # due on day 2 at calling-hours start, timely within three days of settlement
    # (结算后三日内). D7: SMS survey on day 7, call on day 30 (第7天短信、第30天电话).
    return (
        PlanStep(
            step="call_day3",
            purpose=ContactPurpose.SERVICE_CALL_DAY3,
            days=2,
            timely_days=3,
            channel=Channel.PHONE,
        ),
        PlanStep(
            step="sms_survey_day7",
            purpose=ContactPurpose.SMS_SURVEY_DAY7,
            days=7,
            channel=Channel.SMS,
        ),
        PlanStep(
            step="call_day30",
            purpose=ContactPurpose.SERVICE_CALL_DAY30,
            days=30,
            channel=Channel.PHONE,
        ),
    )


def _default_delivery() -> tuple[PlanStep, ...]:
    # D8: the sales call counts from the delivery event (the day the buyer's data reaches
    # customer relations), timely within 3 days (之日起三日内), planned like the service call
    # on day 2; the run-in / first-maintenance reminder on day 14, early in its 3 weeks
    # (phone unless the customer prefers SMS, D14).
    return (
        PlanStep(
            step="sales_call_day3",
            purpose=ContactPurpose.SALES_CALL_DAY3,
            days=2,
            timely_days=3,
            channel=Channel.PHONE,
        ),
        PlanStep(
            step="first_maintenance_reminder",
            purpose=ContactPurpose.FIRST_MAINTENANCE_REMINDER,
            days=14,
            timely_days=21,
            channel=Channel.PHONE,
        ),
    )


class CareLeadDays(_Config):
    """D10: how long before each care date the contact is due."""

    birthday: int = Field(1, ge=0, le=60)
    insurance_expiry: int = Field(30, ge=0, le=180)
    licence_expiry: int = Field(30, ge=0, le=180)


class SchedulerPolicy(_Config):
    after_service: tuple[PlanStep, ...] = Field(default_factory=_default_after_service)
    delivery: tuple[PlanStep, ...] = Field(default_factory=_default_delivery)
    calling_hours: CallingHours = Field(default_factory=CallingHours)  # D13
    max_contacts_per_7_days: int = Field(2, ge=1, le=50)  # D13
    merge_same_window: bool = True  # D13: contacts due in one window become one call
    max_attempts: int = Field(3, ge=1, le=10)  # D15
    retry_after_hours: int = Field(
        5,
        ge=1,
        le=72,
        description="D15: an unreached call is tried again this much later, "
        "and never at the same hour of the day as the previous attempt.",
    )
    retry_in_window_after_hours: int = Field(
        1,
        ge=1,
        le=72,
        description="D6/D15: when `retry_after_hours` would miss the contact's timeliness "
        "window, the retry comes as soon as this, still inside the window if it can.",
    )
    maintenance_reminder_lead_days: int = Field(7, ge=0, le=90)  # D9
    care_lead_days: CareLeadDays = Field(default_factory=CareLeadDays)  # D10
    lapsed_after_days: int = Field(180, ge=30, le=1095)  # D11
    reminder_time_of_day: time = time(10, 0)  # date-based reminders, before the window (D13)

    @field_validator("after_service", "delivery")
    @classmethod
    def _unique_steps(cls, steps: tuple[PlanStep, ...]) -> tuple[PlanStep, ...]:
        names = [s.step for s in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names must be unique, got {names}")
        return steps


class PolicyError(ValueError):
    """A dealer's scheduler configuration is invalid; the message names dealer and field."""


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors()
    )


class PolicyBook:
    """Every dealer's policy, validated once at load; unknown dealers get the defaults."""

    def __init__(self, policies: Mapping[str, SchedulerPolicy], default: SchedulerPolicy) -> None:
        self._policies = dict(policies)
        self.default = default

    def for_dealer(self, dealer_id: str) -> SchedulerPolicy:
        return self._policies.get(dealer_id, self.default)

    @classmethod
    def build(
        cls,
        dealers: Iterable[tuple[str, str | None, Mapping[str, Any]]],
        oems: Mapping[str, Mapping[str, Any]] | None = None,
        base: Mapping[str, Any] | None = None,
    ) -> PolicyBook:
        """`dealers`: (dealer_id, oem, overrides). Precedence: dealer > OEM > base > defaults."""
        oems = oems or {}
        base = dict(base or {})
        try:
            default = SchedulerPolicy.model_validate(base)
        except ValidationError as error:
            raise PolicyError(f"scheduler defaults are invalid: {_describe(error)}") from None
        policies: dict[str, SchedulerPolicy] = {}
        for dealer_id, oem, overrides in dealers:
            raw = _merge(_merge(base, oems.get(oem or "", {})), overrides)
            try:
                policies[dealer_id] = SchedulerPolicy.model_validate(raw)
            except ValidationError as error:
                raise PolicyError(
                    f"dealer {dealer_id}: settings.scheduler is invalid: {_describe(error)}"
                ) from None
        return cls(policies, default)
