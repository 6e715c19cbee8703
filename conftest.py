"""Fixtures every test tier shares: where Kafka and MongoDB are, and a clean space per test.

One fixture decides where the real components come from, in this order (ARCHITECTURE: Kafka):
1. `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URL` from the environment, when both are set;
2. testcontainers, when a Docker engine answers;
3. the project's local stack (deploy/local/stack.sh), started if it is not running.
Each test then gets its own topic prefix and database name, removed afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aftersales_runtime.testing import Stack, resolve_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    endpoints, stop = resolve_stack(os.environ)
    try:
        yield endpoints
    finally:
        stop()


@dataclass(frozen=True)
class Isolation:
    """A test's own space: every topic it touches starts with `topic_prefix`."""

    topic_prefix: str
    database: str

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def service_env(self, stack: Stack) -> dict[str, str]:
        return {
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap_servers,
            "MONGODB_URL": stack.mongodb_url,
            "AFTERSALES_TOPIC_PREFIX": self.topic_prefix,
            "AFTERSALES_ENVIRONMENT": "test",
        }


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


@pytest.fixture
async def isolation(stack: Stack) -> AsyncIterator[Isolation]:
    from pymongo import AsyncMongoClient

    token = uuid.uuid4().hex[:10]
    space = Isolation(topic_prefix=f"t{token}.", database=f"t_{token}")
    yield space
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url)
    try:
        for name in await client.list_database_names():
            if name.startswith(space.database):
                await client.drop_database(name)
    finally:
        await client.close()
    await _delete_topics(stack.kafka_bootstrap_servers, space.topic_prefix)


REPO = Path(__file__).resolve().parent
SettingsT = TypeVar("SettingsT")


@pytest.fixture
def service_settings(stack: Stack, isolation: Isolation) -> Callable[..., Any]:
    """Settings of a service under test, in this test's own topics and database:
    `service_settings(ContactSettings, lease_seconds=60)`."""

    def make(settings_type: type[SettingsT], **overrides: Any) -> SettingsT:
        values: dict[str, Any] = {
            "kafka_bootstrap_servers": stack.kafka_bootstrap_servers,
            "mongodb_url": stack.mongodb_url,
            "mongodb_database": isolation.database,
            "topic_prefix": isolation.topic_prefix,
            "environment": "test",
            "retry_backoff_seconds": 0.01,
            "dealers_file": REPO / "deploy/local/dealers.json",
        }
        return settings_type(**(values | overrides))

    return make


@pytest.fixture
async def mongo_db(stack: Stack, isolation: Isolation) -> AsyncIterator[Any]:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url, tz_aware=True)
    try:
        yield client[isolation.database]
    finally:
        await client.close()
