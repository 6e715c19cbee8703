"""Who may call the services' HTTP APIs (ARCHITECTURE: Security).

`allow(...)` is the one dependency routes declare; `Caller` is what it yields; `TokenVerifier`
checks bearer tokens (OIDC JWKS or the local issuer's key); `issuer` is the local issuer behind
`python -m aftersales_runtime.auth token`.
"""

from aftersales_runtime.auth.caller import ALL_DEALERS, ROLES, Caller, Role
from aftersales_runtime.auth.guard import allow, bearer, require_dealer
from aftersales_runtime.auth.keys import InvalidToken, TokenVerifier

__all__ = [
    "ALL_DEALERS",
    "ROLES",
    "Caller",
    "InvalidToken",
    "Role",
    "TokenVerifier",
    "allow",
    "bearer",
    "require_dealer",
]
