"""Command line: ``python -m aftersales_contracts write-schemas | check-schemas [--dir DIR]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aftersales_contracts.schemas import SCHEMA_DIR, check_schemas, write_schemas


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aftersales_contracts")
    parser.add_argument("command", choices=["write-schemas", "check-schemas"])
    parser.add_argument("--dir", type=Path, default=SCHEMA_DIR, help="schema directory")
    args = parser.parse_args(argv)
    if args.command == "write-schemas":
        for path in write_schemas(args.dir):
            print(f"wrote {path}")
        return 0
    problems = check_schemas(args.dir)
    if problems:
        print("JSON schemas drifted from the models; run write-schemas:", file=sys.stderr)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1
    print("JSON schemas are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
