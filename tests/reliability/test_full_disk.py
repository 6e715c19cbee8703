"""A full disk under FerretDB while work flows (issue 18, item 3): a FerretDB of its own on a
small tmpfs, filled up between two bursts of work orders. The writers must say so, nothing may be
acknowledged (HTTP answer, committed Kafka offset) that was not stored, and when space is freed
the flow must resume by itself: every work order stored and planned once, nothing parked."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from urllib.parse import urlparse

import pytest
from aftersales_contracts.topics import DEAD_LETTER, DMS_WORKORDER_CLOSED
from aftersales_runtime.testing import Stack

from deploy.local.services import REPO
from tests.reliability.checker import count_intake_and_plans
from tests.reliability.disk import can_mount, small_disk
from tests.reliability.harness import converge
from tests.reliability.pipeline import isolated_pipeline, port_offset
from tests.reliability.workload import DmsProducer, Workload, make_workload

pytestmark = [
    pytest.mark.stack,
    pytest.mark.e2e,
    pytest.mark.timeout(600),
    pytest.mark.skipif(not can_mount(), reason="needs root (mount) and the stack's FerretDB build"),
]
FULL_FOR_SECONDS = 10
DISK_FULL = re.compile(r"disk is full|no space left|SQLITE_FULL", re.IGNORECASE)


async def test_a_full_disk_stops_the_writers_without_losing_or_acknowledging_anything(stack):
    # Not under pytest's tmp_path: its old folders are deleted while others test, and the logs
    # of this run are the evidence when it fails.
    base = REPO / ".cache" / "reliability" / f"full-disk-{time.strftime('%Y%m%d-%H%M%S')}"
    everything = make_workload(31)
    before, during, by_http = (
        everything.orders[:10],
        everything.orders[10:30],
        everything.orders[30],
    )
    port = (urlparse(stack.mongodb_url).port or 27017) + 1
    with small_disk(base / "disk", port) as disk:
        small = Stack(
            stack.kafka_bootstrap_servers, disk.mongodb_url, "local", stack.kafka_credentials
        )
        async with isolated_pipeline(small, base / "run", offset=port_offset() + 20) as p:
            dms = DmsProducer(p.kafka, p.topic(DMS_WORKORDER_CLOSED))
            await dms.publish(before, rate=20)
            first, _ = await converge(
                lambda: count_intake_and_plans(p.api, Workload(before)), 120, "planned"
            )
            used = disk.used_bytes()
            filled = await asyncio.to_thread(disk.fill)
            print(
                f"disk: FerretDB's files took {used / 2**20:.1f} MiB for {len(before)} work "
                f"orders; filled with {filled / 2**20:.1f} MiB, {disk.free_bytes()} bytes free"
            )

            await dms.publish(during, rate=20)
            answer = await p.api.call("intake", "POST", "/v1/dms/work-orders", json=by_http.payload)
            await asyncio.sleep(FULL_FOR_SECONDS)
            while_full = await count_intake_and_plans(p.api, Workload(during))
            lag = await p.lag()
            committed = len(before) + len(during) - lag["intake"]
            stored_while_full = len(before) + while_full.stages["work orders"].found
            http_stored_while_full = await p.api.vehicle(by_http.dealer, by_http.vin) is not None

            disk.free()
            freed_at = time.monotonic()
            # The DMS's HTTP client sends again what was not acknowledged, as it should.
            retried = answer
            while retried.status_code >= 300 and time.monotonic() - freed_at < 30:
                await asyncio.sleep(1)
                retried = await p.api.call(
                    "intake", "POST", "/v1/dms/work-orders", json=by_http.payload
                )
            after, converged_at = await converge(
                lambda: count_intake_and_plans(p.api, everything), 30, "work orders", "planned"
            )
            await dms.close()
            parked = Counter(
                f"{h['dlq-service']} {h['dlq-error-type']}: {h['dlq-error'][:90]}"
                for h in (
                    {k: v.decode() for k, v in r.headers}
                    for r in await p.read_topic(p.topic(DEAD_LETTER))
                )
            )
            # Not by itself, then: the parked ones replayed by hand, to show nothing is lost.
            for service in sorted({reason.split()[0] for reason in parked}):
                await asyncio.to_thread(
                    subprocess.run,
                    [
                        *(sys.executable, "-m", "aftersales_runtime.deadletter", "replay"),
                        *("--service", service, "--bootstrap", p.bootstrap),
                        *("--topic-prefix", p.topic_prefix),
                    ],
                    check=True,
                    capture_output=True,
                    env={**os.environ, **p.stack.kafka_env()},
                )
            replayed, _ = await converge(
                lambda: count_intake_and_plans(p.api, everything), 60, "work orders", "planned"
            )
            logs = {
                name: sum(bool(DISK_FULL.search(line)) for line in process.log_path.open())
                for name, process in p.fleet.processes.items()
            }

    print(f"before the fill: {first.summary() if first else '-'}")
    print(
        f"while full ({FULL_FOR_SECONDS}s): published {len(before) + len(during)}, stored "
        f"{stored_while_full}, intake offsets committed {committed}; HTTP POST answered "
        f"{answer.status_code} {answer.text[:160]!r} (stored: {http_stored_while_full}; sent "
        f"again after the freeing: {retried.status_code})"
    )
    print(f"log lines naming the full disk, per service: {json.dumps(logs)}")
    print(
        f"after freeing: {after.summary() if after else '-'}; resumed in "
        f"{converged_at - freed_at:.1f}s; parked {sum(parked.values())}; logs under {base}"
    )
    for reason, count in parked.items():
        print(f"  parked {count:>3} x {reason!r}")
    print(f"after replaying the parked ones: {replayed.summary() if replayed else '-'}")
    assert committed <= stored_while_full, "offsets committed past what was stored"
    if answer.status_code < 300:
        body = answer.json()
        assert body["counts"]["accepted"] == 0 or http_stored_while_full, body
    assert sum(logs.values()) > 0, "no service said that the disk is full"
    assert after is not None
    assert after.complete(), after.summary()
    assert not parked, "work orders parked on the dead-letter topic instead of waiting for space"
