"""Intake's typed settings: the shared infrastructure names plus INTAKE_* of its own."""

from __future__ import annotations

from aftersales_runtime.batches import BatchSettings, min_interval_ms
from aftersales_runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class IntakeSettings(ServiceSettings, BatchSettings):
    """INTAKE_BATCH_MAX_RECORDS / INTAKE_BATCH_TIMEOUT_MS bound the DMS topics' batches."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", populate_by_name=True)

    mongodb_database: str = "aftersales_intake"
    http_port: int = 8001
    # Under load, contact results (opt-outs, corrections onto the files) are taken in passes of
    # about half a second's worth (batches.Pace); the DMS's events, on their way to a plan
    # someone waits for, are not paced (their subscribers say paced=False).
    batch_min_interval_ms: int = min_interval_ms(
        500, "Under load, passes of the contact results' subscriber start this far apart."
    )
    future_tolerance_seconds: int = Field(
        300, ge=0, description="How far a settlement may lie ahead of our clock (DMS clock skew)."
    )
    max_batch: int = Field(1000, ge=1, description="Most records in one POST /v1/dms/work-orders.")
    import_max_bytes: int = Field(
        100 * 1024 * 1024, ge=1024, description="Largest file the import reads."
    )
    import_max_rows: int = Field(100_000, ge=1, description="Most rows in one imported file.")
    import_max_cell_chars: int = Field(
        4096, ge=64, description="Longest cell of an imported file (a DMS field is short)."
    )
    import_max_unpacked_bytes: int = Field(
        200 * 1024 * 1024,
        ge=1024,
        description="Most bytes an XLSX may unpack to, and at most 100x its size per part "
        "(zip bombs).",
    )
    http_max_body_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, description="Largest request body, e.g. a webhook batch."
    )
