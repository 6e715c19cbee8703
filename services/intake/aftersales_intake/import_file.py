"""Import a DMS export (CSV or XLSX with the DMS's Chinese headers) through the one pipeline.

    AFTERSALES_DMS_TOKEN=… python -m aftersales_intake.import_file FILE --dealer dealer-sz-001
                                                                  [--report PATH] [--token JWT]

Each row becomes a DMS work order (headers mapped below) and goes through the same pipeline as
the Kafka topic and the webhook; refused rows are kept in the rejected inbox (D5) and listed in a
per-row error report (FILE.errors.csv unless --report). A re-run of the same file changes
nothing: the rows come back as duplicates, and the refused ones as the same rejections.

Like the webhook, the import takes the DMS's own credential: a token with role `dms` that serves
`--dealer` (from AFTERSALES_DMS_TOKEN, or --token). Before any row is taken in, the file is
checked against the limits (INTAKE_IMPORT_*): its size, an XLSX's unpacked size (zip bombs), the
row count and the longest cell; a file over a limit is refused whole with the reason. Cells the
error report copies from the file are neutralised for spreadsheets (formula injection).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from aftersales_runtime.auth import InvalidToken, TokenVerifier
from aftersales_runtime.dealers import DealerDirectory
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


class FileRefused(ValueError):
    """The file as a whole is not imported; the message says why (and echoes no cell)."""


@dataclass(frozen=True)
class ImportLimits:
    max_bytes: int = 100 * 1024 * 1024
    max_rows: int = 100_000
    max_cell_chars: int = 4096
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_part_ratio: int = 100  # unpacked/packed of one XLSX part; real sheets stay near 10-20

    @classmethod
    def of(cls, settings: IntakeSettings) -> ImportLimits:
        return cls(
            settings.import_max_bytes,
            settings.import_max_rows,
            settings.import_max_cell_chars,
            settings.import_max_unpacked_bytes,
        )


def _is_spreadsheet(path: Path) -> bool:
    return path.suffix.lower() in (".xlsx", ".xlsm")


def _check_package(path: Path, limits: ImportLimits) -> None:
    """An XLSX is a zip: refuse one that is not, or that would unpack far beyond its size."""
    try:
        with zipfile.ZipFile(path) as package:
            parts = package.infolist()
    except zipfile.BadZipFile as error:
        raise FileRefused("not an XLSX file (not a zip package)") from error
    unpacked = sum(part.file_size for part in parts)
    if unpacked > limits.max_unpacked_bytes:
        raise FileRefused(
            f"the XLSX unpacks to {unpacked} bytes, more than {limits.max_unpacked_bytes}"
        )
    for part in parts:
        if part.file_size > limits.max_part_ratio * max(part.compress_size, 1024):
            ratio = part.file_size // max(part.compress_size, 1)
            raise FileRefused(
                f"the XLSX part {part.filename!r} unpacks to {ratio}x its size: a zip bomb"
            )


def inspect_file(path: Path, limits: ImportLimits) -> int:
    """The number of data rows, once the file is known to stay within the limits."""
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise FileRefused(f"the file has {size} bytes, more than {limits.max_bytes}")
    if _is_spreadsheet(path):
        _check_package(path, limits)
    count = 0
    for count, row in enumerate(read_rows(path, limits), start=1):
        if count > limits.max_rows:
            raise FileRefused(f"more than {limits.max_rows} rows")
        for value in row.values():
            if isinstance(value, str) and len(value) > limits.max_cell_chars:
                raise FileRefused(
                    f"row {count + 1} has a cell longer than {limits.max_cell_chars} characters"
                )
    return count


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text the error report hands back to a spreadsheet never starts a formula (CSV
    injection): it gets a leading quote, so Excel shows it as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def read_rows(path: Path, limits: ImportLimits | None = None) -> Iterator[dict[str, Any]]:
    limits = limits or ImportLimits()
    if _is_spreadsheet(path):
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a file that is not a book
            raise FileRefused(f"not a readable XLSX workbook ({type(error).__name__})") from error
        rows = book.active.iter_rows(values_only=True)
        first = next(rows, None)
        header = [str(h).strip() if h is not None else "" for h in first or ()]
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
    csv.field_size_limit(limits.max_cell_chars)
    reader = csv.DictReader(text.splitlines())
    try:
        yield from reader
    except csv.Error as error:
        raise FileRefused(
            f"row {reader.line_num} is not readable CSV or has a cell longer than "
            f"{limits.max_cell_chars} characters"
        ) from error


#: Rows taken in as one batch of the pipeline (a few round trips per chunk, not per row).
CHUNK_ROWS = 500


async def import_file(
    path: Path,
    dealer_id: str,
    intake: Intake,
    report: Path,
    progress: bool = True,
    limits: ImportLimits | None = None,
) -> Counter[str]:
    """Raises FileRefused, before any row is taken in, for a file over the limits."""
    limits = limits or ImportLimits()
    total = inspect_file(path, limits)
    counts: Counter[str] = Counter()
    with report.open("w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out)
        writer.writerow(["行号", "工单号", "结果", "原因代码", "字段", "说明"])
        rows = read_rows(path, limits)
        chunk: list[tuple[int, dict[str, Any]]] = []

        async def take_in(chunk: list[tuple[int, dict[str, Any]]]) -> None:
            raws = [json.dumps(record, ensure_ascii=False).encode() for _, record in chunk]
            outcomes: list[Outcome] = await intake.take_in_many(raws, "workorder", "csv")
            for (number, record), outcome in zip(chunk, outcomes, strict=True):
                counts[outcome.status] += 1
                for reason in outcome.reasons:
                    writer.writerow(
                        [spreadsheet_safe(cell) for cell in
                         (number, record.get("work_order_id", ""), outcome.status, reason.code,
                          reason.field or "", reason.message)]
                    )  # fmt: skip

        for number, row in enumerate(
            tqdm(rows, total=total, unit="行", disable=not progress, file=sys.stderr),
            start=2,  # row 1 is the header
        ):
            chunk.append((number, row_to_record(row, dealer_id)))
            if len(chunk) >= CHUNK_ROWS:
                await take_in(chunk)
                chunk = []
        if chunk:
            await take_in(chunk)
    return counts


async def authorise_import(verifier: TokenVerifier, token: str | None, dealer_id: str) -> str:
    """The DMS's credential, checked like the webhook's: role `dms`, serving the dealer. Returns
    the DMS's id; raises SystemExit with the reason."""
    if not token:
        raise SystemExit("the import needs the DMS's token: AFTERSALES_DMS_TOKEN or --token")
    try:
        caller = await verifier.verify(token)
    except InvalidToken as error:
        raise SystemExit(f"token refused: {error}") from error
    if "dms" not in caller.roles:
        raise SystemExit("the import needs a token with the role dms")
    if not caller.serves(dealer_id):
        raise SystemExit(f"this token does not serve {dealer_id}")
    return caller.sub


async def _main(args: argparse.Namespace) -> Counter[str]:
    settings = IntakeSettings(log_level="WARNING")
    verifier = TokenVerifier(settings.auth, DealerDirectory.load(settings.dealers_file))
    verifier.ensure_configured()
    await authorise_import(
        verifier, args.token or os.environ.get("AFTERSALES_DMS_TOKEN"), args.dealer
    )
    service = build(settings, consume=False)
    if args.dealer not in service.intake.dealers:
        known = ", ".join(service.intake.dealers.ids())
        raise SystemExit(f"unknown dealer {args.dealer!r}; known: {known}")
    await service.runtime.start()
    try:
        report = args.report or args.file.with_suffix(args.file.suffix + ".errors.csv")
        counts = await import_file(
            args.file,
            args.dealer,
            service.intake,
            report,
            not args.quiet,
            ImportLimits.of(settings),
        )
    except FileRefused as refused:
        raise SystemExit(f"{args.file.name} refused: {refused}") from refused
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
    parser.add_argument("--token", help="the DMS's token (default: $AFTERSALES_DMS_TOKEN)")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
