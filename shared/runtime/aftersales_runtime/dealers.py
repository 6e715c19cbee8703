"""The dealer directory: which dealers exist and the settings every service needs of them.

Configuration, not code (DOMAIN: every number overridable per dealer). One JSON file, shared by
the services through AFTERSALES_DEALERS_FILE; each service reads the part it needs:

    {"dealers": {"dealer-sz-001": {"name": "深圳宝安店", "time_zone": "Asia/Shanghai",
                                    "oem": "oem-a", "settings": {"scheduler": {...}}}}}

`settings` holds per-service overrides, validated by the service that owns them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_TIME_ZONE = "Asia/Shanghai"


class Dealer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    dealer_id: str
    name: str = ""
    time_zone: str = DEFAULT_TIME_ZONE
    oem: str | None = None
    settings: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def overrides(self, service: str) -> dict[str, Any]:
        return self.settings.get(service, {})


class DealerDirectory:
    def __init__(self, dealers: dict[str, Dealer]) -> None:
        self._dealers = dealers

    def get(self, dealer_id: str) -> Dealer | None:
        return self._dealers.get(dealer_id)

    def __contains__(self, dealer_id: object) -> bool:
        return dealer_id in self._dealers

    def __iter__(self) -> Iterator[Dealer]:
        return iter(self._dealers.values())

    def zone_of(self, dealer_id: str) -> ZoneInfo:
        """The dealer's time zone; the default zone for a dealer the directory does not list
        (its records are refused by intake, but a late event must still be placed in time)."""
        dealer = self._dealers.get(dealer_id)
        return dealer.zone if dealer else ZoneInfo(DEFAULT_TIME_ZONE)

    def ids(self) -> list[str]:
        return sorted(self._dealers)

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> DealerDirectory:
        raw = data.get("dealers")
        if not isinstance(raw, dict) or not raw:
            raise ValueError('the dealer directory needs a non-empty "dealers" object')
        return cls({k: Dealer(dealer_id=k, **v) for k, v in raw.items()})

    @classmethod
    def load(cls, path: Path) -> DealerDirectory:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise ValueError(f"dealer directory not found: {path}") from error
        except json.JSONDecodeError as error:
            raise ValueError(f"dealer directory {path} is not valid JSON: {error}") from error
        return cls.from_mapping(data)
