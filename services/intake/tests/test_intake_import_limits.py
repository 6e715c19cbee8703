"""Tier 1/2: a file import that is not what it claims is refused whole, with its reason, and the
error report never hands a formula back to a spreadsheet; the import takes the DMS's token."""

from __future__ import annotations

import csv
import zipfile

import pytest
from aftersales_intake.import_file import (
    FileRefused,
    ImportLimits,
    authorise_import,
    import_file,
    inspect_file,
    spreadsheet_safe,
)
from aftersales_runtime.auth import TokenVerifier

HEADER = ["工单号", "工单类型", "开单时间", "结算时间", "VIN", "车牌号", "客户编号", "客户姓名",
          "联系电话", "结算金额"]  # fmt: skip


def row(work_order_id: str, phone: str = "13800138000", name: str = "张伟") -> list[str]:
    return [work_order_id, "保养", "2026-11-20 09:00", "2026-11-20 10:00", "LSVAU218XN2183294",
            "粤B12345", "C-1", name, phone, "580.00"]  # fmt: skip


def write_csv(path, rows) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as file:
        csv.writer(file).writerows([HEADER, *rows])


def test_a_zip_bomb_posing_as_xlsx_is_refused(tmp_path):
    bomb = tmp_path / "export.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    assert bomb.stat().st_size < 200 * 1024  # small on disk

    with pytest.raises(FileRefused, match="zip bomb"):
        inspect_file(bomb, ImportLimits())


def test_a_file_that_is_no_zip_or_no_workbook_is_refused(tmp_path):
    fake = tmp_path / "export.xlsx"
    fake.write_text("工单号,VIN\n", encoding="utf-8")
    with pytest.raises(FileRefused, match="not a zip"):
        inspect_file(fake, ImportLimits())
    empty = tmp_path / "empty.xlsx"
    with zipfile.ZipFile(empty, "w") as package:
        package.writestr("hello.txt", "hi")
    with pytest.raises(FileRefused, match="not a readable XLSX"):
        inspect_file(empty, ImportLimits())


def test_a_csv_with_a_50_mb_cell_is_refused(tmp_path):
    path = tmp_path / "export.csv"
    write_csv(path, [row("WO-1"), row("WO-2", name="x" * (50 * 1024 * 1024))])

    with pytest.raises(FileRefused, match="longer than 4096 characters"):
        inspect_file(path, ImportLimits())


def test_too_many_rows_or_bytes_are_refused(tmp_path):
    path = tmp_path / "export.csv"
    write_csv(path, [row(f"WO-{i}") for i in range(6)])
    assert inspect_file(path, ImportLimits()) == 6
    with pytest.raises(FileRefused, match="more than 5 rows"):
        inspect_file(path, ImportLimits(max_rows=5))
    with pytest.raises(FileRefused, match=r"bytes, more than 100$"):
        inspect_file(path, ImportLimits(max_bytes=100))


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)"])
def test_a_formula_is_neutralised_for_spreadsheets(formula):
    assert spreadsheet_safe(formula) == "'" + formula
    assert spreadsheet_safe("WO-1") == "WO-1"
    assert spreadsheet_safe(7) == 7


@pytest.mark.stack
async def test_the_error_report_hands_back_no_formula(harness, tmp_path):
    path = tmp_path / "export.csv"
    write_csv(path, [row('=HYPERLINK("http://evil.example","点我")', phone="12345")])
    report = tmp_path / "errors.csv"

    await import_file(path, "dealer-sz-001", harness.service.intake, report, progress=False)

    with report.open(encoding="utf-8-sig") as file:
        lines = list(csv.DictReader(file))
    assert lines  # the row was refused (fields missing, bad phone) and reported
    for line in lines:
        assert line["工单号"] == '\'=HYPERLINK("http://evil.example","点我")'


async def test_the_import_takes_a_dms_token_for_its_dealer(tokens):
    verifier = TokenVerifier(tokens.auth_settings())
    assert await authorise_import(verifier, tokens.mint("dms", sub="dms-1"), "dealer-sz-001") == (
        "dms-1"
    )
    refusals = {
        None: "needs the DMS's token",
        "garbage": "token refused",
        tokens.mint("agent"): "role dms",
        tokens.mint("dms", dealers=["dealer-bj-002"]): "does not serve dealer-sz-001",
    }
    for token, reason in refusals.items():
        with pytest.raises(SystemExit, match=reason):
            await authorise_import(verifier, token, "dealer-sz-001")
