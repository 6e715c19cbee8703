"""`make run`: the whole system on this machine with demo data.

Starts the local stack (if it is not running), the five services as separate processes on a
controlled clock, feeds 60 generated work orders of 3 dealers settled over the last 5 days,
lets a demo agent answer a few of the due calls, and prints where to look and demo tokens (the
local issuer's, for an agent, a service manager, a cr_manager, a data steward and the DMS of each
dealer; also written to .cache/demo/tokens.sh). Ctrl-C stops what it started.
"""

from __future__ import annotations

import asyncio
import json
import os
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
from aftersales_runtime.auth.issuer import ensure_key_pair, load_private_key, mint
from aftersales_runtime.clock import ControlledClock
from aftersales_runtime.kafka_access import kafka_client_options
from aftersales_runtime.service import ensure_topics
from aftersales_runtime.testing import local_stack_kafka_env

from deploy.local.console import CONSOLE_PORT, console_process, demo_user_lines
from deploy.local.demo_data import demo_work_orders
from deploy.local.services import REPO, SERVICES, Fleet

KAFKA_PORT = os.environ.get("KAFKA_PORT", "9092")
KAFKA = f"127.0.0.1:{KAFKA_PORT}"
MONGODB = f"mongodb://127.0.0.1:{os.environ.get('MONGODB_PORT', '27017')}/"
SMSGATEWAY_PORT = os.environ.get("SMSGATEWAY_PORT", str(int(KAFKA_PORT) + 3))
DEMO_DIR = REPO / ".cache" / "demo"
AUTH_DIR = REPO / ".cache" / "auth"
DEMO_ROLES = ["agent", "service_manager", "cr_manager", "data_steward", "dms"]
TOPIC_PREFIX = "demo."
DEALERS = ["dealer-sz-001", "dealer-gz-003", "dealer-bj-002"]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def stack_running() -> bool:
    probe = REPO / "deploy/local/probe.py"
    return (
        subprocess.run([sys.executable, str(probe), "kafka", KAFKA_PORT], check=False).returncode
        == 0
    )


def demo_tokens() -> dict[tuple[str, str], str]:
    """(role, dealer) → a token of the local issuer, valid for 12 hours."""
    private, _ = ensure_key_pair(AUTH_DIR)
    key = load_private_key(private)
    return {
        (role, dealer): mint(
            key,
            sub=f"demo-{role.replace('_', '-')}@{dealer}",
            roles=[role],
            dealers=[dealer],
            ttl=timedelta(hours=12),
        )
        for dealer in DEALERS
        for role in DEMO_ROLES
    }


def token_variable(role: str, dealer: str) -> str:
    return f"TOKEN_{role}_{dealer.removeprefix('dealer-')}".upper().replace("-", "_")


def write_tokens(tokens: dict[tuple[str, str], str]) -> str:
    DEMO_DIR.mkdir(parents=True, exist_ok=True)
    lines = [f"export {token_variable(r, d)}={t}" for (r, d), t in tokens.items()]
    (DEMO_DIR / "tokens.sh").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return "\n".join(lines)


