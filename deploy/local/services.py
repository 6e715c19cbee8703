"""The services as separate OS processes: for `make run` and the end-to-end tests.

Each process gets the shared infrastructure settings, its own HTTP port and MongoDB database, and
logs to its own file. The same launcher serves the demo and the tests, so the tests exercise what
a person runs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SERVICES: dict[str, int] = {
    "intake": 8001,
    "scheduler": 8002,
    "contact": 8003,
    "complaints": 8004,
    "reporting": 8005,
    "appointments": 8006,
}
REPO = Path(__file__).resolve().parents[2]


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:`port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if listening(self.port):
            # Readiness is asked of the port: whatever answers there would pass for this process.
            raise RuntimeError(
                f"{self.name}: something already listens on 127.0.0.1:{self.port} (another run "
                "of the services or of a benchmark?); stop it, or give this run other ports"
            )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", f"aftersales_{self.name}"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        log.close()

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health/ready", timeout=2) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.is_ready():
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not ready after {timeout}s; see {self.log_path}")
            time.sleep(0.2)

    def kill9(self) -> None:
        """Crash the service: no shutdown hooks, no flush (for crash-and-restart tests)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout: float = 30.0) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()


@dataclass
class Fleet:
    """All five services with one shared configuration."""

    processes: dict[str, ServiceProcess]

    @classmethod
    def configure(
        cls,
        *,
        kafka: Mapping[str, str],
        mongodb_url: str,
        clock_file: Path,
        log_dir: Path,
        topic_prefix: str = "",
        database_prefix: str = "aftersales",
        environment: str = "development",
        port_offset: int = 0,
        extra_env: dict[str, str] | None = None,
        principals: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Fleet:
        """`kafka`: KAFKA_BOOTSTRAP_SERVERS and the credentials all services share (the tests'
        admin); `principals`: each service's own credentials instead (`make run`)."""
        base = {
            **{k: v for k, v in os.environ.items() if not k.startswith("KAFKA_")},
            **kafka,
            "MONGODB_URL": mongodb_url,
            "AFTERSALES_ENVIRONMENT": environment,
            "AFTERSALES_CLOCK": "controlled",
            "AFTERSALES_CLOCK_FILE": str(clock_file),
            "AFTERSALES_TOPIC_PREFIX": topic_prefix,
            "AFTERSALES_DEALERS_FILE": str(REPO / "deploy/local/dealers.json"),
            **(extra_env or {}),
        }
        processes = {}
        for name, port in SERVICES.items():
            prefix = name.upper()
            env = {
                **base,
                **(principals or {}).get(name, {}),
                f"{prefix}_HTTP_PORT": str(port + port_offset),
                f"{prefix}_MONGODB_DATABASE": f"{database_prefix}_{name}",
            }
            processes[name] = ServiceProcess(name, port + port_offset, env, log_dir / f"{name}.log")
        return cls(processes)

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.processes[name]

    def start(self, timeout: float = 90.0) -> None:
        """Start every process and wait until each is ready; if one is not, stop them all."""
        for process in self.processes.values():
            process.start()
        try:
            for process in self.processes.values():
                process.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()
