"""Import a DMS export (CSV or XLSX with the DMS's Chinese headers) through the one pipeline.

    python -m aftersales_intake.import_file FILE --dealer dealer-sz-001 [--report PATH]

Each row becomes a DMS work order (headers mapped below) and goes through the same pipeline as
the Kafka topic and the webhook; refused rows are kept in the rejected inbox (D5) and listed in a
per-row error report (FILE.errors.csv unless --report). A re-run of the same file changes
nothing: the rows come back as duplicates, and the refused ones as the same rejections.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tqdm import tqdm

from aftersales_intake.app import build
from aftersales_intake.pipeline import Intake, Outcome
from aftersales_intake.settings import IntakeSettings

#: DMS column header → dotted path in the DMS work-order JSON.
HEADERS: dict[str, str] = {
    "工单号": "work_order_id",
    "维修委托书号": "work_order_id",
    "工单类型": "work_order_type",
    "维修类型": "work_order_type",
    "开单时间": "opened_at",
    "结算时间": "settled_at",
    "VIN": "vin",
    "车架号": "vin",
    "车牌号": "plate",
    "品牌": "brand",
    "车型": "model",
    "进厂里程": "mileage_km",
    "里程": "mileage_km",
    "客户编号": "customer.customer_id",
    "客户姓名": "customer.name",
    "联系电话": "customer.phone",
    "是否车主": "customer.is_owner",
    "愿意回访": "customer.contact_consent",
    "首选渠道": "customer.preferred_channel",
    "生日": "customer.birthday",
    "服务顾问编号": "service_advisor.id",
    "服务顾问": "service_advisor.name",
    "维修技师": "technicians",
    "结算金额": "total_amount",
    "总金额": "total_amount",
    "下次保养日期": "next_maintenance.due_date",
    "下次保养里程": "next_maintenance.due_mileage_km",
    "保险类型": "insurance_type",
    "保险到期": "insurance_expiry",
    "驾照到期": "licence_expiry",
    "登记日期": "registration_date",
}
INTEGERS = {"mileage_km", "next_maintenance.due_mileage_km"}
NUMBERS = {"total_amount"}
BOOLEANS = {"customer.is_owner", "customer.contact_consent"}
TRUE_WORDS = {"是", "Y", "YES", "TRUE", "1", "愿意"}
FALSE_WORDS = {"否", "N", "NO", "FALSE", "0", "不愿意"}


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value.strip()
    return value


def _typed(path: str, value: Any) -> Any:
    """Spreadsheet text → the JSON type the contract wants; what can't be read stays text, so
    the contract's refusal names the field."""
    if not isinstance(value, str):
        return (
            int(value)
            if path in INTEGERS and isinstance(value, float) and value.is_integer()
            else value
        )
    if path in INTEGERS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if path in NUMBERS and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return float(value)
    if path in BOOLEANS:
        word = value.upper()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else value
    return value


def row_to_record(row: dict[str, Any], dealer_id: str) -> dict[str, Any]:
    record: dict[str, Any] = {"dealer_id": dealer_id}
    for header, raw in row.items():
        path = HEADERS.get((header or "").strip())
        value = _cell(raw)
        if path is None or value in (None, ""):
            continue
        if path == "technicians":
            names = [n for n in re.split(r"[,，、;；/]", str(value)) if n.strip()]
            record["technicians"] = [{"id": n.strip(), "name": n.strip()} for n in names]
            continue
        target = record
        *parents, leaf = path.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = _typed(path, value)
    advisor = record.get("service_advisor")
    if isinstance(advisor, dict) and "name" in advisor:
        advisor.setdefault("id", advisor["name"])  # exports without advisor ids
    customer = record.get("customer")
    if isinstance(customer, dict) and "customer_id" not in customer and "phone" in customer:
        customer["customer_id"] = f"phone:{customer['phone']}"
    record["event_id"] = f"import:{dealer_id}:{record.get('work_order_id', '')}"
    return record


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        rows = book.active.iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows)]
        for values in rows:
            if any(v not in (None, "") for v in values):
                yield dict(zip(header, values, strict=False))
        book.close()
        return
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")  # exports from Chinese Excel
    yield from csv.DictReader(text.splitlines())


def count_rows(path: Path) -> int | None:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return None
    return max(sum(1 for _ in read_rows(path)), 0)


#: Rows taken in as one batch of the pipeline (a few round trips per chunk, not per row).
CHUNK_ROWS = 500


async def import_file(
    path: Path, dealer_id: str, intake: Intake, report: Path, progress: bool = True
) -> Counter[str]:
    counts: Counter[str] = Counter()
    with report.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(["行号", "工单号", "结果", "原因代码", "字段", "说明"])
        rows = read_rows(path)
        chunk: list[tuple[int, dict[str, Any]]] = []

        async def take_in(chunk: list[tuple[int, dict[str, Any]]]) -> None:
            raws = [json.dumps(record, ensure_ascii=False).encode() for _, record in chunk]
            outcomes: list[Outcome] = await intake.take_in_many(raws, "workorder", "csv")
            for (number, record), outcome in zip(chunk, outcomes, strict=True):
                counts[outcome.status] += 1
                for reason in outcome.reasons:
                    writer.writerow(
                        [number, record.get("work_order_id", ""), outcome.status, reason.code,
                         reason.field or "", reason.message]
                    )  # fmt: skip

        for number, row in enumerate(
            tqdm(rows, total=count_rows(path), unit="行", disable=not progress, file=sys.stderr),
            start=2,  # row 1 is the header
        ):
            chunk.append((number, row_to_record(row, dealer_id)))
            if len(chunk) >= CHUNK_ROWS:
                await take_in(chunk)
                chunk = []
        if chunk:
            await take_in(chunk)
    return counts


async def _main(args: argparse.Namespace) -> Counter[str]:
    service = build(IntakeSettings(log_level="WARNING"), consume=False)
    if args.dealer not in service.intake.dealers:
        known = ", ".join(service.intake.dealers.ids())
        raise SystemExit(f"unknown dealer {args.dealer!r}; known: {known}")
    await service.runtime.start()
    try:
        report = args.report or args.file.with_suffix(args.file.suffix + ".errors.csv")
        counts = await import_file(args.file, args.dealer, service.intake, report, not args.quiet)
    finally:
        await service.runtime.stop()
    total = sum(counts.values())
    print(
        f"{total} rows: "
        + ", ".join(f"{k} {counts[k]}" for k in ("accepted", "corrected", "duplicate", "rejected"))
    )
    print(f"error report: {report}")
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m aftersales_intake.import_file")
    parser.add_argument("file", type=Path, help="CSV or XLSX export with Chinese headers")
    parser.add_argument("--dealer", required=True, help="dealer id of the export")
    parser.add_argument("--report", type=Path, help="error report (default FILE.errors.csv)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
