"""Contract evolution check: would a change break a reader or a writer still on the previous
version? (issue 14).

The previous version is a checked-in baseline (`shared/contracts/baseline/`, one schema per
contract: the published DMS JSON Schemas and every internal event's schema), since the project
has no release tag yet. During a rolling restart old and new processes run side by side, so a
change must hold both ways: an old consumer reads what a new producer writes, a new consumer
reads what an old producer wrote. So:

- adding an optional field passes;
- removing a field, changing its type, adding a required field, making a field required or
  optional, allowing or refusing null, adding or removing an enum value: each fails, naming the
  field (`contract: path.to.field: what changed`).

Internal events refuse unknown fields (extra="forbid"), so even an added optional field is parked
by a consumer still on the old version until it is upgraded: deploy consumers before producers.
A deliberate breaking change is a new schema version (a new contract name), and the baseline is
regenerated with `make contracts-baseline` once the change is agreed (and after merges that add
fields: the baseline follows main).

    python -m aftersales_contracts.compat check [--baseline DIR]
    python -m aftersales_contracts.compat write [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aftersales_contracts.events import EVENT_TYPES
from aftersales_contracts.schemas import PUBLISHED_MODELS, SCHEMA_DIR, schema_filename

Schema = dict[str, Any]
BASELINE_DIR = Path(__file__).resolve().parents[1] / "baseline"


def current_contracts() -> dict[str, Schema]:
    """Every contract by name: the published DMS schema files as checked in (the DMS teams
    validate against these) and each internal event model's schema."""
    contracts: dict[str, Schema] = {}
    for model in PUBLISHED_MODELS:
        name = schema_filename(model).removesuffix(".schema.json")
        contracts[name] = json.loads((SCHEMA_DIR / schema_filename(model)).read_text("utf-8"))
    for topic, event in sorted(EVENT_TYPES.items()):
        contracts[f"{topic}.v{event.SCHEMA_VERSION}"] = event.model_json_schema(mode="validation")
    return contracts


