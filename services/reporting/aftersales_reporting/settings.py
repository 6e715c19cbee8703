"""Settings of the reporting service (env prefix REPORTING_; shared names in ServiceSettings)."""

from __future__ import annotations

from aftersales_runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="REPORTING_", extra="ignore", populate_by_name=True
    )

    mongodb_database: str = "aftersales_reporting"
    http_port: int = 8005
    satisfied_min_score: int = Field(
        8, ge=0, le=10, description="D24: an overall score at or above this counts as satisfied."
    )
