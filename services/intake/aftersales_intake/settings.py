"""Intake's typed settings: the shared infrastructure names plus INTAKE_* of its own."""

from __future__ import annotations

from aftersales_runtime.batches import BatchSettings
from aftersales_runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class IntakeSettings(ServiceSettings, BatchSettings):
    """INTAKE_BATCH_MAX_RECORDS / INTAKE_BATCH_TIMEOUT_MS bound the DMS topics' batches."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)

    mongodb_database: str = "aftersales_intake"
    http_port: int = 8001
    future_tolerance_seconds: int = Field(
        300, ge=0, description="How far a settlement may lie ahead of our clock (DMS clock skew)."
    )
    max_batch: int = Field(1000, ge=1, description="Most records in one POST /v1/dms/work-orders.")
    phone_roles: frozenset[str] = Field(
        frozenset({"agent"}),
        description="X-Role values that see full phone numbers in the vehicle-file API (D3).",
    )
