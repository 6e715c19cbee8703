"""`make run`: the whole system on this machine with demo data.

Starts the local stack (if it is not running), the five services as separate processes on a
controlled clock, feeds 60 generated work orders of 3 dealers settled over the last 5 days,
lets a demo agent answer a few of the due calls, and prints where to look. Ctrl-C stops what it
started.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aftersales_contracts.topics import DMS_WORKORDER_CLOSED
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.service import ensure_topics

from deploy.local.demo_data import demo_work_orders
from deploy.local.services import REPO, SERVICES, Fleet

KAFKA = "127.0.0.1:9092"
MONGODB = "mongodb://127.0.0.1:27017/"
DEMO_DIR = REPO / ".cache" / "demo"
TOPIC_PREFIX = "demo."
DEALERS = ["dealer-sz-001", "dealer-gz-003", "dealer-bj-002"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def stack_running() -> bool:
    probe = REPO / "deploy/local/probe.py"
    return (
        subprocess.run([sys.executable, str(probe), "kafka", "9092"], check=False).returncode == 0
    )


def http(method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def feed(clock: ControlledClock) -> int:
    from aiokafka import AIOKafkaProducer

    topic = TOPIC_PREFIX + DMS_WORKORDER_CLOSED
    await ensure_topics(KAFKA, [topic])
    start = clock.now().astimezone(SHANGHAI).replace(tzinfo=None) - timedelta(days=5)
    orders = list(demo_work_orders(60, DEALERS, start, days=5, seed=int(start.strftime("%Y%m%d"))))
    producer = AIOKafkaProducer(bootstrap_servers=KAFKA, enable_idempotence=True)
    await producer.start()
    try:
        for order in orders:
            await producer.send(
                topic,
                json.dumps(order, ensure_ascii=False).encode(),
                key=order["dealer_id"].encode(),
            )
        await producer.flush()
    finally:
        await producer.stop()
    return len(orders)


def answer_some_calls(fleet: Fleet, wanted: int = 12) -> int:
    """A demo agent works the queues: mostly happy customers, a few unhappy ones."""
    rng = random.Random(3)
    answered = 0
    contact = fleet["contact"].url
    deadline = time.monotonic() + 30
    while answered < wanted and time.monotonic() < deadline:
        dealer = DEALERS[answered % len(DEALERS)]
        status, task = http(
            "POST", f"{contact}/v1/dealers/{dealer}/tasks/claim", {"agent_id": "demo-agent"}
        )
        if status == 204:
            time.sleep(1)
            continue
        if status != 200:
            print(f"  claim answered {status}: {task}")
            return answered
        base = rng.choice([10, 9, 9, 8, 6, 4])
        scores = {
            item: max(0, min(10, base + rng.choice([0, 0, 1, -1])))
            for item in ["attitude", "quality", "charges", "timeliness", "environment"]
        }
        scores["overall"] = base
        body = {
            "agent_id": "demo-agent",
            "outcome": "reached",
            "scores": scores,
            "comment": "等待时间有点长" if base < 8 else "服务很好",
        }
        status, _ = http("POST", f"{contact}/v1/tasks/{task['task_id']}/result", body)
        answered += status == 200
    return answered


def main() -> None:
    started_stack = not stack_running()
    subprocess.run(["bash", str(REPO / "deploy/local/stack.sh"), "up"], check=True)
    clock = ControlledClock(DEMO_DIR / "clock.json")
    if not clock.path.exists():
        clock.write_offset(timedelta(0))
    fleet = Fleet.configure(
        kafka=KAFKA,
        mongodb_url=MONGODB,
        clock_file=clock.path,
        log_dir=DEMO_DIR / "logs",
        topic_prefix=TOPIC_PREFIX,
        database_prefix="demo",
    )
    began = time.monotonic()
    try:
        fleet.start()
        print(
            f"services: ready in {time.monotonic() - began:.1f}s "
            f"({', '.join(f'{n} :{p}' for n, p in SERVICES.items())})"
        )
        fed = asyncio.run(feed(clock))
        print(
            f"demo: published {fed} work orders of {len(DEALERS)} dealers to "
            f"{TOPIC_PREFIX}{DMS_WORKORDER_CLOSED}"
        )
        answered = answer_some_calls(fleet)
        print(f"demo: a demo agent answered {answered} due calls")
        month = clock.now().astimezone(SHANGHAI).strftime("%Y-%m")
        dealer = DEALERS[0]
        print(f"""
Where to look (clock now {clock.now().astimezone(SHANGHAI):%Y-%m-%d %H:%M} Asia/Shanghai):
  agent queue     curl -X POST {fleet["contact"].url}/v1/dealers/{dealer}/tasks/claim \\
                       -H 'Content-Type: application/json' -d '{{"agent_id": "agent-1"}}'
  open tasks      {fleet["contact"].url}/v1/dealers/{dealer}/tasks?state=open
  complaints      {fleet["complaints"].url}/v1/dealers/{dealer}/complaints
  monthly report  {fleet["reporting"].url}/v1/dealers/{dealer}/reports/monthly?month={month}
  API docs        http://127.0.0.1:<port>/docs for each service; logs in .cache/demo/logs/
  move time       .venv/bin/python -m aftersales_runtime.clock \\
                       --file {clock.path.relative_to(REPO)} advance 4d

Ctrl-C stops the services{" and the stack" if started_stack else ""}.""")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping…")
        fleet.stop()
        if started_stack:
            subprocess.run(["bash", str(REPO / "deploy/local/stack.sh"), "down"], check=False)


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored (background)
    main()
