"""The external DMS contract: examples, schemas, lenient values, strict structure."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aftersales_contracts.__main__ import main
from aftersales_contracts.dms import (
    CHANNEL_LABELS,
    WORK_ORDER_TYPE_LABELS,
    Channel,
    DmsVehicleDelivered,
    DmsWorkOrderClosed,
    WorkOrderType,
)
from aftersales_contracts.schemas import (
    EXAMPLES_DIR,
    PUBLISHED_MODELS,
    SCHEMA_DIR,
    check_schemas,
    load_schema,
    render,
    schema_filename,
    write_schemas,
)
from jsonschema import Draft202012Validator, FormatChecker
from pydantic import BaseModel, ValidationError

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.json"))

SCHEME_SEPARATOR = ":" + "//"  # spelled apart so this file passes its own check


def _model_of(path: Path) -> type[BaseModel]:
    return DmsVehicleDelivered if path.name.startswith("vehicle-") else DmsWorkOrderClosed


def _validator(model: type[BaseModel]) -> Draft202012Validator:
    schema = load_schema(model)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    return loaded


def _both_refuse(model: type[BaseModel], payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        model.model_validate_json(json.dumps(payload))
    assert list(_validator(model).iter_errors(payload)), "the JSON schema accepted it"


# --- schemas and examples --------------------------------------------------------------------


def test_checked_in_schemas_equal_generated() -> None:
    assert check_schemas() == []
    for model in PUBLISHED_MODELS:
        assert (SCHEMA_DIR / schema_filename(model)).read_text(encoding="utf-8") == render(model)


def test_check_schemas_reports_drift(tmp_path: Path) -> None:
    write_schemas(tmp_path)
    assert main(["check-schemas", "--dir", str(tmp_path)]) == 0
    path = tmp_path / schema_filename(DmsWorkOrderClosed)
    path.write_text(path.read_text(encoding="utf-8").replace('"vin"', '"vin_"'), encoding="utf-8")
    problems = check_schemas(tmp_path)
    assert len(problems) == 1
    assert "vin_" in problems[0]
    assert main(["check-schemas", "--dir", str(tmp_path)]) == 1
    (tmp_path / schema_filename(DmsVehicleDelivered)).unlink()
    assert any("missing" in p for p in check_schemas(tmp_path))


def test_schema_ids_and_no_web_addresses() -> None:
    assert load_schema(DmsWorkOrderClosed)["$id"] == "dms.workorder.closed/v1"
    assert load_schema(DmsVehicleDelivered)["$id"] == "dms.vehicle.delivered/v1"
    for path in SCHEMA_DIR.glob("*.json"):
        assert SCHEME_SEPARATOR not in path.read_text(encoding="utf-8")


def test_there_are_enough_examples() -> None:
    assert len(EXAMPLES) >= 6
    assert any(p.name.startswith("vehicle-") for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_validates_with_model_and_schema(path: Path) -> None:
    model = _model_of(path)
    model.model_validate_json(path.read_bytes())
    errors = [e.message for e in _validator(model).iter_errors(json.loads(path.read_bytes()))]
    assert errors == []


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_round_trips(path: Path) -> None:
    model = _model_of(path)
    parsed = model.model_validate_json(path.read_bytes())
    again = model.model_validate_json(parsed.model_dump_json())
    assert again == parsed
    # what we write back out also satisfies the published schema
    assert list(_validator(model).iter_errors(json.loads(parsed.model_dump_json()))) == []


# --- values written the DMS's way ------------------------------------------------------------


CHINESE_LABELS = [  # written out, not read from WORK_ORDER_TYPE_LABELS, so a wrong entry fails
    ("保养", WorkOrderType.MAINTENANCE),
    ("维修", WorkOrderType.REPAIR),
    ("索赔", WorkOrderType.WARRANTY),
    ("事故", WorkOrderType.ACCIDENT),
    ("首保", WorkOrderType.FIRST_MAINTENANCE),
    ("召回", WorkOrderType.RECALL),
    ("其他", WorkOrderType.OTHER),
]


@pytest.mark.parametrize(("label", "expected"), CHINESE_LABELS)
def test_chinese_work_order_type_labels(label: str, expected: WorkOrderType) -> None:
    payload = _example("workorder-maintenance.json") | {"work_order_type": f" {label} "}
    assert DmsWorkOrderClosed.model_validate(payload).work_order_type is expected
    assert list(_validator(DmsWorkOrderClosed).iter_errors(payload)) == []


def test_every_work_order_type_has_a_chinese_label() -> None:
    assert set(WORK_ORDER_TYPE_LABELS.values()) == set(WorkOrderType)
    assert WORK_ORDER_TYPE_LABELS["首保"] is WorkOrderType.FIRST_MAINTENANCE
    assert WORK_ORDER_TYPE_LABELS["索赔"] is WorkOrderType.WARRANTY


@pytest.mark.parametrize("written", ["Repair", "REPAIR", " repair", "维修"])
def test_work_order_type_case_insensitive(written: str) -> None:
    payload = _example("workorder-maintenance.json") | {"work_order_type": written}
    assert DmsWorkOrderClosed.model_validate(payload).work_order_type is WorkOrderType.REPAIR
    assert list(_validator(DmsWorkOrderClosed).iter_errors(payload)) == []


@pytest.mark.parametrize("written", ["repairs", "大修", "", "maintenance repair"])
def test_unknown_work_order_type_refused(written: str) -> None:
    _both_refuse(
        DmsWorkOrderClosed, _example("workorder-maintenance.json") | {"work_order_type": written}
    )


def test_chinese_channel_labels() -> None:
    assert CHANNEL_LABELS["短信"] is Channel.SMS
    parsed = DmsWorkOrderClosed.model_validate(
        _example("workorder-chinese-type-label-local-time.json")
    )
    assert parsed.customer.preferred_channel is Channel.SMS


def test_time_without_offset_stays_local() -> None:
    parsed = DmsWorkOrderClosed.model_validate(
        _example("workorder-chinese-type-label-local-time.json")
    )
    assert parsed.settled_at == datetime(2026, 11, 20, 10, 30)
    assert parsed.settled_at.tzinfo is None  # intake localises it in the dealer's zone


def test_time_with_offset_is_an_instant() -> None:
    parsed = DmsWorkOrderClosed.model_validate(_example("workorder-maintenance.json"))
    assert parsed.settled_at.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    "written", ["2026-11-20", 1763600000, "20/11/2026 10:30", "2026-11-20T10:30:00+08"]
)
def test_ambiguous_times_refused(written: object) -> None:
    _both_refuse(
        DmsWorkOrderClosed, _example("workorder-maintenance.json") | {"settled_at": written}
    )


def test_amounts_keep_decimals_and_serialise_as_numbers() -> None:
    parsed = DmsWorkOrderClosed.model_validate_json(
        (EXAMPLES_DIR / "workorder-accident-landline.json").read_bytes()
    )
    assert parsed.total_amount == Decimal("5980.50")
    assert sum(item.amount for item in parsed.items) == parsed.total_amount
    assert json.loads(parsed.model_dump_json())["total_amount"] == 5980.5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total_amount", "580.00"),
        ("total_amount", True),
        ("mileage_km", "15230"),
        ("mileage_km", 15230.5),
    ],
)
def test_amounts_and_mileage_must_be_numbers(field: str, value: object) -> None:
    _both_refuse(DmsWorkOrderClosed, _example("workorder-maintenance.json") | {field: value})


def test_negative_amount_is_structure_not_refused_here() -> None:
    # intake refuses it with its own reason code (D5); the contract only describes structure
    payload = _example("workorder-maintenance.json") | {"total_amount": -1}
    assert DmsWorkOrderClosed.model_validate(payload).total_amount == -1


def test_negative_labor_hours_refused() -> None:
    payload = _example("workorder-maintenance.json")
    payload["items"][0]["labor_hours"] = -0.5
    _both_refuse(DmsWorkOrderClosed, payload)


@pytest.mark.parametrize(
    "field",
    [
        "event_id",
        "dealer_id",
        "work_order_id",
        "settled_at",
        "vin",
        "customer",
        "service_advisor",
        "total_amount",
    ],
)
def test_required_fields(field: str) -> None:
    payload = _example("workorder-maintenance.json")
    del payload[field]
    _both_refuse(DmsWorkOrderClosed, payload)


@pytest.mark.parametrize("blank", ["", "   "])
def test_dealer_id_must_not_be_blank(blank: str) -> None:
    _both_refuse(DmsWorkOrderClosed, _example("workorder-maintenance.json") | {"dealer_id": blank})


def test_customer_name_must_not_be_empty() -> None:
    payload = _example("workorder-maintenance.json")
    payload["customer"]["name"] = ""
    _both_refuse(DmsWorkOrderClosed, payload)


def test_unknown_fields_are_ignored() -> None:
    payload = _example("workorder-recall-extra-fields.json")
    assert "dms_vendor" in payload
    parsed = DmsWorkOrderClosed.model_validate(payload)
    assert "dms_vendor" not in parsed.model_dump()
    assert parsed.customer.contact_consent is False  # D4 carried as sent


def test_other_schema_version_refused() -> None:
    _both_refuse(DmsWorkOrderClosed, _example("workorder-maintenance.json") | {"schema_version": 2})


def test_defaults() -> None:
    parsed = DmsWorkOrderClosed.model_validate(_example("workorder-repair-new-energy.json"))
    assert parsed.customer.is_owner is True
    assert parsed.owner is None
    assert parsed.schema_version == 1
    assert parsed.next_maintenance is not None
    assert parsed.next_maintenance.due_mileage_km == 60000


def test_owner_differs() -> None:
    parsed = DmsWorkOrderClosed.model_validate(_example("workorder-company-car-owner-differs.json"))
    assert parsed.customer.is_owner is False
    assert parsed.owner is not None
    assert parsed.owner.name == "深圳市华强物流有限公司"


def test_vehicle_delivered_plate_may_be_missing() -> None:
    parsed = DmsVehicleDelivered.model_validate(_example("vehicle-delivered.json"))
    assert parsed.plate is None
    assert parsed.TOPIC == "dms.vehicle.delivered"
