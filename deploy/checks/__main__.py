"""`python -m deploy.checks [--root DIR]`: every deployment check; exit 1 when one fails."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploy.checks import compose, dockerfiles, kubernetes

CHECKS = {
    "dockerfiles": dockerfiles.check,
    "compose": compose.check,
    "kubernetes": kubernetes.check,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.checks")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args(argv)
    failed = 0
    for name, check in CHECKS.items():
        problems, what = check(args.root)
        for problem in problems:
            print(f"deploy-check: {name}: {problem}", file=sys.stderr)
        print(f"deploy-check: {what}: {'FAILED' if problems else 'ok'}")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
