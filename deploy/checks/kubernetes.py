"""deploy/k8s rendered (base and every overlay) and checked offline: each object against the
Kubernetes schemas that `kubernetes-validate` ships (strict: unknown fields fail), and the
project's rules: every Deployment has the three probes on the health routes, resources, a non-root
user and a PodDisruptionBudget; no Secret (values) in the repository; KEDA objects scale a
Deployment that exists, by its own consumer group, to no more replicas than there are partitions.
KEDA's kinds are not in the Kubernetes schemas, so they get the structural checks only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate

from deploy.checks.kustomize import KustomizeError, render

KUBERNETES_VERSION = "1.33.0"
KEDA = "keda.sh/v1alpha1"


def kustomizations(root: Path) -> list[Path]:
    k8s = root / "deploy" / "k8s"
    return sorted(path.parent for path in k8s.rglob("kustomization.yaml"))


def check(root: Path) -> tuple[list[str], str]:
    problems: list[str] = []
    objects = 0
    folders = kustomizations(root)
    if not folders:
        return ["deploy/k8s: no kustomization found"], "kubernetes"
    for folder in folders:
        shown = folder.relative_to(root)
        try:
            resources = render(folder)
        except (KustomizeError, OSError, KeyError) as error:
            problems.append(f"{shown}: cannot render: {error}")
            continue
        objects += len(resources)
        problems.extend(f"{shown}: {p}" for p in _check_rendered(resources))
    return problems, f"kubernetes ({len(folders)} kustomizations, {objects} objects)"


def _check_rendered(resources: list[dict[str, Any]]) -> list[str]:
    problems = []
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for resource in resources:
        kind, name = resource.get("kind", "?"), resource.get("metadata", {}).get("name", "?")
        by_kind.setdefault(kind, {})[name] = resource
        if kind == "Secret":
            problems.append(f"Secret {name}: secret values do not belong in the repository")
        if resource.get("apiVersion") == KEDA:
            continue
        try:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            problems.append(f"{kind} {name}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{kind} {name}: unknown kind for Kubernetes {KUBERNETES_VERSION}")
    budgets = {
        str(b["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/name"))
        for b in by_kind.get("PodDisruptionBudget", {}).values()
    }
    for name, deployment in by_kind.get("Deployment", {}).items():
        problems.extend(f"Deployment {name}: {p}" for p in _deployment_rules(deployment))
        if name not in budgets:
            problems.append(f"Deployment {name}: no PodDisruptionBudget selects it")
    partitions = int(
        by_kind.get("ConfigMap", {})
        .get("aftersales-settings", {})
        .get("data", {})
        .get("AFTERSALES_TOPIC_PARTITIONS", 0)
    )
    for name, scaled in by_kind.get("ScaledObject", {}).items():
        problems.extend(
            f"ScaledObject {name}: {p}"
            for p in _scaled_object_rules(scaled, by_kind.get("Deployment", {}), partitions)
        )
    return problems


def _deployment_rules(deployment: dict[str, Any]) -> list[str]:
    problems = []
    pod = deployment["spec"]["template"]["spec"]
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        problems.append("runAsNonRoot is not set")
    for container in pod.get("containers", []):
        name = container["name"]
        for probe, path in (
            ("livenessProbe", "/health/live"),
            ("readinessProbe", "/health/ready"),
            ("startupProbe", "/health/live"),
        ):
            found = container.get(probe, {}).get("httpGet", {}).get("path")
            if found != path:
                problems.append(f"container {name}: {probe} is not on {path} ({found})")
        resources = container.get("resources", {})
        if not resources.get("requests") or "memory" not in resources.get("limits", {}):
            problems.append(f"container {name}: no resource requests and memory limit")
        for variable in container.get("env", []):
            if any(w in variable["name"] for w in ("PASSWORD", "SECRET")) and "value" in variable:
                problems.append(f"container {name}: {variable['name']} has a value, not a ref")
    return problems


def _scaled_object_rules(
    scaled: dict[str, Any], deployments: dict[str, Any], partitions: int
) -> list[str]:
    problems = []
    spec = scaled.get("spec", {})
    target = spec.get("scaleTargetRef", {}).get("name")
    if target not in deployments:
        problems.append(f"scaleTargetRef {target!r} is not a Deployment here")
    maximum = spec.get("maxReplicaCount")
    if not isinstance(maximum, int) or maximum > partitions:
        problems.append(
            f"maxReplicaCount {maximum} is above the partitions ({partitions}): "
            "the extra replicas would idle"
        )
    for trigger in spec.get("triggers", []):
        metadata = trigger.get("metadata", {})
        if trigger.get("type") != "kafka":
            problems.append(f"trigger {trigger.get('type')!r} is not kafka")
        elif metadata.get("consumerGroup") != target:
            problems.append(f"consumerGroup {metadata.get('consumerGroup')!r} is not {target!r}")
    if not spec.get("triggers"):
        problems.append("no trigger")
    return problems
