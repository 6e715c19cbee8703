"""Measurements of the intake benchmark: per-record intervals, rates by tenth of the run, and
MongoDB time by command and collection (pymongo command monitoring)."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faststream import BaseMiddleware
from pymongo import monitoring


@dataclass
class Timings:
    """Per-record processing intervals (perf_counter seconds), in processing order."""

    latencies: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    first_start: float | None = None
    last_end: float | None = None
    batches: int = 0
    recording: bool = True

    def add(self, started: float, ended: float, records: int = 1) -> None:
        """`records` handled together between `started` and `ended` (a batch)."""
        if not self.recording:
            return
        if self.first_start is None:
            self.first_start = started
        self.last_end = ended
        self.batches += 1
        self.latencies.extend([ended - started] * records)
        self.ends.extend([ended] * records)

    def rates_by_tenth(self) -> list[float]:
        """events/s over each tenth of the records, in order: flat when the rate is sustained."""
        if self.first_start is None or len(self.ends) < 10:
            return []
        rates = []
        previous = self.first_start
        for k in range(1, 11):
            first, last = (k - 1) * len(self.ends) // 10, k * len(self.ends) // 10
            end = self.ends[last - 1]
            rates.append((last - first) / (end - previous) if end > previous else math.nan)
            previous = end
        return rates

    def rate(self, count: int) -> float:
        if self.first_start is None or self.last_end is None or self.last_end <= self.first_start:
            return 0.0
        return count / (self.last_end - self.first_start)

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        if not self.latencies:
            return math.nan
        ordered = sorted(self.latencies)
        return 1000 * ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Timed(BaseMiddleware):
    """Outermost of the service's own middlewares: from receipt to the handler's return; a
    batch counts once per record, each with the batch's time."""

    def __init__(self, msg: Any, /, *, context: Any, timings: Timings) -> None:
        super().__init__(msg, context=context)
        self.timings = timings
        self.started = 0.0

    async def on_receive(self) -> None:
        self.started = time.perf_counter()

    async def after_processed(
        self, exc_type: Any = None, exc_val: Any = None, exc_tb: Any = None
    ) -> bool | None:
        records = len(self.msg) if isinstance(self.msg, tuple | list) else 1
        self.timings.add(self.started, time.perf_counter(), records)
        return False


class MongoTimes(monitoring.CommandListener):
    """Time of each MongoDB command by (command, collection), while `active`: where a record's
    time goes, measured at the driver."""

    def __init__(self) -> None:
        self.active = False
        self._pending: dict[tuple[Any, int], tuple[str, str]] = {}
        self.durations: dict[tuple[str, str], list[float]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.active:
            target = event.command.get(event.command_name)
            collection = target if isinstance(target, str) else ""
            key = (event.connection_id, event.request_id)
            self._pending[key] = (event.command_name, collection)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._done(event.connection_id, event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._done(event.connection_id, event.request_id, event.duration_micros)

    def _done(self, connection: Any, request: int, micros: int) -> None:
        name = self._pending.pop((connection, request), None)
        if name is not None:
            self.durations.setdefault(name, []).append(micros / 1000)

    def lines(self, records: int) -> list[str]:
        out = []
        ranked = sorted(self.durations.items(), key=lambda item: -sum(item[1]))
        for (command, collection), ms in ranked:
            if command in ("ping", "endSessions") or not ms:
                continue
            tenth = max(1, len(ms) // 10)
            out.append(
                f"  {command:13} {collection:12}{len(ms) / max(records, 1):>6.1f}/event"
                f"{sum(ms) / max(records, 1):>9.2f} ms/event   mean {sum(ms) / len(ms):7.2f} ms"
                f"   first tenth {sum(ms[:tenth]) / tenth:7.2f} ms"
                f"   last tenth {sum(ms[-tenth:]) / tenth:7.2f} ms"
            )
        return out


class CpuTimes:
    """CPU seconds of this process (intake runs in it) and of the stack's processes (pid files
    of `deploy/local/stack.sh`) over a run: which process holds the CPU."""

    def __init__(self, run_dir: Path) -> None:
        self.pids = {"intake (this process)": os.getpid()}
        for name in ("ferretdb", "kafka"):
            try:
                self.pids[name] = int((run_dir / f"{name}.pid").read_text().strip())
            except (OSError, ValueError):
                continue
        self.started: dict[str, float] = {}
        self.wall = 0.0

    @staticmethod
    def _seconds(pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self.started = {name: self._seconds(pid) for name, pid in self.pids.items()}
        self.wall = time.perf_counter()

    def line(self) -> str:
        wall = time.perf_counter() - self.wall
        used = {name: self._seconds(pid) - self.started[name] for name, pid in self.pids.items()}
        shares = ", ".join(
            f"{name} {s:,.1f} s ({s / wall:.0%} of a core)" for name, s in used.items()
        )
        load = os.getloadavg()[0]  # the machine is shared: how many others wanted the cores
        return f"CPU over {wall:,.1f} s of run: {shares}; load average {load:.1f}"
