"""The local stack's ACLs (deploy/local/kafka/acls.conf) grant each service exactly what its code
consumes and produces, read from its AsyncAPI document (which `make asyncapi-check` keeps equal
to the code): a new subscriber or publisher without its ACL fails here, and so does a grant that
no code uses (least privilege)."""

import json
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVICES = ["intake", "scheduler", "contact", "complaints", "reporting", "appointments"]


def granted() -> dict[tuple[str, str], set[str]]:
    grants: dict[tuple[str, str], set[str]] = defaultdict(set)
    for line in (REPO / "deploy/local/kafka/acls.conf").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            principal, role, topics = line.split()
            grants[principal, role] |= set(topics.split(","))
    return grants


def declared(service: str) -> dict[str, set[str]]:
    document = json.loads((REPO / f"services/{service}/asyncapi.json").read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {"consumes": set(), "produces": set()}
    for operation in document["operations"].values():
        channel = document["channels"][operation["channel"]["$ref"].rsplit("/", 1)[1]]
        role = "consumes" if operation["action"] == "receive" else "produces"
        found[role].add(channel["address"])
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_the_acls_grant_what_the_service_declares_and_nothing_more(service):
    grants = granted()
    code = declared(service)
    assert grants[service, "consumes"] == code["consumes"]
    assert grants[service, "produces"] == code["produces"]


def test_only_the_dms_and_the_services_are_principals():
    assert {principal for principal, _ in granted()} == {"dms", *SERVICES}
