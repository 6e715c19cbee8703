"""The Grafana dashboard (deploy/grafana) asks only for series the services expose: every
`aftersales_*` name in its queries is registered by the runtime or by a service's own hook."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aftersales_contact.app import build as build_contact
from aftersales_contact.settings import ContactSettings
from aftersales_scheduler.app import build as build_scheduler
from aftersales_scheduler.settings import SchedulerSettings

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy/grafana/dashboards/aftersales.json"
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def exposed_names() -> set[str]:
    names = set()
    for runtime in (
        build_scheduler(SchedulerSettings()).runtime,
        build_contact(ContactSettings()).runtime,
    ):
        for metric in runtime.metrics.registry.collect():
            names.add(metric.name)
            names.update(sample.name for sample in metric.samples)
    return names


def queried_names() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert exprs, "the dashboard has no query"
    return {name for expr in exprs for name in re.findall(r"aftersales_[a-z_]+", expr)}


def test_every_series_the_dashboard_queries_is_exposed():
    exposed = exposed_names()
    missing = {
        name
        for name in queried_names()
        if name not in exposed and not any(name.removesuffix(s) in exposed for s in SUFFIXES)
    }
    assert missing == set()
