"""Settings of the appointments service (env prefix APPOINTMENTS_; shared names in
ServiceSettings). The workshop's slots and bays (D31) are set as JSON, e.g.
`APPOINTMENTS_WORKSHOP='{"slots": [{"id": "0900", "start": "09:00", "end": "12:00", "bays": 6}]}'`,
and per dealer in the dealer directory under `settings.appointments.workshop`.
"""

from __future__ import annotations

from aftersales_runtime.batches import BatchSettings
from aftersales_runtime.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from aftersales_appointments.domain.workshop import Workshop


class AppointmentsSettings(ServiceSettings, BatchSettings):
    model_config = SettingsConfigDict(
        env_prefix="APPOINTMENTS_",
        extra="ignore",
        populate_by_name=True,
        env_nested_delimiter="__",
    )

    mongodb_database: str = "aftersales_appointments"
    http_port: int = 8006
    workshop: Workshop = Field(default_factory=Workshop)
    sweep_interval_seconds: float = Field(
        60.0, gt=0, le=3600, description="How often missed appointments are looked for."
    )
