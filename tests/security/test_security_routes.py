"""Every route of every service, read from its OpenAPI document, refuses whoever it must
(ARCHITECTURE: Security; OWASP API1 broken object-level authorization, API2 authentication):

- no token, an expired token, a token signed by another key → 401;
- a token without any of the route's roles → 403;
- a token of another dealer, on dealer A's objects (seeded first) → 404; the DMS webhook refuses
  a record of a dealer its token does not serve with 403 (documented in intake's README);
- and, as the control that the refusals are not an accident, the right token is let in.

A route added without a rule (`allow(...)`) has no `security` in OpenAPI and fails here; a route
added without a case in CASES fails here too, so a new route cannot go untested.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aftersales_complaints.opening import ticket_id_for
from aftersales_contracts import (
    CallOutcome,
    Channel,
    ContactDue,
    ContactPurpose,
    ContactResult,
    Customer,
    Scores,
    Vehicle,
    correlation_id_for,
    deterministic_id,
)
from aftersales_runtime.auth import ROLES
from aftersales_runtime.auth.issuer import ensure_key_pair, load_private_key, mint
from aftersales_runtime.clock import FixedClock
from aftersales_runtime.kafka import publish_event
from faststream.kafka import TestKafkaBroker

from deploy.local.demo_data import work_order

pytestmark = pytest.mark.stack

MINE, THEIRS = "dealer-sz-001", "dealer-bj-002"  # the caller of the wrong-dealer case is THEIRS
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
# Open to anyone who reaches the service port (ARCHITECTURE: "Health and metrics stay open");
# /metrics carries counts only, no personal data.
OPEN_ROUTES = {("GET", "/health/live"), ("GET", "/health/ready"), ("GET", "/metrics")}
REFUSALS = ["no token", "expired", "other key", "wrong role", "wrong dealer"]


@dataclass
class Seeds:
    """Objects of dealer MINE that the routes touch."""

    vin: str = ""
    customer_id: str = ""
    rejection_id: str = ""
    task_id: str = ""
    ticket_id: str = ""
    appointment_id: str = ""
    work_order: dict[str, Any] | None = None


@dataclass(frozen=True)
class Case:
    """How to call one route on dealer MINE's objects."""

    path: Callable[[Seeds], str]
    body: Callable[[Seeds], Any] | None = None
    params: dict[str, str] | None = None
    wrong_dealer: int = 404


def _record(seeds: Seeds) -> Any:
    return seeds.work_order


