"""CPU time per process during a benchmark's phase: the services' processes and the stack's
Kafka and FerretDB (found by their pid files). 100 % = one core.

A benchmark that drives the services from its own process (simulated agents, the DMS) may list
that process under `DRIVER`: it shares the machine's cores with the services, so its share is
printed, but it is not the system's cost and stays out of the "all" total."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from deploy.local.services import REPO

#: The name under which a benchmark lists its own process (printed, not counted in "all").
DRIVER = "benchmark"


@dataclass
class Cpu:
    processes: dict[str, psutil.Process]
    started: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0

    @classmethod
    def of(cls, pids: dict[str, int]) -> Cpu:
        """The given processes (name -> pid), and the local stack's Kafka and FerretDB."""
        found = {name: psutil.Process(pid) for name, pid in pids.items()}
        run = Path(os.environ.get("STACK_STATE_DIR", REPO / ".cache/stack")) / "run"
        for component in ("kafka", "ferretdb"):
            pid_file = run / f"{component}.pid"
            if pid_file.exists():
                found[component] = psutil.Process(int(pid_file.read_text()))
        return cls(found)

    def _times(self) -> dict[str, float]:
        return {n: sum(p.cpu_times()[:2]) for n, p in self.processes.items()}

    def start(self) -> None:
        self.started, self.wall = self._times(), time.monotonic()

    def seconds(self) -> dict[str, float]:
        """CPU seconds of each process since `start`."""
        return {n: t - self.started[n] for n, t in self._times().items()}

    def shares(self) -> dict[str, float]:
        elapsed = time.monotonic() - self.wall
        return {n: 100 * s / elapsed for n, s in self.seconds().items()}


def print_cpu(
    phase: str,
    shares: dict[str, float],
    seconds: dict[str, float] | None = None,
    count: int = 0,
    unit: str = "",
) -> None:
    """The phase's CPU share of each process and, given `seconds` and `count`, its CPU
    milliseconds per `unit` (which process the work costs, whatever the machine's load)."""
    parts = "  ".join(f"{n} {s:.0f}%" for n, s in sorted(shares.items(), key=lambda x: -x[1]))
    print(f"  cpu during {phase} (100% = one core): {parts}")
    if seconds and count:
        per = sorted(((n, 1000 * t / count) for n, t in seconds.items()), key=lambda x: -x[1])
        total = sum(ms for n, ms in per if n != DRIVER)
        listed = "  ".join(f"{n} {ms:.2f}" for n, ms in per)
        print(f"    cpu ms per {unit}: {listed}  (all {total:.2f})")
