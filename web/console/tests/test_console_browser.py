"""The web console in a real browser (issue 13): headless Debian Chromium driven by playwright-core
(tests/browser/scenario.mjs) against the five services as processes on the real Kafka and
FerretDB, and the console's backend in front of them.

An agent signs in, claims the due call, reveals the phone, records a low score; the service
manager sees the ticket on the board and acknowledges it; the dashboard's counts change; the data
steward fixes a rejected record. Screenshots go to web/console/test-output/ (git-ignored). The
browser may reach the console's own origin only: any other request is refused and fails the test.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from aftersales_runtime.clock import ControlledClock

from deploy.local.console import CONSOLE_PORT, console_process
from deploy.local.demo_data import vin_with_check_digit, work_order

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(600)]

CONSOLE = Path(__file__).resolve().parents[1]
OUTPUT = CONSOLE / "test-output"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEALER = "dealer-sz-001"
PORT_SHIFT = 20  # apart from the other end-to-end tests' services
#: D31: one bay at 09:00, so that a second booking of it answers 409 with the nearest free slots.
WORKSHOP = {
    "slots": [
        {"id": "0900", "start": "09:00", "end": "10:30", "bays": 1},
        {"id": "1030", "start": "10:30", "end": "12:00", "bays": 2},
    ]
}


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def run(command: list[str], **options: object) -> None:
    subprocess.run(command, check=True, **options)  # type: ignore[call-overload]


def newest(paths: list[Path]) -> float:
    return max(p.stat().st_mtime for p in paths if p.exists())


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's Chromium and a CJK font, installed when missing (root only)."""
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    present = {"chromium": shutil.which("chromium"), "fonts-noto-cjk": fonts.stdout.strip()}
    missing = [package for package, found in present.items() if not found]
    if missing:
        if os.geteuid() != 0:
            pytest.skip(f"{' '.join(missing)} missing and only root may apt-get install them")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-qq"], env=env)
        run(["apt-get", "install", "-y", "-qq", *missing], env=env, stdout=subprocess.DEVNULL)
    path = shutil.which("chromium")
    assert path, "chromium is not installed"
    return path


@pytest.fixture(scope="module")
def built_console() -> Path:
    """node_modules from the lockfile (npm ci) and the built pages, redone only when stale."""
    lock = CONSOLE / "package-lock.json"
    installed = CONSOLE / "node_modules/.package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        run(["npm", "ci", "--no-audit", "--no-fund"], cwd=CONSOLE)
    sources = [*(CONSOLE / "src").rglob("*"), CONSOLE / "index.html", CONSOLE / "vite.config.js"]
    page = CONSOLE / "dist/index.html"
    if not page.exists() or page.stat().st_mtime < newest([*sources, lock]):
        run(["npm", "run", "build"], cwd=CONSOLE, stdout=subprocess.DEVNULL)
    return CONSOLE / "dist"


def import_file(path: Path) -> Path:
    """Two DMS records as JSON lines: one the pipeline takes, one with a VIN it refuses."""
    rng = random.Random(14)
    taken = work_order(rng, DEALER, 3, datetime(2026, 11, 17, 9, 5))
    refused = {**work_order(rng, DEALER, 4, datetime(2026, 11, 17, 10, 5)), "vin": "SHORT"}
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (taken, refused)) + "\n")
    return path


def orders() -> tuple[dict, dict]:
    """A repair to call about on day 3, and a record intake rejects (a VIN that cannot be one)."""
    rng = random.Random(13)
    good = work_order(rng, DEALER, 1, datetime(2026, 11, 16, 10, 5))
    good["customer"].update(contact_consent=True, preferred_channel="phone", birthday="1980-06-15")
    good.update(
        work_order_type="repair",
        insurance_expiry="2027-09-30",
        licence_expiry="2030-09-30",
        next_maintenance={"due_date": "2027-05-16", "due_mileage_km": None},
    )
    bad = work_order(rng, DEALER, 2, datetime(2026, 11, 16, 11, 5))
    fixed_vin = bad["vin"]
    bad["vin"] = "NOT-A-VIN"
    return good, {**bad, "_fixed_vin": fixed_vin}


