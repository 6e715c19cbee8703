"""One working calendar for the after-sales platform (ARCHITECTURE "Time").

Business hours, weekly rest days, China's public holidays and 调休 make-up working days, and
per-dealer closures — for SLA deadlines in working time (D20/D21) and calling windows (D13).
Takes aware datetimes, returns aware UTC datetimes.
"""

from .calendar import WorkingCalendar, to_local
from .errors import HolidayDataError, NaiveDatetimeError, NoOpenTimeError, WorkCalendarError
from .holidays import HOLIDAYS_FILE_ENV, HolidaySet, load_holidays
from .hours import WEEKDAYS, CalendarConfig, DateRange, TimeRange, Weekday, calling_window_config

__all__ = [
    "HOLIDAYS_FILE_ENV",
    "WEEKDAYS",
    "CalendarConfig",
    "DateRange",
    "HolidayDataError",
    "HolidaySet",
    "NaiveDatetimeError",
    "NoOpenTimeError",
    "TimeRange",
    "Weekday",
    "WorkCalendarError",
    "WorkingCalendar",
    "calling_window_config",
    "load_holidays",
    "to_local",
]
