"""Settings of the contact service (env prefix CONTACT_; shared names in ServiceSettings)."""

from __future__ import annotations

from pathlib import Path

from aftersales_runtime.settings import ServiceSettings
from pydantic import BaseModel, ConfigDict, Field, PositiveInt
from pydantic_settings import SettingsConfigDict

from aftersales_contact.domain.expiry import DEFAULT_EXPIRE_AFTER_DAYS
from aftersales_contact.domain.queue import DEFAULT_PURPOSE_PRIORITY


class ContactSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONTACT_", extra="ignore", populate_by_name=True)

    mongodb_database: str = "aftersales_contact"
    http_port: int = 8003
    lease_seconds: int = Field(
        1200,
        ge=1,
        description="How long a claimed task stays with its agent before it can be claimed again.",
    )
    purpose_priority: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_PURPOSE_PRIORITY),
        description="Queue order after the due time: smaller first, per contact purpose "
        "(a merged task ranks as its most urgent purpose); JSON in CONTACT_PURPOSE_PRIORITY.",
    )
    expire_after_days: dict[str, int] = Field(
        default_factory=lambda: dict(DEFAULT_EXPIRE_AFTER_DAYS),
        description="Days a contact stays on the queue after it first fell due, per purpose "
        "(the longest of a merged task's purposes); then it expires. JSON in "
        "CONTACT_EXPIRE_AFTER_DAYS.",
    )
    expiry_sweep_seconds: float = Field(
        60, gt=0, description="How often follow-ups past their deadline are taken off the queue."
    )
    questionnaires_file: Path | None = Field(
        None,
        description="JSON questionnaire catalogue (questionnaires per purpose, dealer or OEM; "
        "issue categories; lapse reasons), validated at start; none = the shipped defaults.",
    )


class DealerContactSettings(BaseModel):
    """A dealer's own contact settings (the dealer directory's `settings.contact`), validated
    when the service starts; what a dealer leaves out is the service's setting."""

    model_config = ConfigDict(extra="forbid")

    purpose_priority: dict[str, PositiveInt] = Field(default_factory=dict)
    expire_after_days: dict[str, PositiveInt] = Field(default_factory=dict)
