"""The faults, one per run: each does its damage and its repair, and says what it did.

Kafka and FerretDB are the local stack's processes (deploy/local/stack.sh keeps their pid files
under .cache/stack/run); a killed one is brought back by `stack.sh up`, which starts only what is
not running. Services are the pipeline's own processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from aiokafka import AIOKafkaProducer

from deploy.local.services import REPO, SERVICES
from tests.reliability.pipeline import INPUT_TOPICS, Pipeline


class Hooks(Protocol):
    """What a fault tells the harness: the flow may go on; the repair begins."""

    def engaged(self) -> None: ...

    def repaired(self) -> None: ...


# When a fault strikes: while work orders are published, just after the day-3 calls fell due,
# while the agents answer, or after everything was done.
PHASES = ("intake", "due", "answers", "end")
# Each service's fault strikes while it has work: its busiest phase.
BUSY_PHASE = {
    "intake": "intake",
    "scheduler": "intake",
    "contact": "due",
    "complaints": "answers",
    "reporting": "answers",
    "appointments": "intake",  # its input is the work orders (arrivals)
}


@dataclass(frozen=True)
class Fault:
    name: str
    phase: str
    strike: Callable[[Pipeline, Hooks], Awaitable[str]]
    joins: bool = False  # strikes before the flow it disturbs (a replica must start first)

    def at(self, phase: str) -> Fault:
        if phase not in PHASES:
            raise ValueError(f"unknown phase {phase!r}; one of {', '.join(PHASES)}")
        return Fault(f"{self.name}@{phase}", phase, self.strike, self.joins)


class StackProcesses:
    """Kafka and FerretDB of the local stack, by their pid files."""

    def __init__(self) -> None:
        cache = Path(os.environ.get("STACK_CACHE_DIR", REPO / ".cache"))
        self.run_dir = Path(os.environ.get("STACK_STATE_DIR", cache / "stack")) / "run"

    def pid(self, component: str) -> int:
        path = self.run_dir / f"{component}.pid"
        if not path.exists():
            raise RuntimeError(f"{component} is not running from the local stack ({path} missing)")
        return int(path.read_text().strip())

    def signal(self, component: str, sig: signal.Signals) -> None:
        os.kill(self.pid(component), sig)

    async def kill(self, component: str) -> None:
        pid = self.pid(component)
        os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            await asyncio.sleep(0.1)

    async def up(self) -> None:
        await asyncio.to_thread(
            subprocess.run,
            ["bash", str(REPO / "deploy/local/stack.sh"), "up"],
            check=True,
            capture_output=True,
        )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError):  # a zombie child counts as dead
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


def kill_and_restart_component(component: str, down_seconds: float) -> Fault:
    async def strike(_: Pipeline, hooks: Hooks) -> str:
        stack = StackProcesses()
        await stack.kill(component)
        hooks.engaged()
        await asyncio.sleep(down_seconds)
        hooks.repaired()
        await stack.up()
        return f"SIGKILL, restarted after {down_seconds:g}s"

    return Fault(f"{component}-kill", "intake", strike)


def freeze_component(component: str, seconds: float) -> Fault:
    async def strike(_: Pipeline, hooks: Hooks) -> str:
        stack = StackProcesses()
        stack.signal(component, signal.SIGSTOP)
        hooks.engaged()
        try:
            await asyncio.sleep(seconds)
        finally:
            hooks.repaired()
            stack.signal(component, signal.SIGCONT)
        return f"SIGSTOP for {seconds:g}s, then SIGCONT"

    return Fault(f"{component}-freeze", "intake", strike)


def kill_service(name: str) -> Fault:
    async def strike(pipeline: Pipeline, hooks: Hooks) -> str:
        await asyncio.to_thread(pipeline.fleet[name].kill9)
        hooks.engaged()
        hooks.repaired()
        await pipeline.restart(name)
        return "SIGKILL, restarted at once"

    return Fault(f"kill-{name}", BUSY_PHASE[name], strike)


def rebalance(name: str, stay_seconds: float = 2) -> Fault:
    async def strike(pipeline: Pipeline, hooks: Hooks) -> str:
        replica = pipeline.replicas[name] = pipeline.replica(name)
        await asyncio.to_thread(replica.start)
        await asyncio.to_thread(replica.wait_ready, 120)
        hooks.engaged()  # the flow goes on with two replicas in the group
        joined = pipeline.progress_text()
        await asyncio.sleep(stay_seconds)
        hooks.repaired()
        left = pipeline.progress_text()
        await asyncio.to_thread(replica.stop)
        del pipeline.replicas[name]
        return f"second replica joined at {joined}, left at {left}"

    return Fault(f"rebalance-{name}", BUSY_PHASE[name], strike, joins=True)


async def republish_from_zero(pipeline: Pipeline, topic: str) -> int:
    """Every record of `topic` published again, in order, with its key and headers."""
    records = await pipeline.read_topic(topic)
    producer = AIOKafkaProducer(**pipeline.kafka, enable_idempotence=True)
    await producer.start()
    try:
        for record in records:
            await producer.send(topic, record.value, key=record.key, headers=list(record.headers))
        await producer.flush()
    finally:
        await producer.stop()
    return len(records)


def replay_inputs() -> Fault:
    async def strike(pipeline: Pipeline, hooks: Hooks) -> str:
        hooks.engaged()
        hooks.repaired()  # nothing breaks: the replayed events must change nothing
        copied = {t: await republish_from_zero(pipeline, pipeline.topic(t)) for t in INPUT_TOPICS}
        return "republished " + ", ".join(f"{t} {n}" for t, n in copied.items())

    return Fault("replay-all-inputs", "end", strike)


def catalogue(freeze_seconds: float = 20, down_seconds: float = 15) -> dict[str, Fault]:
    """Every fault `make reliability` knows, in the order it runs them."""
    faults = [
        kill_and_restart_component("ferretdb", down_seconds),
        freeze_component("kafka", freeze_seconds),
        kill_and_restart_component("kafka", down_seconds),
        *(kill_service(name) for name in SERVICES),
        *(rebalance(name) for name in SERVICES),
        # The scheduler's dispatcher fires due timers: a second replica then must not double-fire.
        rebalance("scheduler").at("due"),
        replay_inputs(),
    ]
    return {fault.name: fault for fault in faults}


def choose(names: list[str], known: dict[str, Fault]) -> list[Fault]:
    """`kafka-kill` or `kafka-kill@answers` (the same fault in another phase)."""
    chosen = []
    for name in names:
        base, _, phase = name.partition("@")
        if base not in known:
            raise SystemExit(f"unknown fault {base!r}; known: {', '.join(known)}")
        chosen.append(known[base].at(phase) if phase else known[base])
    return chosen
