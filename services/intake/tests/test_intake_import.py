"""Tier 2: the file import through the one pipeline (issue 4.1): counts, report, re-run."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from aftersales_contracts import topics
from aftersales_intake.import_file import import_file, row_to_record

pytestmark = pytest.mark.stack

HEADER = ["工单号", "工单类型", "开单时间", "结算时间", "VIN", "车牌号", "品牌", "车型", "进厂里程",
          "客户编号", "客户姓名", "联系电话", "服务顾问", "维修技师", "结算金额"]  # fmt: skip
VINS = ["LSVAU218XN2183294", "LFV2A21K8P4012345", "LSGKE54H1PW098765", "LHGCV1657N8012345"]


def rows(n: int, broken: set[int]) -> list[list[str]]:
    out = []
    for i in range(n):
        phone = "12345" if i in broken else f"1380013{i:04d}"
        out.append([f"WO-{i}", "保养", "2026-11-20 09:00", "2026-11-20 10:00", VINS[i % 4].lower(),
                    "粤B·12345", "大众", "帕萨特", str(1000 + i), f"C-{i}", "张伟", phone,
                    "王芳", "刘强，赵磊", "580.00"])  # fmt: skip
    return out


def test_a_row_becomes_a_dms_record():
    record = row_to_record(dict(zip(HEADER, rows(1, set())[0], strict=True)), "dealer-sz-001")
    assert record["mileage_km"] == 1000
    assert record["total_amount"] == 580.0
    assert record["customer"]["phone"] == "13800130000"
    assert record["technicians"] == [{"id": "刘强", "name": "刘强"}, {"id": "赵磊", "name": "赵磊"}]
    assert record["service_advisor"] == {"id": "王芳", "name": "王芳"}


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_import_reports_broken_rows_and_a_rerun_changes_nothing(harness, tmp_path, fmt):
    n, broken = 40, {3, 17, 29}
    path = tmp_path / f"export.{fmt}"
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8-sig") as f:
            csv.writer(f).writerows([HEADER, *rows(n, broken)])
    else:
        from openpyxl import Workbook

        book = Workbook()
        for line in [HEADER, *rows(n, broken)]:
            book.active.append(line)
        book.save(path)
    report = tmp_path / "errors.csv"
    intake = harness.service.intake

    first = await import_file(path, "dealer-sz-001", intake, report, progress=False)
    assert first == Counter(accepted=n - len(broken), rejected=len(broken))
    with report.open(encoding="utf-8-sig") as f:
        lines = list(csv.DictReader(f))
    assert sorted(int(line["行号"]) - 2 for line in lines) == sorted(broken)
    assert {line["原因代码"] for line in lines} == {"phone.invalid"}
    published = len(harness.published[topics.WORKORDER_CLOSED])
    rejected = len(harness.published[topics.INTAKE_REJECTED])

    again = await import_file(path, "dealer-sz-001", intake, report, progress=False)
    assert again == Counter(duplicate=n - len(broken), rejected=len(broken))
    assert len(harness.published[topics.WORKORDER_CLOSED]) == published
    assert len(harness.published[topics.INTAKE_REJECTED]) == rejected
