"""One injectable source of time for every service (ARCHITECTURE: Time).

`SystemClock` is production. `ControlledClock` reads an offset from a small JSON file that several
processes share, so a test or a demo moves all five services' time at once:

    python -m aftersales_runtime.clock --file var/clock.json advance 3d
    python -m aftersales_runtime.clock --file var/clock.json set 2026-11-20T09:00:00+08:00
    python -m aftersales_runtime.clock --file var/clock.json show

Time keeps running from the offset (it is "now + offset"), so timers and leases behave as usual.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from aftersales_runtime.settings import ClockKind, ServiceSettings


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told to: for unit tests of domain code and handlers."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = at.astimezone(UTC)


class ControlledClock:
    """Real time plus an offset kept in a file; the file is re-read only when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._offset = timedelta(0)

    def offset(self) -> timedelta:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return timedelta(0)
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp != self._stamp:
            data = json.loads(self.path.read_text() or "{}")
            self._offset = timedelta(seconds=float(data.get("offset_seconds", 0)))
            self._stamp = stamp
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()

    def write_offset(self, offset: timedelta) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Atomic replace: readers in other processes never see a half-written file.
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".clock-")
        with os.fdopen(fd, "w") as handle:
            json.dump({"offset_seconds": offset.total_seconds()}, handle)
        os.replace(tmp, self.path)

    def advance(self, delta: timedelta) -> datetime:
        self.write_offset(self.offset() + delta)
        return self.now()

    def set(self, at: datetime) -> datetime:
        self.write_offset(at - datetime.now(UTC))
        return self.now()


def clock_from_settings(settings: ServiceSettings) -> Clock:
    if settings.clock is ClockKind.controlled:
        assert settings.clock_file is not None  # guaranteed by the settings validator
        return ControlledClock(settings.clock_file)
    return SystemClock()


_DURATION = re.compile(r"^(?P<n>-?\d+(?:\.\d+)?)(?P<unit>[smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'90s', '15m', '4h', '3d', '2w' -> timedelta."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90s, 15m, 4h, 3d, 2w)")
    return timedelta(**{_UNITS[match["unit"]]: float(match["n"])})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m aftersales_runtime.clock",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--file",
        type=Path,
        default=os.environ.get("AFTERSALES_CLOCK_FILE"),
        required="AFTERSALES_CLOCK_FILE" not in os.environ,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("show")
    advance = sub.add_parser("advance")
    advance.add_argument("duration", type=parse_duration)
    set_ = sub.add_parser("set")
    set_.add_argument("at", type=datetime.fromisoformat)
    args = parser.parse_args(argv)
    clock = ControlledClock(args.file)
    if args.command == "advance":
        clock.advance(args.duration)
    elif args.command == "set":
        if args.at.tzinfo is None:
            parser.error("give the time with its offset, e.g. 2026-11-20T09:00:00+08:00")
        clock.set(args.at)
    print(f"now {clock.now().isoformat(timespec='seconds')} (offset {clock.offset()})")


if __name__ == "__main__":
    main()
