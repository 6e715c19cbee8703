"""The MongoDB commands each service process sent during a benchmark's phase, read from the
services' `/metrics` (`aftersales_mongodb_commands_total`, `..._documents_total`, and the
driver's wait `..._command_duration_seconds`): on FerretDB, what its CPU follows. Printed per
unit of work, the longest waited first."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import aiohttp
from aftersales_runtime.metrics import MONGODB_COMMAND_DURATION, MONGODB_COMMANDS, MONGODB_DOCUMENTS
from prometheus_client import CollectorRegistry, Metric
from prometheus_client.parser import text_string_to_metric_families

Key = tuple[str, str, str]  # service, command, collection
WANTED = {
    f"{MONGODB_COMMANDS}_total": 0,
    f"{MONGODB_DOCUMENTS}_total": 1,
    f"{MONGODB_COMMAND_DURATION}_sum": 2,
}


async def mongodb_counts(
    http: aiohttp.ClientSession, urls: Mapping[str, str]
) -> dict[Key, list[float]]:
    """(commands, documents, seconds waited) so far per service, command and collection."""
    counts: dict[Key, list[float]] = {}
    for service, url in urls.items():
        async with http.get(f"{url}/metrics") as answer:
            answer.raise_for_status()
            text = await answer.text()
        _add(counts, service, text_string_to_metric_families(text))
    return counts


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
