"""Settings of the complaints service (env prefix COMPLAINTS_; shared names in ServiceSettings).

Nested grading rules are set with `__`, e.g. `COMPLAINTS_GRADING__ITEM_FLOOR_MAX=3`, or as
JSON: `COMPLAINTS_GRADING='{"overall_bands": [{"max_overall": 5, "grade": "B"}]}'`. A dealer
overrides them in the dealer directory under `settings.complaints.grading`.
"""

from __future__ import annotations

from aftersales_runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aftersales_complaints.domain.grading import GradingRules


class ComplaintsSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="COMPLAINTS_",
        extra="ignore",
        populate_by_name=True,
        env_nested_delimiter="__",
    )

    mongodb_database: str = "aftersales_complaints"
    http_port: int = 8004
    grading: GradingRules = Field(default_factory=GradingRules)
    reply_within_working_days: int = Field(
        1, ge=0, description="D20: the customer gets a reply within one working day."
    )
