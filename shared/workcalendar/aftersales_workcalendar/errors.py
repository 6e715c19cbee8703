"""Exceptions of the working calendar.

They subclass ``ValueError`` where the caller passed something wrong, so code that already
guards against ``ValueError`` (e.g. config loading in a service) keeps working.
"""

from __future__ import annotations


class WorkCalendarError(Exception):
    """Base class of every error raised by this package."""


class NaiveDatetimeError(WorkCalendarError, ValueError):
    """A naive datetime was passed.

    Rules are applied in the dealer's zone while storage is UTC (ARCHITECTURE "Time"); a naive
    value is ambiguous between the two, so it is refused instead of guessed.
    """


class HolidayDataError(WorkCalendarError, ValueError):
    """The holiday data file is missing, unreadable or inconsistent."""


class NoOpenTimeError(WorkCalendarError):
    """The calendar stays closed longer than its search horizon (misconfiguration guard)."""
