"""Who is calling: the identity a verified token carries (pure: no HTTP, no crypto)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

Role = Literal[
    "dms",  # a dealer's DMS pushing its records (webhook, file import)
    "agent",  # a call-centre agent working the contact queue
    "service_advisor",
    "service_supervisor",
    "service_manager",
    "cr_manager",  # the customer-relations manager (reads the reveal audit, D3)
    "gm",
    "sales_consultant",  # D34: the face-to-face delivery questionnaire, SSI results per person
    "showroom_manager",  # D28: receives the sales satisfaction report
    "sales_manager",  # D34: assesses the consultants' questionnaire coverage
    "oem_region",  # the car maker's regional office: every dealer of its OEM
    "data_steward",  # fixes rejected DMS records (D5)
    "ops",
    "sms_gateway",  # the SMS provider's callbacks: delivery receipts and customers' replies
]
ROLES: tuple[str, ...] = get_args(Role)
#: In a token's `dealers`: every dealer of the group (group-level staff, e.g. ops).
ALL_DEALERS = "*"


class ClaimsRefused(ValueError):
    """A correctly signed token whose claims do not describe a caller we can serve."""


@dataclass(frozen=True)
class Caller:
    sub: str
    roles: frozenset[str]
    dealers: frozenset[str]  # explicit dealers plus those of the token's OEMs
    all_dealers: bool = False

    def serves(self, dealer_id: str | None) -> bool:
        """May this caller act for `dealer_id`? A record of no known dealer: group-wide only."""
        return self.all_dealers or (dealer_id is not None and dealer_id in self.dealers)


def _strings(claims: Mapping[str, Any], name: str) -> list[str]:
    value = claims.get(name, [])
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ClaimsRefused(f"claim {name!r} must be a list of strings")
    return value


def caller_from_claims(
    claims: Mapping[str, Any], dealers_of_oem: Mapping[str, Iterable[str]]
) -> Caller:
    """`roles`, `dealers` and `oems` claims → a Caller; unknown roles are ignored, an OEM
    stands for every dealer the directory lists under it."""
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise ClaimsRefused("the token names no subject (sub)")
    roles = frozenset(_strings(claims, "roles")) & frozenset(ROLES)
    dealers = set(_strings(claims, "dealers"))
    for oem in _strings(claims, "oems"):
        dealers.update(dealers_of_oem.get(oem, ()))
    everyone = ALL_DEALERS in dealers
    dealers.discard(ALL_DEALERS)
    return Caller(sub=sub, roles=roles, dealers=frozenset(dealers), all_dealers=everyone)
