"""The launcher of `make run`, the benchmarks and the end-to-end tests (deploy.local.services)."""

from __future__ import annotations

import socket

import pytest

from deploy.local.services import ServiceProcess, listening


def test_a_service_is_not_started_on_a_port_something_else_listens_on(tmp_path):
    """Readiness is asked of the port, so a second run would take the first run's service for
    its own (a benchmark's agents then met 401s: that service trusts another key)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        process = ServiceProcess("contact", port, {}, tmp_path / "contact.log")

        with pytest.raises(RuntimeError, match=f"already listens on 127.0.0.1:{port}"):
            process.start()

        assert process.process is None
        assert not (tmp_path / "contact.log").exists()
    assert not listening(port)
