"""Prometheus metrics of one service process, served at `GET /metrics` (open, like `/health/*`:
ARCHITECTURE, Security; scrape it from inside the cluster, it carries no personal data).

- Kafka: FastStream's Prometheus middleware counts messages received and published per topic
  (`aftersales_received_messages_total`, `aftersales_published_messages_total`) and times each
  handler (`aftersales_received_processed_messages_duration_seconds`);
- `aftersales_events_published_total` by event type and kind (complaints' SLA warnings and
  breaches are `ComplaintEvent` of kind `warning` and `breached`);
- `aftersales_messages_parked_total` per source topic and error type (the dead-letter topic);
- `aftersales_consumer_lag` per topic and partition this process is assigned (read on scrape);
- `aftersales_http_requests_total` and `aftersales_http_request_duration_seconds` by route
  template and status (the template, never the path: ids would make every request a series);
- `aftersales_build_info` with the version and git revision;
- `aftersales_mongodb_commands_total`, `aftersales_mongodb_documents_total` (documents
  inserted, statements updated or deleted, 1 per read) and
  `aftersales_mongodb_command_duration_seconds`, by command and collection: what the process
  asks of the database, which on FerretDB is what its CPU follows (PyMongo's command
  monitoring);
- a service's own figures through `gauge(...)` plus `on_scrape(...)` (e.g. timers due).

Each service process owns one registry (tests build several services in one process).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aftersales_contracts.envelope import Event
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pymongo import monitoring
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIX = "aftersales"
#: The names of `MongoCommandMetrics`' series (benchmarks read them back).
MONGODB_COMMANDS = f"{PREFIX}_mongodb_commands"
MONGODB_DOCUMENTS = f"{PREFIX}_mongodb_documents"
MONGODB_COMMAND_DURATION = f"{PREFIX}_mongodb_command_duration_seconds"
_log = logging.getLogger(__name__)
Refresh = Callable[[], Awaitable[None]]


class ServiceMetrics:
    def __init__(self, service: str, version: str, revision: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.kafka = KafkaPrometheusMiddleware(
            registry=self.registry, app_name=service, metrics_prefix=PREFIX
        )
        self.parked = Counter(
            f"{PREFIX}_messages_parked",
            "Messages parked on the dead-letter topic, by source topic and error type.",
            ["topic", "error_type"],
            registry=self.registry,
        )
        self.events_published = Counter(
            f"{PREFIX}_events_published",
            "Contract events published, by type and kind (a complaint's `kind`: warning and "
            "breached are the SLA's; a contact result's `outcome`).",
            ["event_type", "kind"],
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            f"{PREFIX}_consumer_lag",
            "Records not yet consumed (high watermark minus position) per assigned partition.",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            f"{PREFIX}_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "HTTP request duration by method and route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.mongodb = MongoCommandMetrics(self.registry)
        Gauge(
            f"{PREFIX}_build_info",
            "The service's version and git revision (value 1).",
            ["service", "version", "revision"],
            registry=self.registry,
        ).labels(service, version, revision).set(1)
        self._on_scrape: list[Refresh] = []

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        """A service's own gauge, `aftersales_<name>`; set it in an `on_scrape` refresh."""
        return Gauge(f"{PREFIX}_{name}", documentation, list(labels), registry=self.registry)

    def on_scrape(self, refresh: Refresh) -> Refresh:
        """Run `refresh` before each scrape (keep it cheap: `_id` lookups, counters)."""
        self._on_scrape.append(refresh)
        return refresh

    def count_event(self, event: Event) -> None:
        kind = getattr(event, "kind", None) or getattr(event, "outcome", None) or ""
        self.events_published.labels(type(event).__name__, str(kind)).inc()

    def count_parked(self, topic: str, error_type: str) -> None:
        self.parked.labels(topic, error_type).inc()

    async def exposition(self) -> tuple[bytes, str]:
        for refresh in self._on_scrape:
            try:
                await refresh()
            except Exception:  # a figure that cannot be read now must not hide the others
                _log.warning("a metric could not be read", exc_info=True)
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def watch_consumer_lag(self, broker: KafkaBroker) -> None:
        async def read_lag() -> None:
            self.consumer_lag.clear()
            for subscriber in broker.subscribers:
                consumer: Any = getattr(subscriber, "consumer", None)
                if consumer is None:
                    continue
                for partition in consumer.assignment():
                    highwater = consumer.highwater(partition)
                    if highwater is None:  # nothing fetched yet on this partition
                        continue
                    position = await consumer.position(partition)
                    self.consumer_lag.labels(partition.topic, str(partition.partition)).set(
                        max(highwater - position, 0)
                    )

        self.on_scrape(read_lag)


class HttpMetrics:
    """ASGI middleware: counts and times every HTTP request by its route template."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = str(scope.get("method", ""))
            self.metrics.http_requests.labels(method, route, str(status)).inc()
            self.metrics.http_duration.labels(method, route).observe(time.perf_counter() - started)


#: The statements a write command carries, by command name.
_STATEMENTS = {"insert": "documents", "update": "updates", "delete": "deletes"}


class MongoCommandMetrics(monitoring.CommandListener):
    """Counts and times the MongoDB commands of one client (pass it as an event listener)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.commands = Counter(
            MONGODB_COMMANDS,
            "MongoDB commands that succeeded or failed, by command and collection.",
            ["command", "collection"],
            registry=registry,
        )
        self.documents = Counter(
            MONGODB_DOCUMENTS,
            "Documents a command carried (inserted, statements updated or deleted, 1 per "
            "other command), by command and collection.",
            ["command", "collection"],
            registry=registry,
        )
        self.duration = Histogram(
            MONGODB_COMMAND_DURATION,
            "MongoDB command duration seen by the driver, by command and collection.",
            ["command", "collection"],
            registry=registry,
        )
        self._started: dict[int, tuple[str, str, int]] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = event.command
        collection = command.get(event.command_name)
        statements = command.get(_STATEMENTS.get(event.command_name, ""), None)
        self._started[event.request_id] = (
            event.command_name,
            collection if isinstance(collection, str) else "",
            len(statements) if isinstance(statements, list) else 1,
        )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finished(event.request_id, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._finished(event.request_id, event.duration_micros)

    def _finished(self, request_id: int, micros: int) -> None:
        found = self._started.pop(request_id, None)
        if found is None:
            return
        name, collection, documents = found
        self.commands.labels(name, collection).inc()
        self.documents.labels(name, collection).inc(documents)
        self.duration.labels(name, collection).observe(micros / 1_000_000)
