"""`make reliability`: every fault, one per run, each checked against the known workload.

    python -m tests.reliability [--faults kafka-kill,kill-contact@answers] [--orders 60]
                                [--rate 10] [--answer-rate 10] [--timeout 180] [--list]

Prints one table row per fault and ends with
`reliability: <k>/<n> faults survived; lost <l>; duplicated <d>`. Exit status 1 when a fault was
not survived. Logs of each run stay under .cache/reliability/<run>/<fault>/logs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time

from aftersales_runtime.testing import resolve_stack

from deploy.local.services import REPO
from tests.reliability.faults import catalogue, choose
from tests.reliability.harness import Options, run_once
from tests.reliability.table import COLUMNS, row, summary
from tests.reliability.workload import make_workload


async def main(args: argparse.Namespace) -> int:
    known = catalogue(args.freeze_seconds, args.down_seconds)
    if args.list:
        for fault in known.values():
            print(f"{fault.name:<22} strikes during: {fault.phase}")
        return 0
    faults = choose(args.faults.split(",") if args.faults else list(known), known)
    stack, _ = await asyncio.to_thread(resolve_stack, os.environ)
    workload = make_workload(args.orders)
    options = Options(args.rate, args.answer_rate, args.timeout)
    base = REPO / ".cache" / "reliability" / time.strftime("%Y%m%d-%H%M%S")
    began = time.monotonic()
    print(
        f"workload: {len(workload.orders)} work orders of 3 dealers at {args.rate:g}/s, "
        f"{workload.tickets} low scores; {len(faults)} fault(s); logs under "
        f"{base.relative_to(REPO)}"
    )
    print(COLUMNS)
    results = []
    for fault in faults:
        result = await run_once(stack, workload, fault, base / fault.name, options)
        results.append(result)
        print(row(result))
    print(f"took {time.monotonic() - began:.0f}s")
    print(summary(results))
    return 0 if all(r.survived for r in results) else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability")
    parser.add_argument("--faults", default=os.environ.get("FAULTS", ""), help="comma-separated")
    parser.add_argument("--orders", type=int, default=int(os.environ.get("ORDERS", "60")))
    parser.add_argument("--rate", type=float, default=10.0, help="work orders per second")
    parser.add_argument("--answer-rate", type=float, default=10.0, help="answers per second")
    parser.add_argument("--timeout", type=float, default=180.0, help="per stage, seconds")
    parser.add_argument("--freeze-seconds", type=float, default=20.0)
    parser.add_argument("--down-seconds", type=float, default=15.0)
    parser.add_argument("--list", action="store_true", help="list the faults and stop")
    parser.add_argument("-v", "--verbose", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse()
    logging.basicConfig(
        level=logging.INFO if arguments.verbose else logging.WARNING,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("httpx", "aiokafka"):
        logging.getLogger(noisy).setLevel(logging.CRITICAL)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.exit(asyncio.run(main(arguments)))