CASES: dict[tuple[str, str, str], Case] = {
    # intake
    ("intake", "POST", "/v1/dms/work-orders"): Case(
        lambda s: "/v1/dms/work-orders", _record, wrong_dealer=403
    ),
    ("intake", "POST", "/v1/dms/vehicle-deliveries"): Case(
        lambda s: "/v1/dms/vehicle-deliveries",
        lambda s: {"dealer_id": MINE, "event_id": "d-1"},
        wrong_dealer=403,
    ),
    ("intake", "GET", "/v1/rejections"): Case(
        lambda s: "/v1/rejections", params={"dealer_id": MINE}
    ),
    ("intake", "GET", "/v1/rejections/{rejection_id}"): Case(
        lambda s: f"/v1/rejections/{s.rejection_id}"
    ),
    ("intake", "POST", "/v1/rejections/{rejection_id}/fix"): Case(
        lambda s: f"/v1/rejections/{s.rejection_id}/fix", _record
    ),
    ("intake", "POST", "/v1/rejections/{rejection_id}/replay"): Case(
        lambda s: f"/v1/rejections/{s.rejection_id}/replay"
    ),
    ("intake", "GET", "/v1/dealers/{dealer_id}/vehicles/{vin}"): Case(
        lambda s: f"/v1/dealers/{MINE}/vehicles/{s.vin}"
    ),
    ("intake", "GET", "/v1/dealers/{dealer_id}/vehicles/{vin}/revisions"): Case(
        lambda s: f"/v1/dealers/{MINE}/vehicles/{s.vin}/revisions"
    ),
    ("intake", "POST", "/v1/dealers/{dealer_id}/vehicles/search"): Case(
        lambda s: f"/v1/dealers/{MINE}/vehicles/search", body=lambda s: {"plate": "粤B12345"}
    ),
    ("intake", "GET", "/v1/dealers/{dealer_id}/audit/reveals"): Case(
        lambda s: f"/v1/dealers/{MINE}/audit/reveals"
    ),
    # scheduler
    ("scheduler", "GET", "/v1/dealers/{dealer_id}/vehicles/{vin}/contacts"): Case(
        lambda s: f"/v1/dealers/{MINE}/vehicles/{s.vin}/contacts"
    ),
    ("scheduler", "GET", "/v1/dealers/{dealer_id}/customers/{customer_id}/contacts"): Case(
        lambda s: f"/v1/dealers/{MINE}/customers/{s.customer_id}/contacts"
    ),
    ("scheduler", "GET", "/v1/dealers/{dealer_id}/due-maintenance/{month}"): Case(
        lambda s: f"/v1/dealers/{MINE}/due-maintenance/2026-12"
    ),
    # contact
    ("contact", "POST", "/v1/dealers/{dealer_id}/tasks/claim"): Case(
        lambda s: f"/v1/dealers/{MINE}/tasks/claim"
    ),
    ("contact", "POST", "/v1/tasks/{task_id}/result"): Case(
        lambda s: f"/v1/tasks/{s.task_id}/result", lambda s: {"outcome": "no_answer"}
    ),
    ("contact", "POST", "/v1/tasks/{task_id}/lease"): Case(
        lambda s: f"/v1/tasks/{s.task_id}/lease"
    ),
    ("contact", "DELETE", "/v1/tasks/{task_id}/lease"): Case(
        lambda s: f"/v1/tasks/{s.task_id}/lease"
    ),
    ("contact", "GET", "/v1/dealers/{dealer_id}/tasks"): Case(
        lambda s: f"/v1/dealers/{MINE}/tasks"
    ),
    ("contact", "GET", "/v1/dealers/{dealer_id}/audit/reveals"): Case(
        lambda s: f"/v1/dealers/{MINE}/audit/reveals"
    ),
    # The SMS provider's callbacks name no dealer: a token of another dealer is let in and
    # matches nothing of MINE (409 here: the fleet has no SMS provider configured).
    ("contact", "POST", "/v1/sms/replies"): Case(
        lambda s: "/v1/sms/replies",
        lambda s: [{"phone_number": "13800138000", "content": "TD"}],
        wrong_dealer=409,
    ),
    ("contact", "POST", "/v1/sms/reports"): Case(
        lambda s: "/v1/sms/reports",
        lambda s: [{"phone_number": "13800138000", "success": True, "biz_id": "b-1"}],
        wrong_dealer=409,
    ),
    ("contact", "GET", "/v1/dealers/{dealer_id}/deliveries/{delivery_id}/survey"): Case(
        lambda s: f"/v1/dealers/{MINE}/deliveries/DL-1/survey"
    ),
    ("contact", "POST", "/v1/dealers/{dealer_id}/deliveries/{delivery_id}/survey"): Case(
        lambda s: f"/v1/dealers/{MINE}/deliveries/DL-1/survey",
        lambda s: {
            "vin": "LSVAU218XN2183294",
            "customer_id": "C-1",
            "scores": {
                "consultant_etiquette": 9,
                "product_knowledge": 9,
                "delivery_time": 9,
                "overall": 9,
            },
            "yes_no": {"test_drive_invited": True},
        },
    ),
    # complaints
    ("complaints", "GET", "/v1/dealers/{dealer_id}/complaints"): Case(
        lambda s: f"/v1/dealers/{MINE}/complaints"
    ),
    ("complaints", "GET", "/v1/complaints/{ticket_id}"): Case(
        lambda s: f"/v1/complaints/{s.ticket_id}"
    ),
    **{
        ("complaints", "POST", f"/v1/complaints/{{ticket_id}}/{action}"): Case(
            (lambda a: lambda s: f"/v1/complaints/{s.ticket_id}/{a}")(action), body
        )
        for action, body in {
            "acknowledge": lambda s: {},
            "note": lambda s: {"text": "called back"},
            "review": lambda s: {},
            "reply": lambda s: {},
            "reassign": lambda s: {"to_role": "service_manager"},
            "resolve": lambda s: {"root_cause_category": "parts", "action_taken": "replaced"},
            "compensation": lambda s: {
                "amount": 200,
                "approved_by": "oem-south/region-1",
                "approved_at": "2026-11-23T10:00:00+08:00",
            },
            "close": lambda s: {"customer_confirmed": True},
            "reopen": lambda s: {"text": "still noisy"},
        }.items()
    },
    ("complaints", "POST", "/v1/dealers/{dealer_id}/complaints"): Case(
        lambda s: f"/v1/dealers/{MINE}/complaints",
        lambda s: {"source": "walk_in", "vin": s.vin, "text": "空调不制冷"},
    ),
    ("complaints", "POST", "/v1/dealers/{dealer_id}/inbound"): Case(
        lambda s: f"/v1/dealers/{MINE}/inbound",
        lambda s: {"kind": "hotline", "subject": "enquiry", "vin": s.vin},
    ),
    ("complaints", "GET", "/v1/dealers/{dealer_id}/inbound"): Case(
        lambda s: f"/v1/dealers/{MINE}/inbound", params={"day": "2026-11-23"}
    ),
    ("complaints", "GET", "/v1/dealers/{dealer_id}/customers"): Case(
        lambda s: f"/v1/dealers/{MINE}/customers", params={"plate": "粤B12345"}
    ),
    ("complaints", "GET", "/v1/dealers/{dealer_id}/audit/reveals"): Case(
        lambda s: f"/v1/dealers/{MINE}/audit/reveals"
    ),
    # reporting
    ("reporting", "GET", "/v1/dealers/{dealer_id}/reports/monthly"): Case(
        lambda s: f"/v1/dealers/{MINE}/reports/monthly", params={"month": "2026-11"}
    ),
    # appointments
    ("appointments", "POST", "/v1/dealers/{dealer_id}/appointments"): Case(
        lambda s: f"/v1/dealers/{MINE}/appointments", lambda s: _booking("security-2")
    ),
    ("appointments", "GET", "/v1/dealers/{dealer_id}/appointments"): Case(
        lambda s: f"/v1/dealers/{MINE}/appointments", params={"day": "2026-11-25"}
    ),
    ("appointments", "GET", "/v1/dealers/{dealer_id}/workshop"): Case(
        lambda s: f"/v1/dealers/{MINE}/workshop", params={"day": "2026-11-25"}
    ),
    ("appointments", "GET", "/v1/appointments/{appointment_id}"): Case(
        lambda s: f"/v1/appointments/{s.appointment_id}"
    ),
    ("appointments", "POST", "/v1/appointments/{appointment_id}/cancel"): Case(
        lambda s: f"/v1/appointments/{s.appointment_id}/cancel", lambda s: {}
    ),
}


