"""The quick subset of `make reliability` that CI runs (issue 18, item 7): a service killed
mid-batch, the broker frozen, every input topic replayed — each on the known workload, counted
stage by stage: nothing lost, nothing duplicated, all five ready again."""

from __future__ import annotations

import pytest

from tests.reliability.faults import catalogue
from tests.reliability.harness import Options, run_once
from tests.reliability.table import COLUMNS, row
from tests.reliability.workload import make_workload

pytestmark = [pytest.mark.stack, pytest.mark.e2e, pytest.mark.timeout(600)]

QUICK = ("kill-scheduler", "kafka-freeze", "replay-all-inputs")
NEEDS_LOCAL_STACK = {"kafka-freeze", "kafka-kill", "ferretdb-kill"}


@pytest.mark.parametrize("name", QUICK)
async def test_the_pipeline_survives_the_fault_with_nothing_lost_or_duplicated(
    stack, tmp_path, name
):
    if name in NEEDS_LOCAL_STACK and stack.source != "local":
        pytest.skip(f"{name} signals the local stack's processes; this run uses {stack.source}")
    fault = catalogue(freeze_seconds=10, down_seconds=5)[name]
    result = await run_once(stack, make_workload(24), fault, tmp_path, Options(timeout=120))
    print(f"\n{COLUMNS}\n{row(result)}")
    assert result.survived, row(result)
