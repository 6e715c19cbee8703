from __future__ import annotations

from aftersales_runtime.batches import BatchSettings, min_interval_ms
from aftersales_runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class SchedulerSettings(ServiceSettings, BatchSettings):
    """SCHEDULER_BATCH_MAX_RECORDS / SCHEDULER_BATCH_TIMEOUT_MS bound the consumed batches."""

    model_config = SettingsConfigDict(
        env_prefix="SCHEDULER_", extra="ignore", populate_by_name=True
    )

    mongodb_database: str = "aftersales_scheduler"
    http_port: int = 8002
    # Under load, results, corrections, complaints' and appointments' events are taken in
    # passes of about half a second's worth (batches.Pace); closed work orders and deliveries,
    # which someone waits to see planned, are not paced (their subscribers say paced=False).
    batch_min_interval_ms: int = min_interval_ms(
        500, "Under load, passes of the subscribers off the plan's path start this far apart."
    )

    dispatch_interval_seconds: float = Field(
        1.0, gt=0, description="Pause between dispatcher ticks when nothing is left to fire."
    )
    dispatch_batch: int = Field(
        2000, ge=1, description="Most timers one tick fires before it yields (bounded batches)."
    )
    claim_lease_seconds: float = Field(
        30.0,
        gt=0,
        description=(
            "A claimed timer not marked sent after this long (clock time) is taken over and "
            "published again with the same event_id: a replica died between claim and publish."
        ),
    )
    instance_id: str = Field(
        "", description="This replica's name in claim documents; empty = host, pid and a nonce."
    )
    periodic_jobs: bool = Field(
        True, description="Run the periodic jobs (D10 yearly care, D12 monthly list)."
    )
    periodic_interval_seconds: float = Field(
        60.0, gt=0, description="How often (real time) the periodic jobs look for work."
    )
