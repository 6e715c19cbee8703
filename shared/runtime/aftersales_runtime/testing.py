"""Where the tests' real Kafka and MongoDB come from (used by the repository's conftest.py).

In this order (ARCHITECTURE: Kafka): `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URL` from the
environment when both are set; testcontainers when a Docker engine answers; else the project's
local stack (deploy/local/stack.sh), started if it is not running.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path


def _repo() -> Path:
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "deploy/local/stack.sh").exists():
            return folder
    raise RuntimeError("run the tests from inside the repository (deploy/local/stack.sh not found)")


@dataclass(frozen=True)
class Stack:
    kafka_bootstrap_servers: str
    mongodb_url: str
    source: str  # "env", "testcontainers" or "local"


def docker_engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def start_local_stack() -> Stack:
    subprocess.run(["bash", str(_repo() / "deploy/local/stack.sh"), "up"], check=True)
    kafka_port = os.environ.get("KAFKA_PORT", "9092")
    mongo_port = os.environ.get("MONGODB_PORT", "27017")
    return Stack(f"127.0.0.1:{kafka_port}", f"mongodb://127.0.0.1:{mongo_port}/", "local")


def start_testcontainers() -> tuple[Stack, Callable[[], None]]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    kafka = KafkaContainer("apache/kafka:4.1.0").with_kraft()
    mongo = MongoDbContainer("mongo:7")
    kafka.start()
    mongo.start()

    def stop() -> None:
        kafka.stop()
        mongo.stop()

    return Stack(kafka.get_bootstrap_server(), mongo.get_connection_url(), "testcontainers"), stop


def resolve_stack(
    env: Mapping[str, str],
    docker_available: Callable[[], bool] = docker_engine_answers,
    local: Callable[[], Stack] = start_local_stack,
) -> tuple[Stack, Callable[[], None]]:
    """Pick the components' source; returns the endpoints and how to stop what was started."""
    if env.get("KAFKA_BOOTSTRAP_SERVERS") and env.get("MONGODB_URL"):
        return Stack(env["KAFKA_BOOTSTRAP_SERVERS"], env["MONGODB_URL"], "env"), lambda: None
    if docker_available():
        return start_testcontainers()
    return local(), lambda: None  # the local stack outlives the run; `make stack-down` stops it
