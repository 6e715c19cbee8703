"""External messages the car maker (OEM) publishes: a complaint its hotline or region received
about one of our dealers and transferred to it (D29: 厂家转办投诉).

Like the DMS messages these come from outside: the fields are checked strictly (unknown fields
are ignored, so the OEM may send more), and the dealer resolves the customer from its own files
by VIN, plate or phone (at least one is required).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from aftersales_contracts import topics
from aftersales_contracts.events import ComplaintGrade
from aftersales_contracts.primitives import NonEmptyStr


class OemComplaintTransferred(BaseModel):
    """An OEM-transferred complaint; key: the dealer id (UTF-8), like every topic."""

    model_config = ConfigDict(extra="ignore", frozen=True, str_strip_whitespace=True)

    TOPIC: ClassVar[str] = topics.OEM_COMPLAINT_TRANSFERRED
    SCHEMA_VERSION: ClassVar[int] = 1

    oem_complaint_id: NonEmptyStr  # the OEM's case number; a redelivery carries the same
    dealer_id: NonEmptyStr
    received_at: AwareDatetime  # when the OEM received it
    vin: str | None = Field(default=None, max_length=17)
    plate: str | None = Field(default=None, max_length=16)
    phone: str | None = Field(default=None, max_length=32)  # any form; the dealer normalises it
    text: str = Field(min_length=1, max_length=4000)  # the customer's complaint, as recorded
    oem_grade: ComplaintGrade | None = None  # the OEM's own grading, if it gives one
    schema_version: int = Field(default=1, ge=1, le=1)

    @model_validator(mode="after")
    def _someone_to_find(self) -> OemComplaintTransferred:
        if not (self.vin or self.plate or self.phone):
            raise ValueError("one of vin, plate or phone is required to find the customer")
        return self

    def key(self) -> bytes:
        return self.dealer_id.encode("utf-8")
