"""Tokens: the local issuer's CLI, what the verifier refuses, OIDC keys rotating under a JWKS."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jwt
import pytest
from aftersales_runtime.auth import InvalidToken, TokenVerifier
from aftersales_runtime.auth.__main__ import main as auth_cli
from aftersales_runtime.auth.caller import Caller
from aftersales_runtime.auth.issuer import ensure_key_pair, load_private_key, mint
from aftersales_runtime.auth.keys import VerifiedTokens
from aftersales_runtime.dealers import DealerDirectory
from aftersales_runtime.settings import AuthSettings, ServiceSettings
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parents[3]
DEALERS_FILE = REPO / "deploy/local/dealers.json"


@pytest.fixture
def issuer(tmp_path):
    private, public = ensure_key_pair(tmp_path / "auth")
    return load_private_key(private), TokenVerifier(
        AuthSettings(public_key_file=public), DealerDirectory.load(DEALERS_FILE)
    )


async def test_the_cli_prints_a_token_the_services_accept(tmp_path, capsys):
    auth_cli(["--dir", str(tmp_path), "token", "--role", "agent", "--dealer", "dealer-sz-001",
              "--sub", "alice", "--ttl", "600"])  # fmt: skip
    token = capsys.readouterr().out.strip()
    auth_cli(["--dir", str(tmp_path), "public-key"])
    public = Path(capsys.readouterr().out.strip())

    caller = await TokenVerifier(AuthSettings(public_key_file=public)).verify(token)

    assert (caller.sub, caller.roles, caller.dealers) == ("alice", {"agent"}, {"dealer-sz-001"})
    assert (tmp_path / "local-issuer.key.pem").stat().st_mode & 0o077 == 0  # owner only
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 600


async def test_an_oem_token_acts_for_its_dealers_and_unknown_roles_are_ignored(issuer):
    key, verifier = issuer
    caller = await verifier.verify(
        mint(key, sub="r", roles=["oem_region", "root"], oems=["oem-south"])
    )
    assert caller.roles == {"oem_region"}
    assert caller.dealers == {"dealer-sz-001", "dealer-gz-003"}  # deploy/local/dealers.json
    assert not caller.serves("dealer-bj-002")
    group = await verifier.verify(mint(key, sub="o", roles=["ops"], dealers=["*"]))
    assert group.serves("dealer-bj-002")
    assert group.serves("unknown")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"now": datetime.now(UTC) - timedelta(hours=2)}, "expired"),
        ({"audience": "another-api"}, "another audience"),
        ({"issuer": "someone-else"}, "another issuer"),
        ({"sub": ""}, "subject"),
    ],
)
async def test_a_token_that_does_not_hold_is_refused_with_its_reason(issuer, change, reason):
    key, verifier = issuer
    token = mint(key, **{"sub": "a", "roles": ["agent"], "dealers": ["dealer-sz-001"], **change})
    with pytest.raises(InvalidToken, match=reason):
        await verifier.verify(token)


async def test_a_token_signed_by_another_key_or_not_a_jwt_is_refused(issuer, tmp_path):
    _, verifier = issuer
    stranger, _ = ensure_key_pair(tmp_path / "stranger")
    forged = mint(load_private_key(stranger), sub="a", roles=["agent"], dealers=["*"])
    with pytest.raises(InvalidToken, match="signature"):
        await verifier.verify(forged)
    with pytest.raises(InvalidToken):
        await verifier.verify("not-a-token")
    unsigned = jwt.encode({"sub": "a", "roles": ["agent"]}, key=None, algorithm="none")
    with pytest.raises(InvalidToken):
        await verifier.verify(unsigned)


@pytest.fixture
def checks(monkeypatch) -> list[int]:
    """One item per token PyJWT decodes (a signature and claims checked)."""
    counted: list[int] = []
    decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: counted.append(1) or decode(*a, **k))
    return counted


async def test_a_token_verified_lately_is_accepted_again_without_checking_it(
    issuer, tmp_path, checks
):
    key, verifier = issuer
    token = mint(key, sub="a", roles=["agent"], dealers=["dealer-sz-001"])
    other = mint(key, sub="b", roles=["agent"], dealers=["dealer-sz-001"])

    first, again, someone_else = [await verifier.verify(t) for t in (token, token, other)]

    assert (again, someone_else.sub) == (first, "b")
    assert len(checks) == 2  # the token once, the other token once
    _, public = ensure_key_pair(tmp_path / "auth")  # the issuer's
    never = TokenVerifier(AuthSettings(public_key_file=public, verified_seconds=0))
    await never.verify(token)
    await never.verify(token)
    assert len(checks) == 4  # verified_seconds=0: every time


async def test_a_verified_token_is_checked_again_from_its_exp_on(issuer, tmp_path, checks):
    key, _ = issuer
    now = [time.time()]
    _, public = ensure_key_pair(tmp_path / "auth")
    settings = AuthSettings(public_key_file=public, verified_seconds=300)
    verifier = TokenVerifier(settings, clock=lambda: now[0])
    token = mint(key, sub="a", roles=["agent"], dealers=["*"], ttl=timedelta(seconds=60))
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    checks.clear()

    await verifier.verify(token)
    now[0] = exp - 0.5
    await verifier.verify(token)
    assert len(checks) == 1
    now[0] = exp  # within the window, but the token's exp: checked again
    await verifier.verify(token)
    assert len(checks) == 2


def test_a_verified_token_is_kept_until_its_exp_or_the_window_ends_whichever_is_first():
    now = [1000.0]
    kept = VerifiedTokens(seconds=30, clock=lambda: now[0])
    caller = Caller(sub="a", roles=frozenset({"agent"}), dealers=frozenset({"d"}))
    kept.keep("long", caller, expires_at=2000.0)
    kept.keep("short", caller, expires_at=1010.0)

    now[0] = 1009.9
    assert (kept.get("long"), kept.get("short")) == (caller, caller)
    now[0] = 1010.0  # the short token's exp: checked again (PyJWT's leeway then decides)
    assert (kept.get("long"), kept.get("short")) == (caller, None)
    now[0] = 1030.0  # the window: the long one is checked again too
    assert kept.get("long") is None
    off = VerifiedTokens(seconds=0, clock=lambda: now[0])
    off.keep("any", caller, expires_at=2000.0)
    assert off.get("any") is None


class _Jwks:
    """An identity provider's JWKS endpoint whose key set the test can rotate."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.fetches = 0

    def document(self) -> bytes:
        jwks = []
        for kid, key in self.keys.items():
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
            jwks.append(jwk | {"kid": kid, "alg": "RS256", "use": "sig"})
        return json.dumps({"keys": jwks}).encode()

    def token(self, kid: str, sub: str = "bob") -> str:
        now = datetime.now(UTC)
        claims = {"iss": "https://idp.example", "aud": "aftersales-api", "sub": sub,
                  "roles": ["service_manager"], "dealers": ["dealer-gz-003"],
                  "iat": now, "exp": now + timedelta(minutes=5)}  # fmt: skip
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def idp() -> Iterator[tuple[_Jwks, str]]:
    jwks = _Jwks()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            jwks.fetches += 1
            body = jwks.document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield jwks, f"http://127.0.0.1:{server.server_port}/jwks"
    finally:
        server.shutdown()


