"""The DMS-export import (issue 4, "must show"): a CSV with the DMS's Chinese headers, a share of
deliberately broken rows, imported twice. Prints figures; passes or fails nothing.

    python -m benchmarks.intake_import [--rows 10000] [--broken 0.05] [--dealer dealer-sz-001]

The rows come from the demo generator (`deploy/local/demo_data.py`), settled on the days before
today. A `--broken` share of them, chosen at random, gets exactly one realistic defect each (bad
phone, VIN with I/O/Q or of the wrong length, settlement before opening or in the future, negative
amount or mileage, unknown work-order type, missing customer name, unreadable plate); the reason
code each defect must produce is known, so the error report is checked row by row. The import
command (`python -m aftersales_intake.import_file`) then runs as a separate process against a
fresh database and topic prefix; then the SAME file again, which must change nothing: no new
records, rejections or events (counted on the output topics and in the database before/after).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aftersales_contracts import IntakeRejected, WorkOrderClosed
from aftersales_contracts.dms import WORK_ORDER_TYPE_LABELS
from aftersales_runtime.testing import tool_kafka_env
from pymongo import AsyncMongoClient

from benchmarks.intake import Space, count_records, dms_work_orders, new_space

LABEL_OF = {kind.value: label for label, kind in WORK_ORDER_TYPE_LABELS.items()}
CHANNEL_LABEL = {"phone": "电话", "sms": "短信", None: ""}
COLLECTIONS = ("work_orders", "vehicles", "rejections")


def export_row(order: dict[str, Any]) -> dict[str, str]:
    """A generator work order as a DMS export row (the headers intake's import maps)."""
    customer = order["customer"]
    yes_no = {True: "是", False: "否"}
    return {
        "工单号": order["work_order_id"],
        "工单类型": LABEL_OF.get(order["work_order_type"], order["work_order_type"]),
        "开单时间": order["opened_at"],
        "结算时间": order["settled_at"],
        "VIN": order["vin"],
        "车牌号": order["plate"],
        "品牌": order["brand"],
        "车型": order["model"],
        "进厂里程": str(order["mileage_km"]),
        "客户编号": customer["customer_id"],
        "客户姓名": customer["name"],
        "联系电话": customer["phone"],
        "是否车主": yes_no[customer["is_owner"]],
        "愿意回访": yes_no[customer["contact_consent"]],
        "首选渠道": CHANNEL_LABEL[customer["preferred_channel"]],
        "服务顾问编号": order["service_advisor"]["id"],
        "服务顾问": order["service_advisor"]["name"],
        "维修技师": "、".join(t["name"] for t in order["technicians"]),
        "结算金额": f"{order['total_amount']:.2f}",
        "下次保养日期": order["next_maintenance"]["due_date"],
        "下次保养里程": str(order["next_maintenance"]["due_mileage_km"]),
        "保险到期": order["insurance_expiry"],
        "驾照到期": order["licence_expiry"],
    }


def _swap_times(row: dict[str, str]) -> None:
    row["开单时间"], row["结算时间"] = row["结算时间"], row["开单时间"]


def _next_year(row: dict[str, str]) -> None:
    year = int(row["结算时间"][:4])
    row["结算时间"] = f"{year + 1}{row['结算时间'][4:]}"


#: defect name → (how it breaks a row, the reason code intake must give it)
DEFECTS: dict[str, tuple[Callable[[dict[str, str]], None], str]] = {
    "phone too short": (lambda r: r.update({"联系电话": "138-0013"}), "phone.invalid"),
    "VIN with O": (lambda r: r.update({"VIN": r["VIN"][:10] + "O" + r["VIN"][11:]}), "vin."),
    "VIN of 16 characters": (lambda r: r.update({"VIN": r["VIN"][:16]}), "vin.length"),
    "settled before opened": (_swap_times, "settled_at.before_opened"),
    "settled next year": (_next_year, "settled_at.in_future"),
    "negative amount": (lambda r: r.update({"结算金额": "-" + r["结算金额"]}), "total_amount."),
    "negative mileage": (lambda r: r.update({"进厂里程": "-" + r["进厂里程"]}), "mileage_km."),
    "unknown work-order type": (lambda r: r.update({"工单类型": "洗车美容"}), "schema."),
    "missing customer name": (lambda r: r.update({"客户姓名": ""}), "schema."),
    "unreadable plate": (lambda r: r.update({"车牌号": "粤B-12"}), "plate.invalid"),
}


def write_export(path: Path, dealer: str, rows: int, broken: float, seed: int) -> dict[int, str]:
    """Write the CSV; returns {CSV line number: defect} of the broken rows."""
    orders = list(dms_work_orders(rows, seed))
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(rows), round(rows * broken)))
    names = list(DEFECTS)
    defects: dict[int, str] = {}
    with path.open("w", newline="", encoding="utf-8-sig") as out:
        writer: csv.DictWriter[str] | None = None
        wanted = set(chosen)
        for index, order in enumerate(orders):
            row = export_row(order)
            if index in wanted:
                name = names[len(defects) % len(names)]
                DEFECTS[name][0](row)
                defects[index + 2] = name  # line 1 is the header
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row))
                writer.writeheader()
            writer.writerow(row)
    return defects


