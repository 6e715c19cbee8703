"""Values shared by the internal events: the people, the vehicle, a questionnaire's answers.

Each is frozen and refuses unknown fields, like the events that carry them (see ``Event``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, RootModel

from aftersales_contracts.dms import Channel
from aftersales_contracts.primitives import NonEmptyStr, Phone, Vin


class Part(BaseModel):
    """A value inside an event: frozen and strict like the event itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Staff(Part):
    """A dealer employee; carried so complaints and reports credit the right person (D18, D24)."""

    id: NonEmptyStr
    name: str


class Customer(Part):
    """The person to contact (D4), with what the contact rules need."""

    customer_id: NonEmptyStr
    name: str
    phone: Phone  # E.164, normalised by intake
    is_owner: bool
    birthday: date | None = None  # D10 birthday care
    contact_consent: bool  # D4: False = never contacted
    preferred_channel: Channel | None = None  # D14: wins over the default channel


class Vehicle(Part):
    """The vehicle whose file (D1) an event concerns."""

    vin: Vin
    plate: str | None = None  # None for a new car not yet registered (D8)
    brand: str
    model: str
    mileage_km: int | None = Field(default=None, ge=0)


ITEM_ID_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"
ItemId = Annotated[str, Field(pattern=ITEM_ID_PATTERN, examples=["quality"])]
Score = Annotated[int, Field(ge=0, le=10)]

#: D16: the yes/no item "was the fault fixed right the first time?" (一次修复); a "no" opens a
#: recovery ticket (D18) and counts toward the come-back rate (D26).
FIXED_FIRST_TIME = "fixed_first_time"


class Scores(RootModel[dict[ItemId, Score]]):
    """A questionnaire's scored items (D16, D17), item id -> 0..10.

    Which items a result must hold is the questionnaire's business (configuration, checked by
    the service that records the result); the contract only fixes the shape and the scale.
    ``Scores(attitude=9, quality=8)`` builds one; ``ITEMS`` are the after-service CSI items.
    """

    model_config = ConfigDict(frozen=True)

    ITEMS: ClassVar[tuple[str, ...]] = (
        "attitude",
        "environment",
        "service_process",
        "quality",
        "charges",
        "timeliness",
        "overall",
    )

    def __getitem__(self, item: str) -> int:
        return self.root[item]

    def items(self) -> list[tuple[str, int]]:
        return list(self.root.items())

    def low_items(self, threshold: int = 8) -> list[str]:
        """Items scored below ``threshold``; any of them opens a recovery ticket (D18)."""
        return [item for item, score in self.root.items() if score < threshold]


class QuestionnaireRef(Part):
    """Which questionnaire, in which version, a result answers (D16, D17)."""

    id: NonEmptyStr
    version: int = Field(ge=1)


class Coded(Part):
    """A value from a configurable list (an issue category, a lapse reason) with free text."""

    code: ItemId  # e.g. "waiting_time"; "other" carries its text
    text: str | None = Field(default=None, max_length=500)


class DataCheck(Part):
    """D30: what the agent checked at the start of the call (核对客户信息).

    ``confirmed`` says the data on file was read back to the customer. The other fields are set
    only when the customer gave something new: a correction of the phone, the owner or the
    actual user, and the current mileage and the expected next maintenance. Intake applies them
    to the vehicle file (D1, D2) and publishes ``VehicleFileCorrected``.
    """

    confirmed: bool
    phone: Phone | None = None
    owner_name: str | None = Field(default=None, min_length=1, max_length=100)
    actual_user_name: str | None = Field(default=None, min_length=1, max_length=100)
    actual_user_phone: Phone | None = None
    mileage_km: int | None = Field(default=None, ge=0)
    next_maintenance_due_date: date | None = None
    next_maintenance_due_mileage_km: int | None = Field(default=None, ge=0)

    def changes(self) -> dict[str, object]:
        """The fields the customer gave (everything but ``confirmed`` that is set)."""
        return {k: v for k, v in self.model_dump(exclude={"confirmed"}).items() if v is not None}