async def test_oidc_keys_are_cached_and_a_rotated_key_is_fetched(idp):
    jwks, url = idp
    new_key = lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)  # noqa: E731
    jwks.keys = {"k1": new_key()}
    settings = AuthSettings(
        issuer="https://idp.example", jwks_url=url, jwks_refetch_cooldown_seconds=0
    )
    verifier = TokenVerifier(settings)

    assert (await verifier.verify(jwks.token("k1"))).sub == "bob"
    assert (await verifier.verify(jwks.token("k1", sub="carol"))).roles == {"service_manager"}
    assert jwks.fetches == 1  # the key set cached (another token: not the verified tokens')

    jwks.keys = {"k2": new_key()}  # the IdP rotates: k1 is withdrawn
    caller = await verifier.verify(jwks.token("k2"))  # unknown kid: fetched again

    assert caller.dealers == {"dealer-gz-003"}
    assert jwks.fetches == 2
    retired = jwt.encode(
        {"sub": "x", "iss": "https://idp.example", "aud": "aftersales-api"},
        new_key(),
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    with pytest.raises(InvalidToken, match="no signing key"):
        await verifier.verify(retired)


def test_the_local_issuers_key_is_refused_in_production(tmp_path):
    _, public = ensure_key_pair(tmp_path)
    with pytest.raises(ValueError, match="refused when AFTERSALES_ENVIRONMENT is production"):
        ServiceSettings(environment="production", auth=AuthSettings(public_key_file=public))
    assert ServiceSettings(environment="test", auth=AuthSettings(public_key_file=public))


def test_a_service_that_cannot_verify_tokens_does_not_start():
    with pytest.raises(RuntimeError, match="no way to verify tokens"):
        TokenVerifier(AuthSettings()).ensure_configured()
