"""Every route survives any input and says what it does: schemathesis (property-based testing
from each service's own OpenAPI document, `--checks all`) against the five services running as
processes on the real stack, with a valid token. A fixed seed and a bounded number of examples
keep it quick in `make test`; `make fuzz` runs it longer (FUZZ_EXAMPLES)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aftersales_runtime.auth.caller import ROLES
from aftersales_runtime.clock import ControlledClock

from deploy.local.services import SERVICES, Fleet

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(900)]

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
SEED = 20261201


@pytest.fixture(scope="module")
def schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("schemathesis is not installed (make install)")
    return found


@pytest.fixture
async def fleet(fleet_of_this_test, tmp_path) -> AsyncIterator[Fleet]:
    clock = ControlledClock(tmp_path / "clock.json")
    clock.write_offset(timedelta(0))
    fleet = fleet_of_this_test(clock)
    await asyncio.to_thread(fleet.start)
    try:
        yield fleet
    finally:
        await asyncio.to_thread(fleet.stop)


def _summary(output: str) -> str:
    found = re.search(r"Test cases:\s*\n\s*(.+)", output)
    return found.group(1).strip() if found else "no summary"


async def test_no_route_answers_outside_its_document(fleet, tokens, schemathesis, tmp_path):
    token = tokens.mint(*ROLES, dealers=["*"], sub="fuzz")
    outcomes = {}
    for name in SERVICES:
        answer = await asyncio.to_thread(
            subprocess.run,
            [
                schemathesis, "--no-color", "run", f"{fleet[name].url}/openapi.json",
                "--checks", "all", "--max-examples", str(EXAMPLES), "--seed", str(SEED),
                "--header", f"Authorization: Bearer {token}",
            ],
            capture_output=True, text=True, cwd=tmp_path, timeout=600,
        )  # fmt: skip
        outcomes[name] = (answer.returncode, answer.stdout)
        print(f"\nschemathesis {name}: {_summary(answer.stdout)}")
    failed = {name: out for name, (code, out) in outcomes.items() if code != 0}
    assert not failed, "\n\n".join(f"== {name}\n{out[-6000:]}" for name, out in failed.items())


async def test_the_requests_that_once_answered_500_answer_a_problem(fleet, tokens):
    """Found by schemathesis before the documents and the code agreed (issue 18)."""
    headers = tokens.header(*ROLES, dealers=["*"], sub="fuzz")
    async with httpx.AsyncClient(headers=headers) as http:
        deep = await http.get(
            f"{fleet['intake'].url}/v1/rejections",
            params={"skip": "34285950261093138660794250035200", "limit": "186"},
        )
        no_dealer = await http.get(
            f"{fleet['reporting'].url}/v1/dealers/0/reports/monthly", params={"month": "0000-01"}
        )
        no_month = await http.get(
            f"{fleet['reporting'].url}/v1/dealers/dealer-sz-001/reports/monthly",
            params={"month": "0000-01"},
        )
    for answer in (deep, no_dealer, no_month):
        print(f"\n{answer.request.url} -> {answer.status_code} {answer.text}")
        assert answer.headers["content-type"] == "application/problem+json"
    assert deep.status_code == 422
    assert [e["field"] for e in deep.json()["errors"]] == ["query.skip"]
    assert no_dealer.status_code == 404
    assert no_month.status_code == 422
    assert [e["field"] for e in no_month.json()["errors"]] == ["query.month"]
