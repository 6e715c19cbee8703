"""Events of the report calendar (D28), published by reporting."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, Field

from aftersales_contracts import topics
from aftersales_contracts.envelope import Event
from aftersales_contracts.primitives import NonEmptyStr


class ReportIssued(Event):
    """D28: a report of the calendar was issued for its recipients (GM, managers, OEM region).

    An issued report never changes; issuing it again (late events, a correction) is a new
    ``version``. ``report_id`` names the stored report (``{dealer}/{month}/{report}/v{version}``)
    that reporting serves to the recipients' roles.
    """

    TOPIC: ClassVar[str] = topics.REPORT_ISSUED
    SCHEMA_VERSION: ClassVar[int] = 1

    report_id: NonEmptyStr
    report: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$", examples=["service_followup"])]
    chain: Literal["service", "sales"]  # D28's two chains
    month: str = Field(pattern=r"^\d{4}-\d{2}$")  # the month reported on (dealer's local)
    version: int = Field(ge=1)
    due_on: date  # the calendar day it was due (the 3rd/5th/8th or the next working day)
    issued_at: AwareDatetime
    recipients: list[NonEmptyStr] = Field(min_length=1)  # roles, e.g. "gm", "oem_region"
