"""Deadlines count down in working time (D20): the working time left until each moment on the
dealer's calendar, the same calendar the complaints service sets its deadlines by (the dealer's
zone and its `settings.complaints.calendar` overrides in the dealer directory)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from aftersales_runtime.dealers import DealerDirectory
from aftersales_workcalendar import CalendarConfig, WorkingCalendar


class WorkingTime:
    def __init__(self, dealers: DealerDirectory) -> None:
        self._dealers = dealers
        self.calendar_of = lru_cache(maxsize=256)(self._calendar)

    def _calendar(self, dealer_id: str) -> WorkingCalendar | None:
        dealer = self._dealers.get(dealer_id)
        if dealer is None:
            return None
        overrides = dealer.overrides("complaints").get("calendar", {})
        return WorkingCalendar(
            CalendarConfig.model_validate({"timezone": dealer.zone.key, **overrides})
        )

    def left(self, dealer_id: str, now: datetime, until: list[datetime]) -> list[int] | None:
        """Working seconds from now until each moment (negative once past); None: no such
        dealer."""
        calendar = self.calendar_of(dealer_id)
        if calendar is None:
            return None
        return [int(calendar.working_time_between(now, u).total_seconds()) for u in until]