def _booking(request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "vin": "LSVAU218XN2183294",
        "customer_id": "C-1",
        "day": "2026-11-25",
        "slot_id": "0900",
        "service": "maintenance",
    }


def _apps() -> dict[str, tuple[Any, Any]]:
    """service name → (settings type, build function)."""
    from aftersales_appointments.app import build as appointments
    from aftersales_appointments.settings import AppointmentsSettings
    from aftersales_complaints.app import build as complaints
    from aftersales_complaints.settings import ComplaintsSettings
    from aftersales_contact.app import build as contact
    from aftersales_contact.settings import ContactSettings
    from aftersales_intake.app import build as intake
    from aftersales_intake.settings import IntakeSettings
    from aftersales_reporting.app import build as reporting
    from aftersales_reporting.settings import ReportingSettings
    from aftersales_scheduler.app import build as scheduler
    from aftersales_scheduler.settings import SchedulerSettings

    return {
        "intake": (IntakeSettings, intake),
        "scheduler": (SchedulerSettings, scheduler),
        "contact": (ContactSettings, contact),
        "complaints": (ComplaintsSettings, complaints),
        "reporting": (ReportingSettings, reporting),
        "appointments": (AppointmentsSettings, appointments),
    }


@dataclass
class Deployed:
    service: Any
    settings: Any
    client: httpx.AsyncClient


