"""Fixtures every test tier shares: where Kafka and MongoDB are, and a clean space per test.

One fixture decides where the real components come from, in this order (ARCHITECTURE: Kafka):
1. `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URL` from the environment, when both are set;
2. testcontainers, when a Docker engine answers;
3. the project's local stack (deploy/local/stack.sh), started if it is not running.
Each test then gets its own topic prefix and database name, removed afterwards.

Services under test trust a key pair made for the test session (`tokens`): tests call the HTTP
APIs with tokens it mints, as the identity provider would issue them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aftersales_runtime.auth.issuer import ensure_key_pair, load_private_key, mint
from aftersales_runtime.settings import AuthSettings
from aftersales_runtime.testing import Stack, resolve_stack


@dataclass(frozen=True)
class Tokens:
    """The test session's issuer: `tokens.header("agent", dealers=["dealer-sz-001"])`."""

    private_key_file: Path
    public_key_file: Path

    def mint(
        self,
        *roles: str,
        dealers: Iterable[str] = ("dealer-sz-001",),
        oems: Iterable[str] = (),
        sub: str | None = None,
        ttl: timedelta = timedelta(hours=1),
        now: datetime | None = None,
    ) -> str:
        return mint(
            load_private_key(self.private_key_file),
            sub=sub or f"{roles[0]}-test",
            roles=roles,
            dealers=dealers,
            oems=oems,
            ttl=ttl,
            now=now,
        )

    def header(self, *roles: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(*roles, **claims)}"}

    def auth_settings(self) -> AuthSettings:
        return AuthSettings(public_key_file=self.public_key_file)


@pytest.fixture(scope="session")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Tokens:
    private, public = ensure_key_pair(tmp_path_factory.mktemp("auth"))
    return Tokens(private, public)


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
    auth_public_key_file: Path

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def service_env(self, stack: Stack) -> dict[str, str]:
        return {
            **stack.kafka_env(),
            "MONGODB_URL": stack.mongodb_url,
            "AFTERSALES_TOPIC_PREFIX": self.topic_prefix,
            "AFTERSALES_ENVIRONMENT": "test",
            "AFTERSALES_AUTH_PUBLIC_KEY_FILE": str(self.auth_public_key_file),
        }


async def _delete_topics(kafka: dict[str, Any], prefix: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()


@pytest.fixture
async def isolation(stack: Stack, tokens: Tokens) -> AsyncIterator[Isolation]:
    from pymongo import AsyncMongoClient

    token = uuid.uuid4().hex[:10]
    space = Isolation(f"t{token}.", f"t_{token}", tokens.public_key_file)
    yield space
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongodb_url)
    try:
        for name in await client.list_database_names():
            if name.startswith(space.database):
                await client.drop_database(name)
    finally:
        await client.close()
    await _delete_topics(stack.kafka_options(), space.topic_prefix)


REPO = Path(__file__).resolve().parent
SettingsT = TypeVar("SettingsT")


@pytest.fixture
def service_settings(stack: Stack, isolation: Isolation, tokens: Tokens) -> Callable[..., Any]:
    """Settings of a service under test, in this test's own topics and database:
    `service_settings(ContactSettings, lease_seconds=60)`."""

    def make(settings_type: type[SettingsT], **overrides: Any) -> SettingsT:
        values: dict[str, Any] = {
            **stack.kafka_env(),  # the tests' principal (admin on the local stack)
            "mongodb_url": stack.mongodb_url,
            "mongodb_database": isolation.database,
            "topic_prefix": isolation.topic_prefix,
            "environment": "test",
            "retry_backoff_seconds": 0.01,
            "dealers_file": REPO / "deploy/local/dealers.json",
            "auth": tokens.auth_settings(),
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


@pytest.fixture
def fleet_of_this_test(stack: Stack, isolation: Isolation, tmp_path: Path) -> Callable[..., Any]:
    """The five services as processes in this test's topics and database, trusting its tokens:
    `fleet_of_this_test(clock, port_shift=10, LOG_LEVEL="DEBUG")` (not started)."""
    from deploy.local.services import Fleet

    def make(clock: Any, port_shift: int = 0, **extra_env: str) -> Fleet:
        return Fleet.configure(
            kafka=stack.kafka_env(),
            mongodb_url=stack.mongodb_url,
            clock_file=clock.path,
            log_dir=tmp_path / "logs",
            topic_prefix=isolation.topic_prefix,
            database_prefix=isolation.database,
            environment="test",
            # Several checkouts may test on one machine at once: each sets its own offset.
            port_offset=int(os.environ.get("AFTERSALES_TEST_PORT_OFFSET", "100")) + port_shift,
            extra_env={
                "AFTERSALES_AUTH_PUBLIC_KEY_FILE": str(isolation.auth_public_key_file),
                **extra_env,
            },
        )

    return make