def write_baseline(directory: Path = BASELINE_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.json"):
        stale.unlink()
    written = []
    for name, schema in current_contracts().items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", "utf-8")
        written.append(path)
    return written


def load_baseline(directory: Path = BASELINE_DIR) -> dict[str, Schema]:
    return {
        path.name.removesuffix(".json"): json.loads(path.read_text("utf-8"))
        for path in sorted(directory.glob("*.json"))
    }


def breaking_changes(old: dict[str, Schema], new: dict[str, Schema]) -> list[str]:
    """What in `new` breaks a reader or writer of `old`; empty when compatible. A contract
    that is new passes; a contract that disappeared fails."""
    problems = []
    for name, old_schema in old.items():
        if name not in new:
            problems.append(f"{name}: the contract was removed")
            continue
        problems.extend(
            f"{name}: {problem}"
            for problem in _Comparison(old_schema, new[name]).node(old_schema, new[name], "")
        )
    return problems


class _Comparison:
    def __init__(self, old_root: Schema, new_root: Schema) -> None:
        self.old_root, self.new_root = old_root, new_root

    def node(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        old, new = _resolve(old, self.old_root), _resolve(new, self.new_root)
        old_variants = _variants(old, self.old_root)
        new_variants = _variants(new, self.new_root)
        where = path or "(the message)"
        old_null, new_null = _nullable(old_variants), _nullable(new_variants)
        if old_null and not new_null:
            yield f"{where}: no longer accepts null"
        if new_null and not old_null:
            yield f"{where}: may now be null"
        old_kinds, new_kinds = _kinds(old_variants), _kinds(new_variants)
        if old_kinds != new_kinds:
            yield f"{where}: type changed from {_show(old_kinds)} to {_show(new_kinds)}"
            return
        old_enum, new_enum = _enum_values(old_variants), _enum_values(new_variants)
        if old_enum is not None and new_enum is not None and old_enum != new_enum:
            if added := sorted(map(str, new_enum - old_enum)):
                yield f"{where}: enum values added {added}"
            if removed := sorted(map(str, old_enum - new_enum)):
                yield f"{where}: enum values removed {removed}"
        elif (old_enum is None) != (new_enum is None):
            yield f"{where}: type changed ({'no longer' if new_enum is None else 'now'} an enum)"
        for kind, old_variant in _by_kind(old_variants).items():
            new_variant = _by_kind(new_variants)[kind]
            if kind == "object":
                yield from self.object(old_variant, new_variant, path)
            elif kind == "array":
                yield from self.node(
                    old_variant.get("items", {}), new_variant.get("items", {}), f"{path}[]"
                )

    def object(self, old: Schema, new: Schema, path: str) -> Iterator[str]:
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        for name, old_field in old_fields.items():
            field = f"{path}.{name}" if path else name
            if name not in new_fields:
                yield f"{field}: removed"
                continue
            if name in old_required and name not in new_required:
                yield f"{field}: no longer required (an old reader needs it)"
            if name in new_required and name not in old_required:
                yield f"{field}: now required (an old writer leaves it out)"
            yield from self.node(old_field, new_fields[name], field)
        for name in new_fields.keys() - old_fields.keys():
            if name in new_required:
                yield f"{path + '.' if path else ''}{name}: added as required"
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, dict) and isinstance(new_extra, dict):
            yield from self.node(old_extra, new_extra, f"{path}{{*}}")
        elif isinstance(old_extra, dict) != isinstance(new_extra, dict):
            yield f"{path or '(the message)'}: type changed (a map of entries, or not)"


def _resolve(schema: Schema, root: Schema) -> Schema:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = {**root.get("$defs", {})[name], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def _variants(schema: Schema, root: Schema) -> list[Schema]:
    """The alternatives a value may take: anyOf/oneOf flattened, `type: [a, b]` split."""
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        inherited = {"type": schema["type"]} if "type" in schema else {}
        return [v for option in options for v in _variants({**inherited, **option}, root)]
    schema = _resolve(schema, root)
    if isinstance(schema.get("type"), list):
        return [{**schema, "type": t} for t in schema["type"]]
    return [schema]


def _kind(variant: Schema) -> str:
    if "enum" in variant or "const" in variant:
        return "enum"
    kind = str(variant.get("type", "any"))
    if kind == "object" and "properties" not in variant and "additionalProperties" in variant:
        return "map"
    return f"{kind}:{variant['format']}" if "format" in variant else kind


def _nullable(variants: list[Schema]) -> bool:
    return any(v.get("type") == "null" for v in variants)


def _kinds(variants: list[Schema]) -> set[str]:
    kinds = {_kind(v) for v in variants if v.get("type") != "null"}
    if "enum" in kinds and len(kinds) > 1:  # an enum or a pattern of the same type
        kinds.discard("enum")
    return kinds


def _enum_values(variants: list[Schema]) -> set[Any] | None:
    values = [
        value
        for v in variants
        for value in (v.get("enum") or ([v["const"]] if "const" in v else []))
        if value is not None
    ]
    return set(values) if values else None


def _by_kind(variants: list[Schema]) -> dict[str, Schema]:
    found: dict[str, Schema] = {}
    for variant in variants:
        kind = _kind(variant)
        if kind in ("object", "map"):
            found["object"] = variant
        elif kind == "array":
            found["array"] = variant
    return found


def _show(kinds: set[str]) -> str:
    return " | ".join(sorted(kinds)) or "nothing"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aftersales_contracts.compat")
    parser.add_argument("command", choices=["check", "write"])
    parser.add_argument("--baseline", type=Path, default=BASELINE_DIR)
    args = parser.parse_args(argv)
    if args.command == "write":
        written = write_baseline(args.baseline)
        print(f"contracts: baseline of {len(written)} contracts written to {args.baseline}")
        return 0
    baseline = load_baseline(args.baseline)
    if not baseline:
        print(f"contracts: no baseline in {args.baseline}; run make contracts-baseline")
        return 1
    problems = breaking_changes(baseline, current_contracts())
    for problem in problems:
        print(f"contracts: breaking change: {problem}", file=sys.stderr)
    if problems:
        print(
            "contracts: a reader or writer on the previous version would break; make it "
            "additive (optional fields), or a new schema version, then make contracts-baseline",
            file=sys.stderr,
        )
        return 1
    print(f"contracts: {len(baseline)} contracts compatible with the baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
