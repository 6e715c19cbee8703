"""A small kustomize renderer for the offline check (no kustomize binary on CI machines).

It understands what deploy/k8s uses, and refuses the rest loudly rather than render it wrong:
`resources` (files and kustomization folders), `namespace`, `labels` (pairs), `images`
(newName/newTag), `configMapGenerator` (literals, files; behavior create/merge/replace;
`generatorOptions.disableNameSuffixHash: true` only), and `patches` that are strategic-merge
files (lists of named items merged by name, as kubectl does for containers, env, volumes).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]
KNOWN = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "configMapGenerator",
    "generatorOptions",
    "patches",
}


class KustomizeError(ValueError):
    pass


def load_documents(path: Path) -> list[Resource]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def render(directory: Path) -> list[Resource]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text("utf-8")) or {}
    unknown = set(kustomization) - KNOWN
    if unknown:
        raise KustomizeError(f"{directory}/kustomization.yaml: not understood: {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        target = (directory / entry).resolve()
        resources.extend(render(target) if target.is_dir() else load_documents(target))
    options = kustomization.get("generatorOptions", {})
    generators = kustomization.get("configMapGenerator", [])
    if generators and options.get("disableNameSuffixHash") is not True:
        raise KustomizeError(f"{directory}: name suffix hashes are not rendered here")
    for generator in generators:
        _generate_config_map(directory, generator, resources)
    for patch in kustomization.get("patches", []):
        if "path" not in patch or "target" in patch:
            raise KustomizeError(f"{directory}: only strategic-merge patch files are rendered")
        for document in load_documents(directory / patch["path"]):
            target = _find(resources, document["kind"], document["metadata"]["name"])
            if target is None:
                raise KustomizeError(
                    f"{directory}/{patch['path']}: no {document['kind']} "
                    f"{document['metadata']['name']} to patch"
                )
            _merge(target, document)
    for image in kustomization.get("images", []):
        _set_image(resources, image)
    for pairs in (entry["pairs"] for entry in kustomization.get("labels", [])):
        for resource in resources:
            resource.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)
    if namespace := kustomization.get("namespace"):
        for resource in resources:
            resource.setdefault("metadata", {})["namespace"] = namespace
    return resources


def _find(resources: list[Resource], kind: str, name: str) -> Resource | None:
    for resource in resources:
        if resource.get("kind") == kind and resource.get("metadata", {}).get("name") == name:
            return resource
    return None


def _generate_config_map(directory: Path, generator: Resource, resources: list[Resource]) -> None:
    data: dict[str, str] = {}
    for literal in generator.get("literals", []):
        key, _, value = literal.partition("=")
        data[key] = value
    for file in generator.get("files", []):
        key, _, source = file.partition("=") if "=" in file else (Path(file).name, "", file)
        data[key] = (directory / source).read_text(encoding="utf-8")
    behavior = generator.get("behavior", "create")
    existing = _find(resources, "ConfigMap", generator["name"])
    if behavior == "create":
        if existing is not None:
            raise KustomizeError(f"{directory}: ConfigMap {generator['name']} exists already")
        resources.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": generator["name"]},
                "data": data,
            }
        )
    elif existing is None:
        raise KustomizeError(f"{directory}: no ConfigMap {generator['name']} to {behavior}")
    elif behavior == "merge":
        existing.setdefault("data", {}).update(data)
    else:
        existing["data"] = data


def _merge(target: Any, patch: Any) -> Any:
    if isinstance(target, dict) and isinstance(patch, dict):
        for key, value in patch.items():
            target[key] = _merge(target[key], value) if key in target else copy.deepcopy(value)
        return target
    if (
        isinstance(target, list)
        and isinstance(patch, list)
        and all(isinstance(i, dict) and "name" in i for i in target + patch)
    ):
        by_name = {item["name"]: item for item in target}
        for item in patch:
            if item["name"] in by_name:
                _merge(by_name[item["name"]], item)
            else:
                target.append(copy.deepcopy(item))
        return target
    return copy.deepcopy(patch)


def _containers(resource: Resource) -> list[Resource]:
    spec = resource.get("spec", {}).get("template", {}).get("spec", {})
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def _set_image(resources: list[Resource], image: Resource) -> None:
    for resource in resources:
        for container in _containers(resource):
            name, _, _ = container["image"].partition(":")
            if name == image["name"]:
                new_name = image.get("newName", name)
                container["image"] = f"{new_name}:{image.get('newTag', 'latest')}"
