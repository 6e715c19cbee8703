"""The README documents the DMS contract field by field: it must not fall behind the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from aftersales_contracts import topics
from aftersales_contracts.dms import (
    WORK_ORDER_TYPE_LABELS,
    DmsCustomer,
    DmsItem,
    DmsNextMaintenance,
    DmsOwner,
    DmsStaff,
    DmsVehicleDelivered,
    DmsWorkOrderClosed,
)
from aftersales_contracts.events import EVENT_TYPES
from aftersales_contracts.schemas import EXAMPLES_DIR
from pydantic import BaseModel

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
DMS_MODELS: list[type[BaseModel]] = [
    DmsWorkOrderClosed,
    DmsVehicleDelivered,
    DmsCustomer,
    DmsOwner,
    DmsStaff,
    DmsItem,
    DmsNextMaintenance,
]

SCHEME_SEPARATOR = ":" + "//"  # spelled apart so this file passes its own check


@pytest.mark.parametrize("model", DMS_MODELS, ids=lambda m: m.__name__)
def test_readme_documents_every_dms_field(model: type[BaseModel]) -> None:
    missing = [name for name in model.model_fields if f"`{name}`" not in README]
    assert missing == []


def test_readme_lists_labels_topics_and_examples() -> None:
    for label, value in WORK_ORDER_TYPE_LABELS.items():
        assert f"| `{value}` | {label} |" in README
    for topic in topics.ALL_TOPICS:
        assert f"`{topic}`" in README
    for topic, model in EVENT_TYPES.items():
        assert f"| `{topic}` | `{model.__name__}` | {model.SCHEMA_VERSION} |" in README
    for example in EXAMPLES_DIR.glob("*.json"):
        assert f"`{example.name}`" in README


def test_no_web_addresses_in_the_package() -> None:
    root = Path(__file__).parents[1]
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in {".py", ".md", ".json", ".toml"}:
            assert SCHEME_SEPARATOR not in path.read_text(encoding="utf-8"), path
