"""JSON Schema files of the external contracts (DMS, OEM), generated from the models.

The files are checked in so a DMS team can validate its messages without Python; a test and
``python -m aftersales_contracts check-schemas`` fail when the models drift from them.
Dialect: JSON Schema draft 2020-12 (the dialect pydantic generates). No "$schema" keyword is
written, because this repository holds no web addresses; validators must be told the draft.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from aftersales_contracts.dms import DmsVehicleDelivered, DmsWorkOrderClosed
from aftersales_contracts.oem import OemComplaintTransferred

SCHEMA_DIR = Path(__file__).parent / "schemas"
EXAMPLES_DIR = Path(__file__).parent / "examples"

#: The models whose schemas are published, i.e. the external contract.
PUBLISHED_MODELS: tuple[type[BaseModel], ...] = (
    DmsWorkOrderClosed,
    DmsVehicleDelivered,
    OemComplaintTransferred,
)


def schema_id(model: type[BaseModel]) -> str:
    """Schema identifier, e.g. "dms.workorder.closed/v1"."""
    return f"{model.TOPIC}/v{model.SCHEMA_VERSION}"  # type: ignore[attr-defined]


def schema_filename(model: type[BaseModel]) -> str:
    """File name, e.g. "dms.workorder.closed.v1.schema.json"."""
    return f"{model.TOPIC}.v{model.SCHEMA_VERSION}.schema.json"  # type: ignore[attr-defined]


def schema_for(model: type[BaseModel]) -> dict[str, Any]:
    """The validation-mode JSON Schema of ``model``, with its ``$id`` first."""
    return {"$id": schema_id(model), **model.model_json_schema(mode="validation")}


def render(model: type[BaseModel]) -> str:
    """Stable text: indent 2, key order as generated, UTF-8 as is, trailing newline."""
    return json.dumps(schema_for(model), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    """(Re)write every published schema; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for model in PUBLISHED_MODELS:
        path = directory / schema_filename(model)
        path.write_text(render(model), encoding="utf-8")
        written.append(path)
    return written


def check_schemas(directory: Path = SCHEMA_DIR) -> list[str]:
    """Differences between the checked-in files and the models: empty when in sync."""
    problems: list[str] = []
    for model in PUBLISHED_MODELS:
        path = directory / schema_filename(model)
        expected = render(model)
        if not path.exists():
            problems.append(f"{path.name}: missing")
            continue
        actual = path.read_text(encoding="utf-8")
        if actual != expected:
            diff = difflib.unified_diff(
                actual.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                fromfile=f"{path.name} (checked in)",
                tofile=f"{path.name} (from the models)",
            )
            problems.append("".join(diff))
    return problems


def load_schema(model: type[BaseModel], directory: Path = SCHEMA_DIR) -> dict[str, Any]:
    """The checked-in schema of ``model``."""
    loaded: dict[str, Any] = json.loads(
        (directory / schema_filename(model)).read_text(encoding="utf-8")
    )
    return loaded
