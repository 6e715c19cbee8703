"""Where the tests' real Kafka and MongoDB come from (used by the repository's conftest.py).

In this order (ARCHITECTURE: Kafka): `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URL` from the
environment when both are set (with KAFKA_SECURITY_PROTOCOL and KAFKA_SASL_* when that Kafka
authenticates); testcontainers when a Docker engine answers; else the project's local stack
(deploy/local/stack.sh), started if it is not running, where the tests act as its `admin`
principal (their topics carry a random prefix that no service principal is granted).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aftersales_runtime.kafka_access import KafkaAccess, kafka_client_options


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
    # KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*: who the tests are to Kafka (empty: PLAINTEXT)
    kafka_credentials: Mapping[str, str] = field(default_factory=dict)

    def kafka_env(self) -> dict[str, str]:
        """Kafka's settings as environment variables (for services under test)."""
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap_servers, **self.kafka_credentials}

    def kafka_options(self) -> dict[str, Any]:
        """Keyword arguments for an aiokafka client of the tests."""
        return kafka_client_options(self.kafka_env())


KAFKA_CREDENTIALS = (
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
)


def stack_state_dir() -> Path:
    """Where stack.sh keeps data, logs and secrets (its STACK_STATE_DIR)."""
    if os.environ.get("STACK_STATE_DIR"):
        return Path(os.environ["STACK_STATE_DIR"])
    return Path(os.environ.get("STACK_CACHE_DIR") or _repo() / ".cache") / "stack"


def local_stack_kafka_env(principal: str) -> dict[str, str]:
    """The local stack's credentials of one principal (admin, dms, intake, …) as environment
    variables: KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, _USERNAME, _PASSWORD."""
    path = stack_state_dir() / "secrets" / f"kafka-{principal}.env"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: `make stack-up` creates it")
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def docker_engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def tool_kafka_env(bootstrap: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Kafka's settings for a benchmark or tool: the environment's credentials when it has them,
    else the local stack's admin (when that stack has made its secrets), else none (PLAINTEXT)."""
    env = os.environ if env is None else env
    credentials = {k: v for k, v in env.items() if k in KAFKA_CREDENTIALS and v}
    if not credentials and (stack_state_dir() / "secrets" / "kafka-admin.env").exists():
        credentials = local_stack_kafka_env("admin")
    return {**credentials, "KAFKA_BOOTSTRAP_SERVERS": bootstrap}


def tool_kafka_options(bootstrap: str) -> dict[str, Any]:
    """`kafka_client_options` of `tool_kafka_env(bootstrap)`: for a benchmark's aiokafka client."""
    return kafka_client_options(tool_kafka_env(bootstrap))


def checkout_kafka() -> str:
    """The Kafka a benchmark or tool uses: `KAFKA_BOOTSTRAP_SERVERS` when set, else this
    checkout's local stack (`KAFKA_PORT`). Several stacks may run on one machine, and a benchmark
    must never load another's database."""
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or (
        f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}"
    )


def checkout_mongodb_url() -> str:
    """The MongoDB a benchmark or tool uses: `MONGODB_URL` when set, else this checkout's local
    stack (`MONGODB_PORT`); see `checkout_kafka`."""
    return os.environ.get("MONGODB_URL") or (
        f"mongodb://127.0.0.1:{os.environ.get('MONGODB_PORT', '27017')}/"
    )


def start_local_stack() -> Stack:
    subprocess.run(["bash", str(_repo() / "deploy/local/stack.sh"), "up"], check=True)
    kafka_port = os.environ.get("KAFKA_PORT", "9092")
    mongo_port = os.environ.get("MONGODB_PORT", "27017")
    return Stack(
        f"127.0.0.1:{kafka_port}",
        f"mongodb://127.0.0.1:{mongo_port}/",
        "local",
        local_stack_kafka_env("admin"),
    )


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
        KafkaAccess.from_env(env)  # incomplete SASL settings fail here, not in the first test
        credentials = {k: v for k, v in env.items() if k in KAFKA_CREDENTIALS and v}
        return (
            Stack(env["KAFKA_BOOTSTRAP_SERVERS"], env["MONGODB_URL"], "env", credentials),
            lambda: None,
        )
    if docker_available():
        return start_testcontainers()
    return local(), lambda: None  # the local stack outlives the run; `make stack-down` stops it
