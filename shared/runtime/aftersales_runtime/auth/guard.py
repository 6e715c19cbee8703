"""The one FastAPI dependency every route declares: `caller: Annotated[Caller, allow("agent")]`.

It reads the bearer token (never a header the caller writes about itself), verifies it, checks
that one of the route's roles is in the token, and, when the path names a dealer, that the
caller may act for that dealer. Routes that touch objects by id check the object's dealer with
`require_dealer`. Refusals: 401 (no token, expired, not ours), 403 naming the roles the route
needs, 404 for another dealer's object (its existence is not revealed either).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes

from aftersales_runtime.auth.caller import ROLES, Caller
from aftersales_runtime.auth.keys import InvalidToken, TokenVerifier

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    bearerFormat="JWT",
    description=(
        "A JWT from the dealer group's identity provider, carrying `sub`, `roles` and the "
        "`dealers` (or `oems`) the caller acts for. Locally: `.venv/bin/python -m "
        "aftersales_runtime.auth token --role agent --dealer dealer-sz-001`. Each operation "
        "lists the roles it accepts as this scheme's scopes."
    ),
)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="aftersales"'}
NOT_FOUND = "not found"


def _unauthenticated(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers=_CHALLENGE)


def require_dealer(caller: Caller, dealer_id: str | None, detail: str = NOT_FOUND) -> None:
    """Another dealer's object is answered like a missing one: 404, nothing of its content."""
    if not caller.serves(dealer_id):
        raise HTTPException(404, detail)


async def _authorised_caller(
    request: Request,
    required: SecurityScopes,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None:  # an app built without the runtime: refuse rather than serve
        raise HTTPException(503, "this service cannot verify tokens")
    if credentials is None:
        raise _unauthenticated("a bearer token is required (Authorization: Bearer <JWT>)")
    try:
        caller = await verifier.verify(credentials.credentials)
    except InvalidToken as error:
        raise _unauthenticated(str(error)) from error
    allowed = required.scopes
    if not caller.roles & set(allowed):
        held = ", ".join(sorted(caller.roles)) or "none"
        raise HTTPException(
            403, f"this needs the role {' or '.join(allowed)}; the token carries: {held}"
        )
    dealer_id = request.path_params.get("dealer_id")
    if dealer_id is not None:
        if not verifier.knows(dealer_id):
            raise HTTPException(404, f"no dealer {dealer_id}")
        require_dealer(caller, dealer_id)
    return caller


def allow(*roles: str) -> Any:
    """The rule of one route: which roles may call it (OpenAPI shows them as the scheme's
    scopes). Use as `caller: Annotated[Caller, allow("agent", "cr_manager")]`."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"a route needs at least one known role; unknown: {sorted(unknown)}")
    return Security(_authorised_caller, scopes=list(roles))
