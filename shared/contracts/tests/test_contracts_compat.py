"""Contract evolution (issue 14): the current contracts against the checked-in baseline, and the
check itself: an added optional field passes; a removed or retyped field fails, named."""

from __future__ import annotations

import copy
import json
from enum import StrEnum
from pathlib import Path

import pytest
from aftersales_contracts.compat import (
    BASELINE_DIR,
    breaking_changes,
    current_contracts,
    load_baseline,
    main,
    write_baseline,
)
from pydantic import BaseModel


def test_the_contracts_are_compatible_with_the_baseline():
    baseline = load_baseline()
    assert baseline, f"no baseline in {BASELINE_DIR}: run make contracts-baseline"
    assert breaking_changes(baseline, current_contracts()) == []


@pytest.fixture
def baseline():
    return load_baseline()


def changed(baseline, name, edit):
    new = copy.deepcopy(baseline)
    edit(new[name])
    return breaking_changes(baseline, new)


def test_an_added_optional_field_passes(baseline):
    def add(schema):
        schema["properties"]["fuel_level"] = {"anyOf": [{"type": "integer"}, {"type": "null"}]}

    assert changed(baseline, "dms.workorder.closed.v1", add) == []


def test_a_new_contract_passes(baseline):
    new = copy.deepcopy(baseline)
    new["aftersales.thing.happened.v1"] = {"type": "object", "properties": {}}
    assert breaking_changes(baseline, new) == []


def test_a_removed_field_fails_naming_it(baseline):
    def remove(schema):
        del schema["properties"]["mileage_km"]
        schema["required"].remove("mileage_km")

    assert changed(baseline, "dms.workorder.closed.v1", remove) == [
        "dms.workorder.closed.v1: mileage_km: removed"
    ]


def test_a_removed_nested_field_fails_with_its_path(baseline):
    def remove(schema):
        del schema["$defs"]["DmsCustomer"]["properties"]["preferred_channel"]

    assert changed(baseline, "dms.workorder.closed.v1", remove) == [
        "dms.workorder.closed.v1: customer.preferred_channel: removed"
    ]


def test_a_retyped_field_fails_naming_it(baseline):
    def retype(schema):
        schema["properties"]["attempt"] = {"type": "string"}

    assert changed(baseline, "aftersales.contact.result.v1", retype) == [
        "aftersales.contact.result.v1: attempt: type changed from integer to string"
    ]


def test_a_field_made_required_or_no_longer_nullable_fails(baseline):
    def require(schema):
        schema["required"].append("agent_id")
        schema["properties"]["agent_id"] = {"type": "string"}

    assert changed(baseline, "aftersales.contact.result.v1", require) == [
        "aftersales.contact.result.v1: agent_id: now required (an old writer leaves it out)",
        "aftersales.contact.result.v1: agent_id: no longer accepts null",
    ]


def test_an_added_required_field_fails(baseline):
    def add(schema):
        schema["properties"]["mood"] = {"type": "string"}
        schema["required"].append("mood")

    assert changed(baseline, "aftersales.contact.due.v1", add) == [
        "aftersales.contact.due.v1: mood: added as required"
    ]


def test_an_enum_value_added_fails_for_old_readers(baseline):
    def add(schema):
        schema["$defs"]["CallOutcome"]["enum"].append("abducted")

    problems = changed(baseline, "aftersales.contact.result.v1", add)
    assert problems == ["aftersales.contact.result.v1: outcome: enum values added ['abducted']"]


def test_a_removed_contract_fails(baseline):
    new = copy.deepcopy(baseline)
    del new["aftersales.contact.expired.v1"]
    assert breaking_changes(baseline, new) == [
        "aftersales.contact.expired.v1: the contract was removed"
    ]


class Mood(StrEnum):
    happy = "happy"
    sad = "sad"


class V1(BaseModel):
    name: str
    mood: Mood
    tags: list[str] = []


class V2Added(V1):
    note: str | None = None


class V2Retyped(BaseModel):
    name: str
    mood: Mood
    tags: list[int] = []


class V2Removed(BaseModel):
    name: str
    tags: list[str] = []


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (V2Added, []),
        (V2Retyped, ["m: tags[]: type changed from string to integer"]),
        (V2Removed, ["m: mood: removed"]),
    ],
)
def test_pydantic_models_as_they_evolve(new, expected):
    old = {"m": V1.model_json_schema()}
    assert breaking_changes(old, {"m": new.model_json_schema()}) == expected


def test_the_command_fails_on_a_removed_field_and_names_it(tmp_path: Path, capsys):
    write_baseline(tmp_path)
    path = tmp_path / "aftersales.contact.due.v1.json"
    schema = json.loads(path.read_text())
    schema["properties"]["legacy_flag"] = {"type": "boolean"}  # the baseline had a field ...
    path.write_text(json.dumps(schema))  # ... that the current model no longer has

    assert main(["check", "--baseline", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "aftersales.contact.due.v1: legacy_flag: removed" in err
    print(err)
