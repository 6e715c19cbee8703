"""Tier 2: no personal data in logs (D3, issue 4.6) and a fuzzed consumer (issue 4.8)."""

from __future__ import annotations

import io
import json
import logging
import random

import pytest
from aftersales_contracts import topics
from aftersales_intake.pipeline import Intake
from aftersales_runtime.logs import JsonFormatter

pytestmark = pytest.mark.stack


class _Everything(logging.Handler):
    """Keeps each record both unredacted (what the code logged) and as the service writes it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.raw: list[str] = []
        self.written = io.StringIO()
        self.formatter_ = JsonFormatter("intake")

    def emit(self, record: logging.LogRecord) -> None:
        self.raw.append(json.dumps(
            {"msg": record.getMessage(), **{k: str(v) for k, v in vars(record).items()}},
            ensure_ascii=False,
        ))  # fmt: skip
        self.written.write(self.formatter_.format(record) + "\n")


@pytest.fixture
def captured_logs():
    handler = _Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


async def test_logs_hold_no_phone_name_or_id_number(harness, make_workorder, captured_logs):
    people = [("张伟", "13800138000", "440301198503140011"), ("欧阳娜娜", "13912345678", None)]
    for i, (name, phone, id_number) in enumerate(people):
        await harness.send(make_workorder(
            work_order_id=f"WO-{i}", customer__name=name, customer__phone=phone,
            customer__id_number=id_number, customer__customer_id=f"C-{i}",
        ))  # fmt: skip
    await harness.send(make_workorder(customer__phone="0755-8888-666", work_order_id="WO-bad"))
    await harness.send(make_workorder(dealer_id="dealer-x", customer__name="司马光"))

    everything = "\n".join(captured_logs.raw) + captured_logs.written.getvalue()
    assert "intake outcome" in everything  # the test saw the service's lines
    secrets = [s for person in people for s in person if s] + ["0755-8888-666", "司马光"]
    for secret in secrets:
        assert secret not in everything, f"personal data {secret[:2]}… in the logs"


async def test_fuzzed_input_never_kills_the_consumer(harness, make_workorder):
    rng = random.Random(4)
    counted: list[str] = []
    intake: Intake = harness.service.intake
    real = intake.take_in_many

    async def counting(raws, kind, source):
        outcomes = await real(raws, kind, source)
        counted.extend(outcome.status for outcome in outcomes)
        return outcomes

    intake.take_in_many = counting  # type: ignore[method-assign]
    valid = make_workorder()
    inputs: list[bytes] = []
    for i in range(300):
        choice = i % 4
        if choice == 0:
            inputs.append(rng.randbytes(rng.randint(0, 64)))
        elif choice == 1:  # schema-violating JSON: a field removed or retyped
            broken = make_workorder(work_order_id=f"F-{i}")
            key = rng.choice(sorted(broken))
            if rng.random() < 0.5:
                del broken[key]
            else:
                broken[key] = rng.choice([None, 1, -1.5, "", [], {}, "x" * 40, True])
            inputs.append(json.dumps(broken, ensure_ascii=False).encode())
        elif choice == 2:  # valid JSON of the wrong shape
            inputs.append(json.dumps(rng.choice([[], 0, "s", None, {"a": 1}])).encode())
        else:  # valid records, some repeated
            inputs.append(json.dumps(
                {**valid, "work_order_id": f"W-{rng.randint(0, 20)}"}, ensure_ascii=False
            ).encode())  # fmt: skip
    for body in inputs:
        await harness.send(body)
    await harness.send(valid)  # the consumer still takes a good record at the end

    print(f"fuzz: {len(inputs) + 1} inputs tried, outcomes {sorted(set(counted))}")
    assert len(counted) == len(inputs) + 1  # exactly one outcome per input
    assert set(counted) <= {"accepted", "duplicate", "corrected", "rejected"}
    assert counted[-1] == "accepted"
    assert harness.published[topics.WORKORDER_CLOSED]
