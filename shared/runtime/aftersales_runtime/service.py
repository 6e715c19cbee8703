"""The composition of one service process: settings → clock, logs, Kafka, MongoDB, HTTP.

Each service's `app.py` builds a `Runtime`, registers its subscribers on `runtime.broker`, and
calls `runtime.http_app(...)` to get the FastAPI application uvicorn serves. The lifespan starts
MongoDB, the topics, the broker and the service's background tasks, and stops them in reverse:
the broker's stop waits for the message in flight (graceful shutdown).
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Mapping
from contextlib import asynccontextmanager, suppress
from functools import cached_property
from typing import Any

from aftersales_contracts.envelope import Event
from aftersales_contracts.topics import DEAD_LETTER
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from faststream import FastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.specification import AsyncAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from aftersales_runtime.auth import TokenVerifier
from aftersales_runtime.clock import Clock, clock_from_settings
from aftersales_runtime.deadletter import DEAD_LETTER_MAX_BYTES, DeadLetterMiddleware
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.kafka import EventPublishers, make_broker
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.limits import BodyLimit
from aftersales_runtime.logs import configure_logging
from aftersales_runtime.metrics import HttpMetrics, ServiceMetrics
from aftersales_runtime.mongo import connect
from aftersales_runtime.problems import document_problems, install_problem_handlers
from aftersales_runtime.settings import ServiceSettings
from aftersales_runtime.tracing import tracer_provider

Hook = Callable[[], Awaitable[None]]


def _topic_configs(topic: str) -> dict[str, str]:
    if topic.endswith(DEAD_LETTER):
        return {"max.message.bytes": str(DEAD_LETTER_MAX_BYTES)}
    return {}


async def ensure_topics(
    kafka: Mapping[str, Any], topics: Iterable[str], partitions: int = 3
) -> None:
    """Create the topics a service uses if they are missing (idempotent); `kafka` is
    `kafka_client_options(...)` (the principal needs Create on them: see the stack's ACLs)."""
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(t, partitions, 1, topic_configs=_topic_configs(t))
            for t in sorted(set(topics) - existing)
        ]
        if missing:
            with suppress(TopicAlreadyExistsError):  # another service created it in between
                await admin.create_topics(missing)
    finally:
        await admin.close()