@pytest.fixture
async def fleet(service_settings, isolation) -> AsyncIterator[dict[str, Deployed]]:
    """The five services in process (HTTP via ASGI, Kafka via TestKafkaBroker)."""
    deployed: dict[str, Deployed] = {}
    async with AsyncExitStack() as stack:
        for name, (settings_type, build) in _apps().items():
            settings = service_settings(
                settings_type, mongodb_database=f"{isolation.database}_{name}"
            )
            service = build(settings, FixedClock(NOW))
            app = service.http if hasattr(service, "http") else service.app
            await stack.enter_async_context(TestKafkaBroker(service.runtime.broker))
            client = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")
            )
            stack.push_async_callback(service.runtime.mongo.close)
            deployed[name] = Deployed(service, settings, client)
        yield deployed


def _due() -> ContactDue:
    return ContactDue(
        event_id=deterministic_id("security.due", MINE, "WO-1"),
        occurred_at=NOW,
        dealer_id=MINE,
        correlation_id=correlation_id_for(MINE, "WO-1"),
        contact_id=deterministic_id("security.contact", MINE, "WO-1"),
        purposes=[ContactPurpose.SERVICE_CALL_DAY3],
        channel=Channel.PHONE,
        due_at=NOW - timedelta(hours=1),
        attempt=1,
        work_order_id="WO-1",
        vehicle=Vehicle(vin="LSVAU218XN2183294", plate="粤B12345", brand="大众", model="帕萨特"),
        customer=Customer(
            customer_id="C-1",
            name="张伟",
            phone="+8613800138000",
            is_owner=True,
            contact_consent=True,
        ),
    )


async def _seed(fleet: dict[str, Deployed], tokens: Any) -> Seeds:
    seeds = Seeds()
    order = work_order(random.Random(7), MINE, 1, datetime(2026, 11, 20, 10, 0))
    seeds.work_order, seeds.vin = order, order["vin"]
    seeds.customer_id = order["customer"]["customer_id"]
    dms = tokens.header("dms", dealers=[MINE])
    intake = fleet["intake"].client
    broken = {
        **order,
        "work_order_id": "WO-broken",
        "customer": {**order["customer"], "phone": "1"},
    }
    answer = await intake.post("/v1/dms/work-orders", json=[order, broken], headers=dms)
    assert answer.status_code == 200, answer.text
    seeds.rejection_id = answer.json()["results"][1]["rejection_id"]
    assert seeds.rejection_id

    contact = fleet["contact"]
    await publish_event(contact.service.runtime.broker, contact.settings, _due())
    agent = tokens.header("agent", dealers=[MINE], sub="agent-seed")
    claimed = await contact.client.post(f"/v1/dealers/{MINE}/tasks/claim", headers=agent)
    assert claimed.status_code == 200, claimed.text
    seeds.task_id = claimed.json()["task_id"]

    complaints = fleet["complaints"]
    unhappy = ContactResult(
        event_id=deterministic_id("security.result", MINE),
        occurred_at=NOW,
        dealer_id=MINE,
        correlation_id=correlation_id_for(MINE, "WO-1"),
        contact_id=deterministic_id("security.contact", MINE, "WO-1"),
        task_id=seeds.task_id,
        channel=Channel.PHONE,
        purposes=[ContactPurpose.SERVICE_CALL_DAY3],
        attempt=1,
        outcome=CallOutcome.REACHED,
        contacted_at=NOW,
        scores=Scores(attitude=5, quality=9, charges=9, timeliness=9, environment=9, overall=5),
        vin=seeds.vin,
        customer_id=seeds.customer_id,
    )
    await publish_event(complaints.service.runtime.broker, complaints.settings, unhappy)
    seeds.ticket_id = ticket_id_for(seeds.task_id)

    booked = await fleet["appointments"].client.post(
        f"/v1/dealers/{MINE}/appointments", json=_booking("security-1"), headers=agent
    )
    assert booked.status_code == 201, booked.text
    seeds.appointment_id = booked.json()["appointment_id"]
    return seeds


