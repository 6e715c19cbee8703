"""The web console's backend as a process beside the five services (`make run`, browser tests):
its pages, /api/<service>/… forwarded to the fleet, the demo sign-in by the local issuer."""

from __future__ import annotations

import json
import os
from pathlib import Path

from deploy.local.services import REPO, Fleet, ServiceProcess

CONSOLE_PORT = 8080
DEMO_USERS = REPO / "web/console/demo-users.json"


def console_process(
    fleet: Fleet,
    *,
    port: int,
    issuer_key_file: Path,
    clock_file: Path,
    log_dir: Path,
    environment: str = "development",
) -> ServiceProcess:
    env = {
        **os.environ,
        "CONSOLE_HTTP_PORT": str(port),
        "CONSOLE_SERVICE_URLS": json.dumps({n: p.url for n, p in fleet.processes.items()}),
        "CONSOLE_DEMO_USERS_FILE": str(DEMO_USERS),
        "CONSOLE_DEMO_ISSUER_KEY_FILE": str(issuer_key_file),
        "AFTERSALES_ENVIRONMENT": environment,
        "AFTERSALES_CLOCK": "controlled",
        "AFTERSALES_CLOCK_FILE": str(clock_file),
    }
    return ServiceProcess("console", port, env, log_dir / "console.log")


def demo_user_lines() -> list[str]:
    """One line per demo user: name, roles, dealers (what `make run` prints)."""
    users = json.loads(DEMO_USERS.read_text(encoding="utf-8"))["users"]
    return [
        f"  {u['username']:<11} {', '.join(u['roles'])} @ {', '.join(u.get('dealers', []))}"
        for u in users
    ]
