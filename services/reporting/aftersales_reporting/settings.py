"""Settings of the reporting service (env prefix REPORTING_; shared names in ServiceSettings)."""

from __future__ import annotations

from aftersales_runtime.batches import BatchSettings, min_interval_ms
from aftersales_runtime.settings import ServiceSettings
from pydantic import BaseModel, Field
from pydantic_settings import SettingsConfigDict


class Band(BaseModel):
    """D27: from this score (inclusive) up, this bonus in yuan (a boundary belongs higher)."""

    min_score: float
    bonus: int


def _bands(*pairs: tuple[float, int]) -> list[Band]:
    return [Band(min_score=score, bonus=bonus) for score, bonus in pairs]


class ReportingSettings(ServiceSettings, BatchSettings):
    model_config = SettingsConfigDict(
        env_prefix="REPORTING_", extra="ignore", populate_by_name=True
    )

    mongodb_database: str = "aftersales_reporting"
    # A batch's cost is mostly one update per counter document it touches (a dealer's month,
    # week, staff and day pages), which grows slower than the batch: bigger batches pay.
    batch_max_records: int = Field(
        2000, ge=1, le=10_000, description="Most records handed to a projection pass at once."
    )
    # Under load reports lag up to about a second more; in exchange a busy stream's records come
    # in passes of about half a second's worth, not of one fetch's (batches.Pace).
    batch_min_interval_ms: int = min_interval_ms(
        500, "Under load, projection passes start this far apart."
    )
    http_port: int = 8005
    satisfied_min_score: int = Field(
        8, ge=0, le=10, description="D24: an overall score at or above this counts as satisfied."
    )
    very_satisfied_min_score: int = Field(
        9, ge=0, le=10, description="D24/D25: at or above this counts as very satisfied."
    )
    very_dissatisfied_below: int = Field(
        6, ge=0, le=10, description="D24: a score below this is very dissatisfied."
    )
    dissatisfied_below: int = Field(
        8, ge=0, le=10, description="D25: a score below this is dissatisfied or very dissatisfied."
    )
    strength_min_very_satisfied: float = Field(
        0.8,
        ge=0,
        le=1,
        description="D25: a strength item has no dissatisfied answer and at "
        "least this share of very satisfied ones.",
    )
    weakness_max_very_satisfied: float = Field(
        0.5,
        ge=0,
        le=1,
        description="D25: a weakness item has less than this share of very satisfied answers and …",
    )
    weakness_min_dissatisfied: float = Field(
        0.1, ge=0, le=1, description="D25: … more than this share of dissatisfied answers, or"
    )
    weakness_drop: float = Field(
        0.1,
        ge=0,
        le=1,
        description="D25: … a drop of the very-satisfied share by at least "
        "this much against the previous month.",
    )
    trend_months: int = Field(3, ge=0, le=24, description="D24: previous months shown.")
    arrival_target: float = Field(0.4, ge=0, le=1, description="D12: arrival-rate target.")
    face_to_face_target: float = Field(
        1.0, ge=0, le=1, description="D34: face-to-face questionnaire coverage target."
    )
    face_to_face_missed_points: int = Field(
        10, ge=0, description="D34: points a consultant loses per delivery without a survey."
    )
    consultant_bands: list[Band] = Field(
        default_factory=lambda: _bands(
            (100, 300), (90, 200), (80, 100), (70, 0), (60, -100), (0, -150)
        ),
        description="D27: bonus of each customer-relations consultant by the department's score.",
    )
    manager_bands: list[Band] = Field(
        default_factory=lambda: _bands(
            (100, 200), (90, 150), (80, 100), (70, 0), (60, -100), (0, -200)
        ),
        description="D27: bonus of the customer-relations manager by the department's score.",
    )
    issue_every_seconds: float = Field(
        30, gt=0, description="D28: how often the report calendar looks for reports due."
    )