def _operations(app: Any) -> list[tuple[str, str, list[str] | None]]:
    """(method, path, roles) of every operation in the app's OpenAPI document."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            security = operation.get("security")
            roles = security[0].get("bearer") if security else None
            found.append((method.upper(), path, roles))
    return found


async def test_every_route_refuses_who_it_must(fleet, tokens, tmp_path):
    seeds = await _seed(fleet, tokens)
    stranger_key, _ = ensure_key_pair(tmp_path / "stranger")
    rows: list[list[str]] = []
    failures: list[str] = []
    covered = set()

    for name, deployed in fleet.items():
        app = deployed.service.http if hasattr(deployed.service, "http") else deployed.service.app
        for method, path, roles in _operations(app):
            if (method, path) in OPEN_ROUTES:
                answer = await deployed.client.request(method, path)
                rows.append([name, method, path, "(open)", *["-"] * 5, str(answer.status_code)])
                continue
            if not roles:
                failures.append(f"{name} {method} {path}: declares no rule (allow(...))")
                continue
            case = CASES.get((name, method, path))
            if case is None:
                failures.append(f"{name} {method} {path}: no case in CASES")
                continue
            covered.add((name, method, path))
            wrong_roles = [r for r in ROLES if r not in roles]
            headers = {
                "no token": {},
                "expired": tokens.header(
                    *roles, dealers=[MINE], now=datetime.now(UTC) - timedelta(hours=3)
                ),
                "other key": {
                    "Authorization": "Bearer "
                    + mint(load_private_key(stranger_key), sub="x", roles=roles, dealers=["*"])
                },
                "wrong role": tokens.header(*wrong_roles, dealers=["*"]),
                "wrong dealer": tokens.header(*roles, dealers=[THEIRS], sub="agent-seed"),
                "right token": tokens.header(*roles, dealers=[MINE], sub="agent-seed"),
            }
            expected = {
                "no token": 401,
                "expired": 401,
                "other key": 401,
                "wrong role": 403,
                "wrong dealer": case.wrong_dealer,
            }
            statuses = []
            for refusal, header in headers.items():
                answer = await deployed.client.request(
                    method,
                    case.path(seeds),
                    headers=header,
                    params=case.params,
                    json=case.body(seeds) if case.body else None,
                )
                statuses.append(str(answer.status_code))
                want = expected.get(refusal)
                if want is not None and answer.status_code != want:
                    failures.append(
                        f"{name} {method} {path} [{refusal}]: {answer.status_code} (want {want})"
                    )
                if want is None and answer.status_code in (401, 403):
                    failures.append(f"{name} {method} {path}: the right token was refused")
                if refusal == "wrong role" and answer.status_code == 403:
                    assert roles[0] in answer.json()["detail"]  # names the missing role
                if refusal == "wrong dealer" and answer.status_code == 404:
                    assert seeds.customer_id not in answer.text  # no content of the object
            rows.append([name, method, path, ",".join(roles), *statuses])

    _print_table(rows)
    failures += [f"{k}: in CASES but not in OpenAPI" for k in set(CASES) - covered]
    assert failures == []


def _print_table(rows: list[list[str]]) -> None:
    header = ["service", "method", "route", "roles", *REFUSALS, "right token"]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))
