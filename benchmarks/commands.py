"""The MongoDB commands each service process sent during a benchmark's phase, read from the
services' `/metrics` (`aftersales_mongodb_commands_total`, `..._documents_total`): on FerretDB,
what its CPU follows. Printed per unit of work, the largest first."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from prometheus_client.parser import text_string_to_metric_families

Key = tuple[str, str, str]  # service, command, collection
WANTED = {"aftersales_mongodb_commands_total": 0, "aftersales_mongodb_documents_total": 1}


async def mongodb_counts(
    http: httpx.AsyncClient, urls: Mapping[str, str]
) -> dict[Key, list[float]]:
    """(commands, documents) so far per service, command and collection."""
    counts: dict[Key, list[float]] = {}
    for service, url in urls.items():
        answer = await http.get(f"{url}/metrics")
        answer.raise_for_status()
        for family in text_string_to_metric_families(answer.text):
            for sample in family.samples:
                if sample.name in WANTED:
                    key = (service, sample.labels["command"], sample.labels["collection"])
                    counts.setdefault(key, [0.0, 0.0])[WANTED[sample.name]] += sample.value
    return counts


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
