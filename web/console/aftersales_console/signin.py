"""Demo sign-in (development and test only): a user of the demo list with the demo password gets
a token of the local issuer carrying the list's roles and dealers. Production signs users in at
the dealer group's identity provider (OIDC); the console then only carries the IdP's token."""

from __future__ import annotations

import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aftersales_runtime.auth.issuer import load_private_key, mint
from pydantic import BaseModel, Field


class DemoUser(BaseModel):
    username: str
    name: str
    roles: list[str]
    dealers: list[str] = Field(default_factory=list)
    oems: list[str] = Field(default_factory=list)


class DemoUsers(BaseModel):
    users: list[DemoUser]

    @classmethod
    def read(cls, path: Path) -> DemoUsers:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))

    def find(self, username: str) -> DemoUser | None:
        return next((u for u in self.users if u.username == username), None)


class SignInRequest(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=200)


class SignedIn(BaseModel):
    token: str
    expires_at: datetime
    user: DemoUser


class DemoIssuer:
    def __init__(self, users: DemoUsers, key_file: Path, password: str, ttl: timedelta) -> None:
        self.users, self._key, self._password, self._ttl = users, key_file, password, ttl

    def sign_in(self, request: SignInRequest) -> SignedIn | None:
        """The user's token, or None when the user is unknown or the password wrong."""
        user = self.users.find(request.username)
        password_ok = hmac.compare_digest(request.password.encode(), self._password.encode())
        if user is None or not password_ok:
            return None
        now = datetime.now(UTC)
        token = mint(
            load_private_key(self._key),
            sub=user.username,
            roles=user.roles,
            dealers=user.dealers,
            oems=user.oems,
            ttl=self._ttl,
            now=now,
        )
        return SignedIn(token=token, expires_at=now + self._ttl, user=user)
