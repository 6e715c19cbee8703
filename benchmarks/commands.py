"""The MongoDB commands each service process sent during a benchmark's phase, read from the
services' `/metrics` (`aftersales_mongodb_commands_total`, `..._documents_total`): on FerretDB,
what its CPU follows. Printed per unit of work, the largest first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import httpx
from aftersales_runtime.metrics import MONGODB_COMMAND_DURATION, MONGODB_COMMANDS, MONGODB_DOCUMENTS
from prometheus_client import CollectorRegistry, Metric
from prometheus_client.parser import text_string_to_metric_families

Key = tuple[str, str, str]  # service, command, collection
WANTED = {f"{MONGODB_COMMANDS}_total": 0, f"{MONGODB_DOCUMENTS}_total": 1}


async def mongodb_counts(
    http: httpx.AsyncClient, urls: Mapping[str, str]
) -> dict[Key, list[float]]:
    """(commands, documents) so far per service, command and collection."""
    counts: dict[Key, list[float]] = {}
    for service, url in urls.items():
        answer = await http.get(f"{url}/metrics")
        answer.raise_for_status()
        _add(counts, service, text_string_to_metric_families(answer.text))
    return counts


def registry_counts(registry: CollectorRegistry, process: str) -> dict[Key, list[float]]:
    """The same for a client in the benchmark's own process (`MongoCommandMetrics(registry)`
    among its event listeners)."""
    counts: dict[Key, list[float]] = {}
    _add(counts, process, registry.collect())
    return counts


def registry_seconds(registry: CollectorRegistry) -> dict[str, float]:
    """Seconds the driver waited on each command so far, by command (same client)."""
    return {
        sample.labels["command"]: sample.value
        for family in registry.collect()
        for sample in family.samples
        if sample.name == f"{MONGODB_COMMAND_DURATION}_sum"
    }


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
                counts.setdefault(key, [0.0, 0.0])[WANTED[sample.name]] += sample.value


def print_commands(
    phase: str,
    before: Mapping[Key, list[float]],
    after: Mapping[Key, list[float]],
    count: int,
    unit: str,
    top: int = 12,
) -> None:
    rows = []
    for key, (commands, documents) in after.items():
        was = before.get(key, [0.0, 0.0])
        if commands - was[0] > 0:
            rows.append((key, (commands - was[0]) / count, (documents - was[1]) / count))
    rows.sort(key=lambda row: -row[1])
    total = sum(row[1] for row in rows)
    print(f"    mongodb commands per {unit} during {phase}: {total:.1f} in all; the most:")
    for (service, command, collection), commands, documents in rows[:top]:
        print(
            f"      {service:12s} {command:9s} {collection:18s} {commands:6.2f}"
            f" ({documents:.2f} docs)"
        )
