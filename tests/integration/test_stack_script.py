"""deploy/local/stack.sh: idempotent start, status, and the clear error on a taken port."""

import os
import socket
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
STACK = REPO / "deploy/local/stack.sh"

pytestmark = pytest.mark.stack


def run_stack(*args, env=None):
    return subprocess.run(
        ["bash", str(STACK), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        check=False,
    )


def test_second_start_does_not_start_twice(stack):
    if stack.source != "local":
        pytest.skip("only for the project's local stack")
    result = run_stack("up")
    assert result.returncode == 0, result.stderr
    assert "kafka: already running" in result.stdout
    assert "ferretdb: already running" in result.stdout


def test_status_shows_state_port_and_version(stack):
    if stack.source != "local":
        pytest.skip("only for the project's local stack")
    result = run_stack("status")
    assert result.returncode == 0
    kafka_line = next(line for line in result.stdout.splitlines() if line.startswith("kafka"))
    assert "ready" in kafka_line
    assert "Apache Kafka 4." in kafka_line
    assert "FerretDB v1." in result.stdout


def test_taken_kafka_port_gives_a_clear_error(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = run_stack("up", env={"STACK_STATE_DIR": str(tmp_path), "KAFKA_PORT": str(port)})
    assert result.returncode != 0
    assert f"port {port} is already in use by process {os.getpid()}" in result.stderr
    assert not (tmp_path / "run" / "kafka.pid").exists()