async def state(space: Space) -> dict[str, int]:
    """What an import can change: documents stored and events published."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(space.mongodb_url)
    try:
        db = client[space.database]
        found = {name: await db[name].count_documents({}) for name in COLLECTIONS}
    finally:
        await client.close()
    for event in (WorkOrderClosed, IntakeRejected):
        found[event.TOPIC] = await count_records(space.bootstrap, space.topic(event.TOPIC))
    return found


async def run_import(space: Space, path: Path, dealer: str) -> tuple[str, float]:
    env = {
        **os.environ,
        **tool_kafka_env(space.bootstrap),
        "MONGODB_URL": space.mongodb_url,
        "AFTERSALES_TOPIC_PREFIX": space.prefix,
        "INTAKE_MONGODB_DATABASE": space.database,
        "AFTERSALES_ENVIRONMENT": "development",
    }
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aftersales_intake.import_file",
        str(path),
        "--dealer",
        dealer,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    if process.returncode:
        raise SystemExit(f"the import failed (exit {process.returncode})")
    return stdout.decode().strip(), time.perf_counter() - started


def check_report(report: Path, defects: dict[int, str]) -> tuple[Counter[str], list[str]]:
    """Reason codes by defect; the rows where the report disagrees with the defect put in."""
    with report.open(encoding="utf-8-sig") as source:
        lines = list(csv.DictReader(source))
    codes: dict[int, set[str]] = {}
    for line in lines:
        codes.setdefault(int(line["行号"]), set()).add(line["原因代码"])
    found: Counter[str] = Counter()
    wrong = []
    for number, defect in defects.items():
        expected = DEFECTS[defect][1]
        got = codes.get(number, set())
        if any(code.startswith(expected) for code in got):
            found[f"{defect} → {','.join(sorted(got))}"] += 1
        else:
            wrong.append(f"line {number} ({defect}): {sorted(got) or 'not refused'}")
    wrong += [f"line {n}: refused but not broken {sorted(c)}" for n, c in codes.items()
              if n not in defects]  # fmt: skip
    return found, wrong


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.intake_import")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--broken", type=float, default=0.05, help="share of broken rows")
    parser.add_argument("--dealer", default="dealer-sz-001")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    )
    parser.add_argument(
        "--mongodb-url", default=os.environ.get("MONGODB_URL", "mongodb://127.0.0.1:27017/")
    )
    parser.add_argument("--keep", action="store_true", help="keep the file, topics and database")
    args = parser.parse_args(argv)

    space = new_space(args.bootstrap, args.mongodb_url, "benchimport")
    folder = Path(tempfile.mkdtemp(prefix="intake-import-"))
    export = folder / "dms_export.csv"
    try:
        defects = write_export(export, args.dealer, args.rows, args.broken, args.seed)
        print(f"{export.name}: {args.rows:,} rows, {len(defects):,} broken on purpose")
        first, first_seconds = await run_import(space, export, args.dealer)
        print(f"\nfirst import ({first_seconds:,.1f} s, {args.rows / first_seconds:,.1f} rows/s):")
        print(f"  {first}")
        report = export.with_suffix(".csv.errors.csv")
        print(f"\nerror report {report.name}, first lines:")
        with report.open(encoding="utf-8-sig") as lines:
            for _, line in zip(range(12), lines, strict=False):
                print(f"  {line.rstrip()}")
        found, wrong = check_report(report, defects)
        print("\nbroken rows, by defect → reason codes in the report:")
        for key, n in sorted(found.items()):
            print(f"  {n:>5}  {key}")
        print(f"  rows where the report disagrees with the defect put in: {len(wrong)}")
        for line in wrong[:10]:
            print(f"    {line}")

        before = await state(space)
        second, second_seconds = await run_import(space, export, args.dealer)
        after = await state(space)
        print(f"\nsecond import of the same file ({second_seconds:,.1f} s):")
        print(f"  {second}")
        print(f"  {'':28}{'before':>10}{'after':>10}")
        for key in before:
            print(f"  {key:28}{before[key]:>10,}{after[key]:>10,}")
        unchanged = before == after
        print("  the re-run changed nothing" if unchanged else "  THE RE-RUN CHANGED SOMETHING")
        return 0 if unchanged and not wrong else 1
    finally:
        if args.keep:
            print(f"kept: {folder}, topics {space.prefix}*, database {space.database}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
            await space.remove()


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
