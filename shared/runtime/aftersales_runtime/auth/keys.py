"""Token verification: the identity provider's JWKS (production) or the local issuer's key.

Signatures are checked by PyJWT; nothing here is hand-rolled crypto. A JWKS is fetched once and
cached (`jwks_cache_seconds`); a token whose `kid` is not in the cache makes PyJWT's client fetch
the set again, so the IdP can rotate its keys without a restart.

An agent's tool sends the same token with each of its requests, and checking it (signature and
claims, about 0.12 ms for an EdDSA token) was 4.5 % of the contact service's CPU under load: a
token verified in the last `verified_seconds` is accepted again by its exact text, never past
its `exp` (`VerifiedTokens`).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from functools import cached_property
from typing import Any

import jwt
from cachetools import TLRUCache
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from aftersales_runtime.auth.caller import Caller, ClaimsRefused, caller_from_claims
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.settings import AuthSettings


class InvalidToken(Exception):
    """Why a bearer token is refused (401); the reason is safe to show the caller."""


def algorithm_for(key: Any) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ES256"
    raise ValueError(f"unsupported public key type {type(key).__name__}")


class VerifiedTokens:
    """Callers of tokens verified lately, by the token's text, each until the earlier of its
    `exp` and `seconds` after it was verified; at most `size` of them (the least recently used
    go first)."""

    def __init__(
        self, seconds: int, size: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self._kept: TLRUCache[str, tuple[Caller, float]] = TLRUCache(
            maxsize=size, ttu=lambda _token, kept, _now: kept[1], timer=clock
        )

    def get(self, token: str) -> Caller | None:
        kept = self._kept.get(token)
        return kept[0] if kept is not None else None

    def keep(self, token: str, caller: Caller, expires_at: float) -> None:
        if self.seconds > 0:
            self._kept[token] = (caller, min(expires_at, self.clock() + self.seconds))


class TokenVerifier:
    def __init__(
        self,
        settings: AuthSettings,
        dealers: DealerDirectory | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.dealers = dealers
        self._verified = VerifiedTokens(settings.verified_seconds, clock=clock)
        self._jwks = (
            jwt.PyJWKClient(
                settings.jwks_url,
                # The set is cached (lifespan), not each key: a per-kid LRU would keep trusting
                # a key the IdP has withdrawn.
                cache_keys=False,
                lifespan=settings.jwks_cache_seconds,
                cooldown_duration=settings.jwks_refetch_cooldown_seconds,
                timeout=5,
            )
            if settings.jwks_url
            else None
        )

    @property
    def configured(self) -> bool:
        return self._jwks is not None or self.settings.public_key_file is not None

    def ensure_configured(self) -> None:
        """Called at start-up: a service that could verify no token must not start."""
        if not self.configured:
            raise RuntimeError(
                "no way to verify tokens: set AFTERSALES_AUTH_JWKS_URL (identity provider) or, "
                "in development and test, AFTERSALES_AUTH_PUBLIC_KEY_FILE (local issuer)"
            )
        if self._jwks is None:
            _ = self._local_key

    @cached_property
    def _local_key(self) -> Any:
        assert self.settings.public_key_file is not None
        return load_pem_public_key(self.settings.public_key_file.read_bytes())

    @cached_property
    def _dealers_of_oem(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = defaultdict(list)
        for dealer in self.dealers or ():
            if dealer.oem:
                grouped[dealer.oem].append(dealer.dealer_id)
        return dict(grouped)

    def knows(self, dealer_id: str) -> bool:
        """Whether the dealer is in the directory (without one, every dealer is)."""
        return self.dealers is None or dealer_id in self.dealers

    async def _key_for(self, token: str) -> tuple[Any, list[str]]:
        if self._jwks is None:
            if self.settings.public_key_file is None:
                raise InvalidToken("this service has no key to verify tokens with")
            return self._local_key, [algorithm_for(self._local_key)]
        try:
            # Blocking HTTP when the cache misses: off the event loop.
            found = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
        except jwt.PyJWKClientError as error:
            raise InvalidToken(f"no signing key for this token ({error})") from error
        except jwt.DecodeError as error:
            raise InvalidToken("the bearer token is not a JWT") from error
        algorithm = found.algorithm_name
        if algorithm not in self.settings.algorithms:
            raise InvalidToken(f"signature algorithm {algorithm} is not accepted")
        return found.key, [algorithm]

    async def verify(self, token: str) -> Caller:
        caller = self._verified.get(token)
        if caller is None:
            caller, expires_at = await self._check(token)
            self._verified.keep(token, caller, expires_at)
        return caller

    async def _check(self, token: str) -> tuple[Caller, float]:
        """The token's caller and its `exp`, or InvalidToken saying why not."""
        key, algorithms = await self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidToken("the token has expired") from error
        except jwt.InvalidSignatureError as error:
            raise InvalidToken("the token's signature does not verify with our keys") from error
        except jwt.InvalidAudienceError as error:
            raise InvalidToken("the token is for another audience") from error
        except jwt.InvalidIssuerError as error:
            raise InvalidToken("the token is from another issuer") from error
        except jwt.InvalidTokenError as error:
            raise InvalidToken(f"invalid token: {error}") from error
        try:
            return caller_from_claims(claims, self._dealers_of_oem), float(claims["exp"])
        except ClaimsRefused as error:
            raise InvalidToken(str(error)) from error