def http(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def kafka_env(principal: str) -> dict[str, str]:
    """The local stack's principal (each service its own; the demo DMS `dms`)."""
    return {"KAFKA_BOOTSTRAP_SERVERS": KAFKA, **local_stack_kafka_env(principal)}


async def feed(clock: ControlledClock) -> int:
    from aiokafka import AIOKafkaProducer

    topic = TOPIC_PREFIX + DMS_WORKORDER_CLOSED
    dms = kafka_client_options(kafka_env("dms"))  # the DMS may write its two topics, nothing else
    await ensure_topics(dms, [topic])
    start = clock.now().astimezone(SHANGHAI).replace(tzinfo=None) - timedelta(days=5)
    orders = list(demo_work_orders(60, DEALERS, start, days=5, seed=int(start.strftime("%Y%m%d"))))
    producer = AIOKafkaProducer(**dms, enable_idempotence=True)
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


def answer_some_calls(fleet: Fleet, tokens: dict[tuple[str, str], str], wanted: int = 12) -> int:
    """A demo agent of each dealer works its queue: mostly happy customers, a few unhappy ones."""
    rng = random.Random(3)
    answered = 0
    contact = fleet["contact"].url
    deadline = time.monotonic() + 30
    while answered < wanted and time.monotonic() < deadline:
        dealer = DEALERS[answered % len(DEALERS)]
        token = tokens["agent", dealer]
        status, task = http("POST", f"{contact}/v1/dealers/{dealer}/tasks/claim", token)
        if status == 204:
            time.sleep(1)
            continue
        if status != 200:
            print(f"  claim answered {status}: {task}")
            return answered
        base = rng.choice([10, 9, 9, 8, 6, 4])
        body = {"outcome": "reached", "comment": "等待时间有点长" if base < 8 else "服务很好"}
        for questionnaire in task["questionnaires"][:1]:  # the questions the task shows
            items = questionnaire["items"]
            body["scores"] = {
                item["id"]: base
                if item["id"] == "overall"
                else max(0, min(10, base + rng.choice([0, 0, 1, -1])))
                for item in items
                if item["kind"] == "score"
            }
            yes_no = {item["id"]: base >= 6 for item in items if item["kind"] == "yes_no"}
            if yes_no:
                body["yes_no"] = yes_no  # D16: e.g. fixed_first_time
        status, _ = http("POST", f"{contact}/v1/tasks/{task['task_id']}/result", token, body)
        answered += status == 200
    return answered


def sms_env() -> dict[str, str]:
    """Contact sends SMS through the Alibaba Cloud SDK to the local SMS gateway that
    `stack.sh up` started (issue 10.6); none when the gateway has no credentials yet."""
    secrets = REPO / ".cache/stack/secrets/smsgateway.env"
    if not secrets.exists():
        return {}
    values = dict(line.split("=", 1) for line in secrets.read_text().splitlines() if "=" in line)
    return {
        "CONTACT_SMS_PROVIDER": "alibaba",
        "CONTACT_SMS_ENDPOINT": f"127.0.0.1:{SMSGATEWAY_PORT}",
        "CONTACT_SMS_PROTOCOL": "http",
        "CONTACT_SMS_ACCESS_KEY_ID": values["SMSGATEWAY_ACCESS_KEY_ID"],
        "CONTACT_SMS_ACCESS_KEY_SECRET": values["SMSGATEWAY_ACCESS_KEY_SECRET"],
        "CONTACT_SMS_SIGN_NAME": "售后服务中心",
    }


def main() -> None:
    started_stack = not stack_running()
    subprocess.run(["bash", str(REPO / "deploy/local/stack.sh"), "up"], check=True)
    clock = ControlledClock(DEMO_DIR / "clock.json")
    if not clock.path.exists():
        clock.write_offset(timedelta(0))
    tokens = demo_tokens()
    _, public_key = ensure_key_pair(AUTH_DIR)
    fleet = Fleet.configure(
        kafka={"KAFKA_BOOTSTRAP_SERVERS": KAFKA},
        principals={name: kafka_env(name) for name in SERVICES},
        mongodb_url=MONGODB,
        clock_file=clock.path,
        log_dir=DEMO_DIR / "logs",
        topic_prefix=TOPIC_PREFIX,
        database_prefix="demo",
        extra_env={"AFTERSALES_AUTH_PUBLIC_KEY_FILE": str(public_key), **sms_env()},
    )
    console = console_process(
        fleet,
        port=CONSOLE_PORT,
        issuer_key_file=AUTH_DIR / "local-issuer.key.pem",
        clock_file=clock.path,
        log_dir=DEMO_DIR / "logs",
    )
    began = time.monotonic()
    try:
        fleet.start()
        console.start()
        console.wait_ready()
        print(
            f"services: ready in {time.monotonic() - began:.1f}s "
            f"({', '.join(f'{n} :{p}' for n, p in SERVICES.items())})"
        )
        fed = asyncio.run(feed(clock))
        print(
            f"demo: published {fed} work orders of {len(DEALERS)} dealers to "
            f"{TOPIC_PREFIX}{DMS_WORKORDER_CLOSED}"
        )
        answered = answer_some_calls(fleet, tokens)
        print(f"demo: a demo agent answered {answered} due calls")
        month = clock.now().astimezone(SHANGHAI).strftime("%Y-%m")
        dealer = DEALERS[0]
        exports = write_tokens(tokens)
        agent, manager, cr = (token_variable(r, dealer) for r in DEMO_ROLES[:3])
        users = "\n".join(demo_user_lines())
        print(f"""
Demo tokens (local issuer, 12 h; also in .cache/demo/tokens.sh: `source` it):
{exports}

Web console     {console.url}  (demo users, password "demo"):
{users}

Where to look (clock now {clock.now().astimezone(SHANGHAI):%Y-%m-%d %H:%M} Asia/Shanghai):
  agent queue     curl -X POST {fleet["contact"].url}/v1/dealers/{dealer}/tasks/claim \\
                       -H "Authorization: Bearer ${agent}"
  open tasks      curl -H "Authorization: Bearer ${agent}" \\
                       '{fleet["contact"].url}/v1/dealers/{dealer}/tasks?state=open'
  complaints      curl -H "Authorization: Bearer ${manager}" \\
                       {fleet["complaints"].url}/v1/dealers/{dealer}/complaints
  monthly report  curl -H "Authorization: Bearer ${manager}" \\
                       '{fleet["reporting"].url}/v1/dealers/{dealer}/reports/monthly?month={month}'
  reveal audit    curl -H "Authorization: Bearer ${cr}" \\
                       {fleet["contact"].url}/v1/dealers/{dealer}/audit/reveals
  SMS sent        curl http://127.0.0.1:{SMSGATEWAY_PORT}/messages   (the local SMS gateway)
  customer reply  curl -X POST http://127.0.0.1:{SMSGATEWAY_PORT}/replies \\
                       -H 'Content-Type: application/json' \\
                       -d '{{"phone": "<phone of a message>", "content": "9 9 8 10 9 7"}}'
  API docs        http://127.0.0.1:<port>/docs for each service ("Authorize": paste a token);
                  logs in .cache/demo/logs/
  more tokens     .venv/bin/python -m aftersales_runtime.auth token --role gm --dealer {dealer}
  move time       .venv/bin/python -m aftersales_runtime.clock \\
                       --file {clock.path.relative_to(REPO)} advance 4d

Ctrl-C stops the services{" and the stack" if started_stack else ""}.""")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping…")
        console.stop()
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
