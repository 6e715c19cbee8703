"""The console's backend without services: demo sign-in, its refusal in production, and the
proxy's rules (only /api/<known service>/v1/…, the caller's token passed on, nothing added)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jwt
import pytest
from aftersales_console.app import create_app
from aftersales_console.settings import ConsoleSettings
from fastapi.testclient import TestClient
from pydantic import ValidationError

USERS = Path(__file__).resolve().parents[1] / "demo-users.json"


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


@pytest.fixture
def client(tokens, tmp_path, seen) -> TestClient:
    def service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            201, json={"echo": request.url.path}, headers={"Retry-After": "5", "X-Internal": "1"}
        )

    settings = ConsoleSettings(
        demo_users_file=USERS,
        demo_issuer_key_file=tokens.private_key_file,
        environment="test",
        static_dir=tmp_path,
        service_urls={"contact": "http://contact.invalid"},
    )
    return TestClient(create_app(settings, transport=httpx.MockTransport(service)))


def test_a_demo_user_gets_a_token_with_the_roles_and_dealers_of_the_list(client, tokens):
    answer = client.post("/console/signin", json={"username": "manager", "password": "demo"})
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    claims = jwt.decode(
        token,
        tokens.public_key_file.read_bytes(),
        algorithms=["EdDSA"],
        audience="aftersales-api",
    )
    assert claims["sub"] == "manager"
    assert claims["roles"] == ["service_manager"]
    assert claims["dealers"] == ["dealer-sz-001"]


@pytest.mark.parametrize(("username", "password"), [("manager", "wrong"), ("nobody", "demo")])
def test_a_wrong_password_or_unknown_user_is_refused(client, username, password):
    answer = client.post("/console/signin", json={"username": username, "password": password})
    assert answer.status_code == 401
    assert "token" not in answer.text


def test_the_config_lists_demo_users_without_their_dealers(client):
    config = client.get("/console/config").json()
    assert config["signin"] == "demo"
    assert {"username": "agent", "name": "王芳（回访专员）", "roles": ["agent"]} in config[
        "demo_users"
    ]
    assert all("dealers" not in u for u in config["demo_users"])


def test_production_refuses_the_demo_sign_in(tokens):
    with pytest.raises(ValidationError, match="refused"):
        ConsoleSettings(
            demo_users_file=USERS,
            demo_issuer_key_file=tokens.private_key_file,
            environment="production",
        )


def test_without_the_demo_list_there_is_no_sign_in_here(tmp_path):
    app = create_app(ConsoleSettings(environment="production", static_dir=tmp_path))
    with TestClient(app) as plain:
        assert plain.get("/console/config").json()["signin"] == "oidc"
        answer = plain.post("/console/signin", json={"username": "gm", "password": "demo"})
        assert answer.status_code == 404


def test_the_proxy_passes_the_callers_token_and_the_answer_on(client, seen):
    answer = client.post(
        "/api/contact/v1/dealers/dealer-sz-001/tasks/claim?x=1",
        json={"agent_id": "agent"},
        headers={"Authorization": "Bearer caller-token", "Cookie": "c=1"},
    )
    assert answer.status_code == 201
    assert answer.json() == {"echo": "/v1/dealers/dealer-sz-001/tasks/claim"}
    assert answer.headers["retry-after"] == "5"
    assert "x-internal" not in answer.headers
    (request,) = seen
    assert str(request.url) == "http://contact.invalid/v1/dealers/dealer-sz-001/tasks/claim?x=1"
    assert request.headers["authorization"] == "Bearer caller-token"
    assert "cookie" not in request.headers
    assert json.loads(request.content) == {"agent_id": "agent"}


@pytest.mark.parametrize(
    "path", ["/api/contact/docs", "/api/contact/health/ready", "/api/nope/v1/x"]
)
def test_the_proxy_forwards_only_the_public_api_of_known_services(client, seen, path):
    assert client.get(path).status_code == 404
    assert seen == []


def test_every_answer_forbids_other_origins(client):
    policy = client.get("/console/config").headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy


def test_the_board_asks_for_working_time_left_over_http(client):
    answer = client.get(
        "/console/working-time",
        params=[
            ("dealer_id", "dealer-sz-001"),
            ("until", "2020-01-02T10:00:00+08:00"),  # long past: negative
            ("until", "2099-01-02T10:00:00+08:00"),  # far ahead: positive
        ],
    )
    assert answer.status_code == 200, answer.text
    past, future = answer.json()["left_seconds"]
    assert past < 0 < future


def test_working_time_left_on_the_dealers_calendar():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from aftersales_console.working_time import WorkingTime
    from aftersales_runtime.dealers import DealerDirectory

    shanghai = ZoneInfo("Asia/Shanghai")
    directory = DealerDirectory.from_mapping({"dealers": {"d1": {"time_zone": "Asia/Shanghai"}}})
    now = datetime(2026, 11, 17, 10, 0, tzinfo=shanghai)  # a Tuesday, a working day
    left = WorkingTime(directory).left(
        "d1",
        now,
        [
            datetime(2026, 11, 17, 11, 30, tzinfo=shanghai),
            datetime(2026, 11, 17, 9, 0, tzinfo=shanghai),
            datetime(2026, 11, 18, 10, 0, tzinfo=shanghai),
        ],
    )
    assert left is not None
    assert left[0] == 90 * 60
    assert left[1] == -60 * 60
    # A whole working day, not 24 hours: the night does not count.
    assert 0 < left[2] < 24 * 3600
    assert WorkingTime(directory).left("nobody", now, []) is None


def test_unknown_dealer_or_naive_time_is_refused(client):
    unknown = client.get(
        "/console/working-time",
        params={"dealer_id": "nobody", "until": "2026-11-17T11:30:00+08:00"},
    )
    assert unknown.status_code == 404
    naive = client.get(
        "/console/working-time",
        params={"dealer_id": "dealer-sz-001", "until": "2026-11-17T11:30:00"},
    )
    assert naive.status_code == 422
