"""`make deploy-check` (issue 14): the repository's Dockerfiles, docker-compose.yml and deploy/k8s
pass, and each check fails on a deliberately broken copy, naming what is wrong."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from deploy.checks import compose, dockerfiles, kubernetes
from deploy.checks.__main__ import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """What the checks read, copied: the test breaks the copy, never the repository."""
    for service in REPO.glob("services/*/Dockerfile"):
        target = tmp_path / service.relative_to(REPO)
        target.parent.mkdir(parents=True)
        shutil.copy(service, target)
    shutil.copy(REPO / "docker-compose.yml", tmp_path / "docker-compose.yml")
    shutil.copytree(REPO / "deploy" / "k8s", tmp_path / "deploy" / "k8s")
    shutil.copytree(REPO / "deploy" / "grafana", tmp_path / "deploy" / "grafana")
    (tmp_path / "deploy" / "local").mkdir()
    shutil.copy(REPO / "deploy/local/dealers.json", tmp_path / "deploy/local/dealers.json")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_repository_passes(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    print(out)
    assert out.count(": ok") == 3


def test_the_copy_passes_before_it_is_broken(copy):
    for check in (dockerfiles.check, compose.check, kubernetes.check):
        assert check(copy)[0] == []


def test_a_broken_dockerfile_fails(copy, capsys):
    dockerfile = copy / "services" / "intake" / "Dockerfile"
    edit(dockerfile, "FROM python:3.11.14-slim-bookworm\n", "FROM python:3.11-slim\n")
    edit(dockerfile, "USER 10001:10001\n", "")
    edit(dockerfile, "HEALTHCHECK", "# HEALTHCHECK")
    edit(dockerfile, "WORKDIR /app\n", "WORKDIR /app\nADD https://example.invalid/x.tgz /app/\n")

    problems, _ = dockerfiles.check(copy)
    print("\n".join(problems))
    assert len(problems) == 4
    assert any("'python:3.11-slim' is not pinned" in p for p in problems)
    assert any("runs as root" in p for p in problems)
    assert any("no HEALTHCHECK" in p for p in problems)
    assert any("ADD of a remote address 'https://example.invalid/x.tgz'" in p for p in problems)
    assert all(p.startswith("services/intake/Dockerfile") for p in problems)
    assert main(["--root", str(copy)]) == 1
    assert "deploy-check: 5 Dockerfiles: FAILED" in capsys.readouterr().out


def test_a_compose_file_off_the_specification_fails(copy):
    path = copy / "docker-compose.yml"
    # In the anchor every service merges: each of the five is then off the specification.
    edit(path, "  stop_grace_period: 40s\n", "  stop_grace_period: 40s\n  restrat: always\n")

    problems, _ = compose.check(copy)
    print("\n".join(problems))
    assert len(problems) == 5
    assert all("'restrat' does not match" in p for p in problems)


def test_a_service_that_does_not_wait_for_a_healthy_kafka_fails(copy):
    path = copy / "docker-compose.yml"
    document = yaml.safe_load(path.read_text())
    document["services"]["contact"]["depends_on"] = {"kafka": {"condition": "service_started"}}
    del document["services"]["reporting"]["healthcheck"]
    path.write_text(yaml.safe_dump(document))

    problems, _ = compose.check(copy)
    print("\n".join(problems))
    assert problems == [
        "docker-compose.yml: services.reporting: no healthcheck",
        "docker-compose.yml: services.contact.depends_on.kafka: condition is "
        "'service_started', not 'service_healthy'",
        "docker-compose.yml: services.contact.depends_on.mongodb: condition is None, "
        "not 'service_healthy'",
    ]


def test_a_missing_mounted_file_fails(copy):
    shutil.rmtree(copy / "deploy" / "grafana" / "dashboards")

    problems, _ = compose.check(copy)
    assert problems == [
        "docker-compose.yml: services.grafana: ./deploy/grafana/dashboards does not exist"
    ]


def test_a_manifest_off_the_kubernetes_schema_fails(copy):
    edit(copy / "deploy/k8s/base/contact.yaml", "  revisionHistoryLimit: 5\n", "  replicaz: 5\n")
    edit(copy / "deploy/k8s/base/scheduler.yaml", "path: /health/ready", "path: /ready")

    problems, _ = kubernetes.check(copy)
    print("\n".join(problems))
    # The base and the production overlay render both Deployments: each problem twice.
    assert sum("Deployment contact" in p and "replicaz" in p for p in problems) == 2
    assert sum("readinessProbe is not on /health/ready (/ready)" in p for p in problems) == 2
    assert len(problems) == 4


def test_keda_beyond_the_partitions_and_a_secret_value_fail(copy):
    overlay = copy / "deploy/k8s/overlays/production"
    edit(
        overlay / "kustomization.yaml",
        "AFTERSALES_TOPIC_PARTITIONS=12",
        "AFTERSALES_TOPIC_PARTITIONS=6",
    )
    (overlay / "secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leaked\nstringData:\n  password: x\n"
    )
    edit(overlay / "kustomization.yaml", "  - keda.yaml\n", "  - keda.yaml\n  - secret.yaml\n")

    problems, _ = kubernetes.check(copy)
    print("\n".join(problems))
    assert sum("maxReplicaCount 12 is above the partitions (6)" in p for p in problems) == 5
    assert any("Secret leaked: secret values do not belong" in p for p in problems)
    assert len(problems) == 6
