"""What every use case consults besides storage: the dealers' policies, zones and the clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from aftersales_runtime.clock import Clock
from aftersales_runtime.dealers import DEFAULT_TIME_ZONE, DealerDirectory
from aftersales_workcalendar import WorkingCalendar

from aftersales_scheduler.domain.policy import PolicyBook, SchedulerPolicy


@dataclass(frozen=True)
class PlanningContext:
    policies: PolicyBook
    directory: DealerDirectory | None
    clock: Clock

    def dealer_ids(self) -> list[str]:
        return self.directory.ids() if self.directory else []

    def policy(self, dealer_id: str) -> SchedulerPolicy:
        return self.policies.for_dealer(dealer_id)

    def zone_name(self, dealer_id: str) -> str:
        dealer = self.directory.get(dealer_id) if self.directory else None
        return dealer.time_zone if dealer else DEFAULT_TIME_ZONE

    def zone(self, dealer_id: str) -> ZoneInfo:
        return ZoneInfo(self.zone_name(dealer_id))

    def calendar(self, dealer_id: str) -> WorkingCalendar:
        return self.policy(dealer_id).calling_hours.calendar(self.zone_name(dealer_id))

    def opens_at(self, dealer_id: str) -> time:
        """The start of the dealer's calling hours (D6, D8: "day N at calling-hours start")."""
        return self.policy(dealer_id).calling_hours.opens_at
