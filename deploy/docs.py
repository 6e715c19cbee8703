"""The OpenAPI document of every service, generated from its code into `docs/openapi/`.

    python -m deploy.docs write   regenerate docs/openapi/<service>.json
    python -m deploy.docs check   fail when a checked-in document differs from the code

The AsyncAPI documents stay beside each service (`services/<name>/asyncapi.json`, written by
`make asyncapi`): the ACL check reads them there. `docs/README.md` lists both.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

from deploy.local.services import SERVICES as LAUNCHED

REPO = Path(__file__).resolve().parents[1]
OPENAPI_DIR = REPO / "docs" / "openapi"
SERVICES = tuple(LAUNCHED)  # every service the launcher knows


def openapi_of(service: str) -> dict[str, Any]:
    """Built with the default settings, without starting anything (no Kafka, no MongoDB)."""
    app_module = importlib.import_module(f"aftersales_{service}.app")
    settings_module = importlib.import_module(f"aftersales_{service}.settings")
    settings = getattr(settings_module, f"{service.capitalize()}Settings")()
    document: dict[str, Any] = app_module.create_app(settings).openapi()
    return document


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.docs")
    parser.add_argument("command", choices=["write", "check"])
    args = parser.parse_args(argv)
    stale = []
    for service in SERVICES:
        path = OPENAPI_DIR / f"{service}.json"
        text = render(openapi_of(service))
        if args.command == "write":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path.relative_to(REPO)))
    for name in stale:
        print(f"docs: {name} is out of date with the code; run 'make docs'", file=sys.stderr)
    if args.command == "check" and not stale:
        print(f"docs: the OpenAPI documents of {len(SERVICES)} services match their code")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
