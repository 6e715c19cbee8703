"""docker-compose.yml against the Compose Specification's JSON Schema (vendored in
deploy/schemas/, Apache-2.0: no download at check time), plus the project's own rules: every
service has a health check, and each of the five waits for Kafka and MongoDB to be healthy;
what a service mounts from the repository (dealer directory, Grafana's dashboard) exists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "compose-spec.json"
SERVICES = ("intake", "scheduler", "contact", "complaints", "reporting")
INFRASTRUCTURE = ("kafka", "mongodb")


def check(root: Path) -> tuple[list[str], str]:
    path = root / "docker-compose.yml"
    try:
        document: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        return [f"docker-compose.yml: {error}"], "compose"
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    problems = [
        f"docker-compose.yml: {error.json_path}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: e.json_path)
    ]
    if problems:
        return problems, "compose"
    services: dict[str, Any] = document.get("services", {})
    for name, service in services.items():
        if service.get("restart") == "no":
            continue  # one-shot jobs
        if "healthcheck" not in service:
            problems.append(f"docker-compose.yml: services.{name}: no healthcheck")
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
            if source.startswith(".") and not (root / source).exists():
                problems.append(f"docker-compose.yml: services.{name}: {source} does not exist")
        build = service.get("build")
        dockerfile = build.get("dockerfile") if isinstance(build, dict) else None
        if dockerfile and not service.get("profiles") and not (root / dockerfile).exists():
            problems.append(f"docker-compose.yml: services.{name}: {dockerfile} does not exist")
    for name in SERVICES:
        if name not in services:
            problems.append(f"docker-compose.yml: services.{name}: missing")
            continue
        depends = services[name].get("depends_on", {})
        for needed in INFRASTRUCTURE:
            condition = (
                depends.get(needed, {}).get("condition") if isinstance(depends, dict) else None
            )
            if condition != "service_healthy":
                problems.append(
                    f"docker-compose.yml: services.{name}.depends_on.{needed}: "
                    f"condition is {condition!r}, not 'service_healthy'"
                )
    return problems, f"compose ({len(services)} services)"
