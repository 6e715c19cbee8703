"""The MongoDB commands each service process sent during a benchmark's phase, read from the
services' `/metrics` (`aftersales_mongodb_commands_total`, `..._documents_total`, and the
driver's wait `..._command_duration_seconds`): on FerretDB, what its CPU follows. Printed per
unit of work, the longest waited first. And the batches each subscriber handled (FastStream's
`aftersales_received_messages_total` and `..._processed_messages_duration_seconds`): how many,
how full, how long each took."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp
from aftersales_runtime.metrics import (
    MONGODB_COMMAND_DURATION,
    MONGODB_COMMANDS,
    MONGODB_DOCUMENTS,
    PREFIX,
)
from prometheus_client import CollectorRegistry, Metric
from prometheus_client.parser import text_string_to_metric_families

Key = tuple[str, str, str]  # service, command, collection
WANTED = {
    f"{MONGODB_COMMANDS}_total": 0,
    f"{MONGODB_DOCUMENTS}_total": 1,
    f"{MONGODB_COMMAND_DURATION}_sum": 2,
}

Handler = tuple[str, str]  # service, topic
#: (records, batches, seconds) per handler: FastStream counts a batch's records as received and
#: times the handler once per batch.
BATCHES_WANTED = {
    f"{PREFIX}_received_messages_total": 0,
    f"{PREFIX}_received_processed_messages_duration_seconds_count": 1,
    f"{PREFIX}_received_processed_messages_duration_seconds_sum": 2,
}


async def _metrics(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(f"{url}/metrics") as answer:
        answer.raise_for_status()
        return await answer.text()


@dataclass
class Counts:
    """What the services' `/metrics` said at one moment: (commands, documents, seconds waited)
    per service, command and collection; (records, batches, seconds handling them) per service
    and topic consumed."""

    mongodb: dict[Key, list[float]] = field(default_factory=dict)
    batches: dict[Handler, list[float]] = field(default_factory=dict)


async def read_counts(http: aiohttp.ClientSession, urls: Mapping[str, str]) -> Counts:
    """The counts so far, one `/metrics` read per service."""
    counts = Counts()
    for service, url in urls.items():
        families = list(text_string_to_metric_families(await _metrics(http, url)))
        _add(counts.mongodb, service, families)
        counts.batches.update(batches_in(service, families))
    return counts


def batches_in(service: str, families: Iterable[Metric]) -> dict[Handler, list[float]]:
    """(records, batches, seconds) per topic in one process's metrics."""
    counts: dict[Handler, list[float]] = {}
    for family in families:
        for sample in family.samples:
            if sample.name in BATCHES_WANTED:
                figures = counts.setdefault((service, sample.labels["handler"]), [0.0, 0.0, 0.0])
                figures[BATCHES_WANTED[sample.name]] += sample.value
    return counts


def print_batches(
    phase: str,
    before: Mapping[Handler, list[float]],
    after: Mapping[Handler, list[float]],
    topics: Sequence[str],
) -> None:
    """Each service's batches of these topics during the phase: how many, the records in one
    on average and the ms one took (the handler's time, its waits on the database included)."""
    rows = []
    for (service, handler), now in after.items():
        topic = next((t for t in topics if handler.endswith(t)), None)  # the run's prefix off
        was = before.get((service, handler), [0.0, 0.0, 0.0])
        records, batches, seconds = (n - w for n, w in zip(now, was, strict=True))
        if topic and batches > 0:
            each = f"{records / batches:,.0f} records, {1000 * seconds / batches:,.0f} ms each"
            rows.append(f"{service} on {topic} {batches:,.0f} of {each}")
    if rows:
        print(f"    batches during {phase}: " + "; ".join(rows))


def registry_counts(registry: CollectorRegistry, process: str) -> dict[Key, list[float]]:
    """The same for a client in the benchmark's own process (`MongoCommandMetrics(registry)`
    among its event listeners)."""
    counts: dict[Key, list[float]] = {}
    _add(counts, process, registry.collect())
    return counts


def registry_seconds(registry: CollectorRegistry) -> dict[str, float]:
    """Seconds the driver waited on each command so far, by command (same client)."""
    seconds: dict[str, float] = {}
    for (_, command, _), (_, _, waited) in registry_counts(registry, "").items():
        seconds[command] = seconds.get(command, 0.0) + waited
    return seconds


def print_seconds(
    phase: str, before: Mapping[str, float], after: Mapping[str, float], count: int, unit: str
) -> None:
    spent = {c: 1000 * (s - before.get(c, 0.0)) / count for c, s in after.items()}
    rows = sorted(((c, ms) for c, ms in spent.items() if ms > 0), key=lambda row: -row[1])
    print(
        f"    ms waited on mongodb per {unit} during {phase}: {sum(spent.values()):.2f} in all; "
        + ", ".join(f"{c} {ms:.2f}" for c, ms in rows)
    )


def _add(counts: dict[Key, list[float]], process: str, families: Iterable[Metric]) -> None:
    for family in families:
        for sample in family.samples:
            if sample.name in WANTED:
                key = (process, sample.labels["command"], sample.labels["collection"])
                counts.setdefault(key, [0.0, 0.0, 0.0])[WANTED[sample.name]] += sample.value


def print_commands(
    phase: str,
    before: Mapping[Key, list[float]],
    after: Mapping[Key, list[float]],
    count: int,
    unit: str,
    top: int = 12,
) -> None:
    rows = []
    for key, now in after.items():
        was = before.get(key, [0.0, 0.0, 0.0])
        if now[0] - was[0] > 0:
            commands, documents, seconds = ((n - w) / count for n, w in zip(now, was, strict=True))
            rows.append((key, commands, documents, 1000 * seconds))
    rows.sort(key=lambda row: -row[3])
    total, waited = sum(row[1] for row in rows), sum(row[3] for row in rows)
    print(
        f"    mongodb commands per {unit} during {phase}: {total:.1f} in all, {waited:.2f} ms"
        " waited; the longest waited:"
    )
    services: dict[str, list[float]] = {}
    for (service, _, _), commands, _, ms in rows:
        summed = services.setdefault(service, [0.0, 0.0])
        summed[0], summed[1] = summed[0] + commands, summed[1] + ms
    if len(services) > 1:
        print(
            "      by service: "
            + ", ".join(f"{name} {c:.1f} ({ms:.2f} ms)" for name, (c, ms) in services.items())
        )
    for (service, command, collection), commands, documents, ms in rows[:top]:
        print(
            f"      {service:12s} {command:9s} {collection:18s} {commands:6.2f}"
            f" ({documents:.2f} docs) {ms:6.2f} ms"
        )