def delivery() -> dict:
    """D34: a new car handed over this afternoon, whose buyer answers the face-to-face
    questionnaire in the browser (no consent to calls: nothing joins the agent's queue, D4)."""
    return {
        "event_id": "DL-20261119-0001-delivered",
        "dealer_id": DEALER,
        "delivery_id": "DL-20261119-0001",
        "delivered_at": "2026-11-19T14:00:00+08:00",
        "vin": vin_with_check_digit(random.Random(17)),
        "brand": "比亚迪",
        "model": "海豹",
        "customer": {
            "customer_id": "C-BUYER-1",
            "name": "杨帆",
            "phone": "13800138000",
            "contact_consent": False,
        },
        "sales_consultant": {"id": "SC-1", "name": "黄静"},
    }


async def until(probe, timeout: float = 90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := await probe():
            return value
        await asyncio.sleep(0.5)
    raise AssertionError(f"not within {timeout}s")


@pytest.fixture
async def console_url(fleet_of_this_test, tokens, tmp_path, built_console):
    clock = ControlledClock(tmp_path / "clock.json")
    clock.set(local("2026-11-16T18:00:00"))
    fleet = fleet_of_this_test(
        clock,
        PORT_SHIFT,
        AFTERSALES_RETRY_BACKOFF_SECONDS="0.05",
        APPOINTMENTS_WORKSHOP=json.dumps(WORKSHOP),
    )
    port = CONSOLE_PORT + int(os.environ.get("AFTERSALES_TEST_PORT_OFFSET", "100")) + PORT_SHIFT
    console = console_process(
        fleet,
        port=port,
        issuer_key_file=tokens.private_key_file,
        clock_file=clock.path,
        log_dir=tmp_path / "logs",
        environment="test",
    )
    await asyncio.to_thread(fleet.start)
    console.start()
    try:
        await asyncio.to_thread(console.wait_ready)
        good, bad = orders()
        fixed_vin = bad.pop("_fixed_vin")
        dms = tokens.header("dms", dealers=[DEALER])
        staff = tokens.header("agent", dealers=[DEALER])
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(
                f"{fleet['intake'].url}/v1/dms/work-orders", json=[good, bad], headers=dms
            )
            assert answer.status_code == 200, answer.text
            outcomes = [r["outcome"] for r in answer.json()["results"]]
            assert outcomes == ["accepted", "rejected"], answer.text

            async def planned() -> bool:
                vehicle = f"/v1/dealers/{DEALER}/vehicles/{good['vin']}"
                found = await http.get(f"{fleet['scheduler'].url}{vehicle}/contacts", headers=staff)
                return found.status_code == 200 and bool(found.json()["contacts"])

            await until(planned)
        clock.set(local("2026-11-19T15:30:00"))  # the day-3 call is due
        handed_over = delivery()
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(
                f"{fleet['intake'].url}/v1/dms/vehicle-deliveries", json=[handed_over], headers=dms
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["results"][0]["outcome"] == "accepted", answer.text
        await asyncio.sleep(3)  # the scheduler's dispatcher fires it, contact queues it
        yield console.url, fixed_vin, handed_over, tmp_path / "logs"
    finally:
        console.stop()
        await asyncio.to_thread(fleet.stop)


async def test_agent_call_to_ticket_to_dashboard_in_a_real_browser(chromium, console_url, tmp_path):
    url, fixed_vin, handed_over, logs = console_url
    shutil.rmtree(OUTPUT, ignore_errors=True)
    env = {
        **os.environ,
        "CONSOLE_URL": url,
        "SCREENSHOT_DIR": str(OUTPUT),
        "CHROMIUM": chromium,
        "FIXED_VIN": fixed_vin,
        "IMPORT_FILE": str(import_file(tmp_path / "import.jsonl")),
        "DELIVERY": json.dumps(handed_over),
    }
    began = time.monotonic()
    scenario = await asyncio.to_thread(
        subprocess.run,
        ["node", str(CONSOLE / "tests/browser/scenario.mjs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        check=False,
    )
    print(scenario.stderr)
    summary = json.loads(scenario.stdout)
    (OUTPUT / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    print(f"browser scenario: {time.monotonic() - began:.1f}s, {summary['requests']} requests")
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    assert summary["ok"], f"{summary.get('error')}\nlogs: {logs}"
    steps = {s["name"]: s for s in summary["steps"]}

    # Each role sees its own pages only.
    assert steps["agent pages"]["pages"] == ["回访工作台"]
    assert steps["dashboard before"]["pages"] == ["投诉看板", "月度报表", "预约"]
    assert steps["advisor pages"]["pages"] == ["投诉看板", "预约"]
    assert steps["sales pages"]["pages"] == ["交车问卷"]
    assert steps["steward pages"]["pages"] == ["数据收件箱"]

    # The phone is masked until revealed; the whole number then has 11 digits.
    assert "****" in steps["claimed"]["masked"]
    assert steps["claimed"]["revealed_digits"] >= 11
    assert "租约已失效" in steps["lease lost"]["message"]
    assert "已提交" in steps["submitted"]["message"]
    assert "队列已空" in steps["queue empty"]["message"]
    assert re.fullmatch(r"\d+小时\d+分", steps["ticket opened"]["left"]), steps["ticket opened"]
    assert "已受理" in steps["ticket acknowledged"]["title"]
    before, after = steps["dashboard before"], steps["dashboard after"]
    assert after["contacts"] == before["contacts"] + 1
    assert after["complaints"] == before["complaints"] + 1
    # D31: the last seat went to the other agent: 409 with the nearest free slot, taken in one
    # click; the booking shows in the task view and on the workshop's list with its parts.
    assert steps["slot full"]["rival"] == 201
    assert steps["slot full"]["alternatives"][0].startswith("2026-11-21 10:30"), steps["slot full"]
    assert "10:30–12:00" in steps["booked"]["line"], steps["booked"]
    assert "机油滤清器" in steps["booked"]["line"], steps["booked"]
    rows = steps["workshop day"]["rows"]
    assert len(rows) == 2, rows
    assert any("空调滤芯" in r for r in rows), rows
    # D34: the item left out is named next to it (422); answered, the survey is recorded;
    # a delivery that already has a different answer says so (409).
    assert "必须回答" in steps["survey refused"]["field_error"], steps["survey refused"]
    assert "test_drive_invited" in steps["survey refused"]["field_title"], steps["survey refused"]
    # Opened from the list of deliveries waiting for their survey: VIN and buyer filled in.
    assert steps["survey refused"]["prefilled"] == {
        "vin": handed_over["vin"],
        "customer_id": handed_over["customer"]["customer_id"],
    }, steps["survey refused"]
    assert "已记录" in steps["survey recorded"]["message"], steps["survey recorded"]
    assert steps["survey conflict"]["other"] == 201
    assert "409" in steps["survey conflict"]["message"], steps["survey conflict"]
    assert steps["survey conflict"]["recorded"] == 1
    assert "已记录过问卷" in steps["survey conflict"]["banner"], steps["survey conflict"]
    assert "✓" in steps["rejection fixed"]["message"]
    imported = steps["file imported"]
    assert imported["progress"] == "2/2"
    assert "已接收 1" in imported["counts"], imported
    assert "被拒 1" in imported["counts"], imported
    assert len(imported["errors"]) == 1, imported
    assert "vin" in imported["errors"][0], imported

    # Nothing but the console's own origin, and no script errors.
    assert summary["external"] == []
    assert all(r.split(" ", 1)[1].startswith((url, "data:")) for r in summary["request_log"])
    assert summary["console_errors"] == []
    # No call is refused: every page asks only for what its user's roles may read (the sales
    # roles read the drill-down of the deliveries waiting for their survey).
    assert summary["forbidden"] == [], summary
    assert summary["http_forbidden"] == 0
    for page, found in summary["a11y"].items():
        assert found["unlabelled"] == [], page
        assert found["low_contrast"] == [], page
        assert found["focus"]["problems"] == [], page
        assert len(found["focus"]["order"]) >= 3, page
    # D34 and D31 in the month's report: the delivery surveyed in the browser counts (1/1), the
    # appointments booked in the browser are there.
    assert "100.0% (1/1)" in steps["dashboard sales"]["face_to_face"], steps["dashboard sales"]
    assert "已预约" in steps["dashboard sales"]["appointments"], steps["dashboard sales"]
    items = steps["survey english"]["items"]
    assert any("test drive" in i for i in items), items
    assert len(summary["screenshots"]) == 15
    wider = [s for s in summary["screenshots"] if s["width"] > 1366]
    assert wider == [], wider
