"""Settings of the contact service (env prefix CONTACT_; shared names in ServiceSettings)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from aftersales_runtime.batches import BatchSettings
from aftersales_runtime.settings import ServiceSettings
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from aftersales_contact.domain.expiry import DEFAULT_EXPIRE_AFTER_DAYS
from aftersales_contact.domain.queue import DEFAULT_PURPOSE_PRIORITY


class ContactSettings(ServiceSettings, BatchSettings):
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
    queue_removal_linger_ms: float = Field(
        20,
        ge=0,
        le=500,
        description="How long at most an agent's finished task, leaving the open queue, waits "
        "for the other agents' of the same moment, to take them out of the dealer's buckets in "
        "one write; it goes as soon as every submit under way for the dealer has come to its "
        "removal (0: at once).",
    )
    questionnaires_file: Path | None = Field(
        None,
        description="JSON questionnaire catalogue (questionnaires per purpose, dealer or OEM; "
        "issue categories; lapse reasons), validated at start; none = the shipped defaults.",
    )

    # D14: the SMS channel. "none": SMS contacts are queued for the agents like calls.
    sms_provider: Literal["none", "alibaba"] = Field(
        "none", description="Who sends SMS: `alibaba` (Alibaba Cloud SMS through its SDK)."
    )
    sms_endpoint: str = Field(
        "dysmsapi.aliyuncs.com",
        description="host[:port] of the SMS API (the local SMS gateway's locally).",
    )
    sms_protocol: Literal["https", "http"] = "https"
    sms_access_key_id: str = ""
    sms_access_key_secret: SecretStr = SecretStr("")
    sms_sign_name: str = Field("", description="The dealer group's registered SMS signature.")
    sms_templates: dict[str, str] = Field(
        default_factory=lambda: {
            "survey": "SMS_AFTERSALES_SURVEY",
            "reask": "SMS_AFTERSALES_REASK",
            "notice": "SMS_AFTERSALES_NOTICE",
        },
        description="The provider's template codes for the survey, the re-ask and one-way "
        "notices (their texts are registered with the provider; see the README).",
    )
    sms_cascade_hours: float = Field(
        48, gt=0, description="An SMS survey unanswered this long becomes a call task (D14)."
    )

    @model_validator(mode="after")
    def _sms_complete(self) -> ContactSettings:
        if self.sms_provider != "none":
            missing = [
                name for name in ("sms_access_key_id", "sms_sign_name") if not getattr(self, name)
            ]
            if not self.sms_access_key_secret.get_secret_value():
                missing.append("sms_access_key_secret")
            missing += [
                f"sms_templates.{kind}"
                for kind in ("survey", "reask", "notice")
                if not self.sms_templates.get(kind)
            ]
            if missing:
                raise ValueError(f"the SMS provider needs {', '.join(missing)}")
        return self


class DealerContactSettings(BaseModel):
    """A dealer's own contact settings (the dealer directory's `settings.contact`), validated
    when the service starts; what a dealer leaves out is the service's setting."""

    model_config = ConfigDict(extra="forbid")

    purpose_priority: dict[str, PositiveInt] = Field(default_factory=dict)
    expire_after_days: dict[str, PositiveInt] = Field(default_factory=dict)