class Runtime:
    def __init__(
        self,
        service: str,
        settings: ServiceSettings,
        clock: Clock | None = None,
        broker: KafkaBroker | None = None,
        dealers: DealerDirectory | None = None,
    ) -> None:
        self.service = service
        if dealers is not None:
            self.dealers = dealers  # tests bring their own directory
        self.settings = settings
        self.logger = configure_logging(service, settings.log_level)
        self.clock = clock or clock_from_settings(settings)
        self.broker = broker or make_broker(settings, service, self.logger)
        self.version = settings.version or _installed_version(service)
        self.metrics = ServiceMetrics(service, self.version, settings.revision)
        self.mongo: AsyncMongoClient[dict[str, Any]] = connect(
            settings.mongodb_url, service, [self.metrics.mongodb]
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.mongo[settings.mongodb_database]
        self.topics: set[str] = {settings.topic(DEAD_LETTER)}
        self.events = EventPublishers(self.broker, settings)
        self._on_start: list[Hook] = []
        self._on_stop: list[Hook] = []
        self._background: list[Callable[[], Coroutine[Any, Any, None]]] = []
        self._tasks: list[asyncio.Task[None]] = []
        self.started = False
        self._observe(self.broker)

    def _observe(self, broker: KafkaBroker) -> None:
        """Metrics and traces on every message: outermost, so they see each message once."""
        broker.insert_middleware(self.metrics.kafka)
        tracing = tracer_provider(self.settings.tracing, self.service, self.version)
        if tracing is not None:
            broker.insert_middleware(KafkaTelemetryMiddleware(tracer_provider=tracing))
            self.on_stop(_async(tracing.shutdown))  # flushes what is still buffered
        with suppress(LookupError):  # a test's bare broker has no dead-letter topic
            DeadLetterMiddleware.of(broker).on_park.append(self.metrics.count_parked)
        self.metrics.watch_consumer_lag(broker)
        self.events.on_publish.append(self.metrics.count_event)

    @cached_property
    def dealers(self) -> DealerDirectory:
        """The dealer directory (ids, time zones, per-service settings), loaded once."""
        return DealerDirectory.load(self.settings.dealers_file)

    def uses_topics(self, *names: str) -> None:
        self.topics.update(self.settings.topic(n) for n in names)

    def produces(self, *event_types: type[Event]) -> None:
        """Declare the contract events this service publishes (topics, AsyncAPI document)."""
        self.topics.update(self.events.declare(*event_types))

    async def publish(self, event: Event) -> None:
        await self.events.publish(event)

    def asyncapi_app(self) -> FastStream:
        """The FastStream app `faststream docs gen` reads to write the AsyncAPI document."""
        return FastStream(
            self.broker,
            specification=AsyncAPI(title=f"aftersales {self.service}", version="1.0.0"),
        )

    def on_start(self, hook: Hook) -> Hook:
        self._on_start.append(hook)
        return hook

    def on_stop(self, hook: Hook) -> Hook:
        self._on_stop.append(hook)
        return hook

    def background(
        self, loop: Callable[[], Coroutine[Any, Any, None]]
    ) -> Callable[[], Coroutine[Any, Any, None]]:
        """A coroutine that runs for the life of the process (e.g. a dispatcher loop)."""
        self._background.append(loop)
        return loop

    async def start(self) -> None:
        await self.db.command("ping")
        if self.topics:
            await ensure_topics(
                kafka_client_options(self.settings), self.topics, self.settings.topic_partitions
            )
        for hook in self._on_start:
            await hook()
        await self.broker.start()
        self._tasks = [asyncio.create_task(loop()) for loop in self._background]
        self.started = True
        self.logger.info(
            "service started",
            extra={
                "clock": self.settings.clock.value,
                "environment": self.settings.environment.value,
            },
        )

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.broker.stop()
        for hook in reversed(self._on_stop):
            await hook()
        await self.mongo.close()
        self.started = False
        self.logger.info("service stopped")

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.wait_for(self.db.command("ping"), 2)
            checks["mongodb"] = "ok"
        except Exception as error:
            checks["mongodb"] = f"unavailable: {type(error).__name__}"
        try:
            ok = await self.broker.ping(timeout=2)
            checks["kafka"] = "ok" if ok else "unavailable"
        except Exception as error:
            checks["kafka"] = f"unavailable: {type(error).__name__}"
        return checks

    def health_router(self) -> APIRouter:
        router = APIRouter(tags=["health"])

        @router.get("/health/live")
        async def live() -> dict[str, str]:
            return {
                "status": "ok",
                "service": self.service,
                "version": self.version,
                "revision": self.settings.revision,
            }

        @router.get(
            "/metrics",
            response_class=Response,
            responses={
                200: {
                    "description": "Prometheus text exposition format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        )
        async def metrics() -> Response:
            """Prometheus text format; open like the health routes (no personal data)."""
            body, content_type = await self.metrics.exposition()
            return Response(body, media_type=content_type)

        @router.get("/health/ready")
        async def ready() -> JSONResponse:
            checks = await self.readiness()
            ok = self.started and all(v == "ok" for v in checks.values())
            return JSONResponse(
                {"status": "ok" if ok else "unavailable", **checks}, status_code=200 if ok else 503
            )

        return router

    def http_app(self, *routers: APIRouter, title: str | None = None) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            verifier.ensure_configured()  # no way to check tokens: refuse to start
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        verifier = TokenVerifier(self.settings.auth, self.dealers)
        app = FastAPI(title=title or f"aftersales {self.service}", lifespan=lifespan)
        app.state.token_verifier = verifier  # read by every route's `allow(...)` (auth.guard)
        app.add_middleware(BodyLimit, max_bytes=self.settings.http_max_body_bytes)
        app.add_middleware(HttpMetrics, metrics=self.metrics)
        app.include_router(self.health_router())
        for router in routers:
            app.include_router(router)
        install_problem_handlers(
            app,
            self.logger,
            deadline_seconds=self.settings.http_deadline_seconds,
            retry_after=self.settings.http_retry_after_seconds,
        )
        document_problems(app)
        return app


def _installed_version(service: str) -> str:
    try:
        return importlib.metadata.version(f"aftersales-{service}")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _async(stop: Callable[[], None]) -> Hook:
    async def hook() -> None:
        stop()

    return hook


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run the service's HTTP app (and with it the consumers) until SIGTERM/SIGINT."""
    import uvicorn

    from aftersales_runtime.httpserver import BoundedHttpToolsProtocol

    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,
        timeout_graceful_shutdown=30,
        # A request that arrives while the one before it on the connection is answered starts
        # from inside that one: without a fresh context it would inherit its MongoDB deadline
        # (pymongo.timeout) and the rest of its context (tests/api/test_keep_alive.py).
        reset_contextvars=True,
        # asyncio's own loop, whatever else is installed: on uvloop with httptools the contact
        # benchmark's service spent less CPU per task (9.75 -> 8.65 ms, means of six rounds), but
        # the pipeline benchmark got slower (37.7 -> 35.0 work orders/s, 20,000 work orders),
        # Kafka's broker spending about twice the CPU per work order (0.37 -> 0.80 ms) and per
        # answer (2.15 -> 3.24 ms): smaller produce and fetch requests, more of them.
        loop="asyncio",
        # httptools (C) parses HTTP instead of h11 (Python): in alternating pipeline runs of
        # 8,000 work orders, the contact service spent 6.32 and 6.76 ms of CPU per answer
        # against 6.64 and 7.06 with h11, at 81.2 and 77.1 work orders/s against 71.1 and 75.1.
        # With h11's bound on a request's head, which uvicorn's httptools protocol lacks.
        http=BoundedHttpToolsProtocol,
    )


logging.getLogger("aiokafka.consumer.group_coordinator").setLevel(logging.ERROR)
