"""The local issuer: an Ed25519 key pair under .cache/auth/ (git-ignored) that signs tokens for
development, demos and tests. Production never trusts it (settings refuse its key there); there
the dealer group's identity provider issues the tokens.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

DEFAULT_DIRECTORY = Path(".cache/auth")
PRIVATE_KEY = "local-issuer.key.pem"
PUBLIC_KEY = "local-issuer.pub.pem"


def _public_pem(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_pem: bytes) -> str:
    return hashlib.sha256(public_pem).hexdigest()[:16]


def ensure_key_pair(directory: Path = DEFAULT_DIRECTORY) -> tuple[Path, Path]:
    """The issuer's (private, public) key files, created on first use; the private key is
    readable by its owner only."""
    private, public = directory / PRIVATE_KEY, directory / PUBLIC_KEY
    if not private.exists():
        directory.mkdir(parents=True, exist_ok=True)
        key = ed25519.Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        public.write_bytes(_public_pem(key))
    elif not public.exists():
        public.write_bytes(_public_pem(load_private_key(private)))
    return private, public


def load_private_key(path: Path) -> ed25519.Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def mint(
    key: ed25519.Ed25519PrivateKey,
    *,
    sub: str,
    roles: Iterable[str],
    dealers: Iterable[str] = (),
    oems: Iterable[str] = (),
    ttl: timedelta = timedelta(hours=1),
    issuer: str = "aftersales-local",
    audience: str = "aftersales-api",
    now: datetime | None = None,
) -> str:
    """A signed JWT (EdDSA) with the claims the services read: sub, roles, dealers, oems."""
    issued = now or datetime.now(UTC)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": sub,
        "roles": sorted(set(roles)),
        "dealers": sorted(set(dealers)),
        "oems": sorted(set(oems)),
        "iat": int(issued.timestamp()),
        "nbf": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": key_id(_public_pem(key))})
