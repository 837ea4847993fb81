"""Sign-in with OpenID Connect ID tokens: a key pair made here, its JWKS served on loopback
(and from a file), tokens signed as Firebase or Google would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from support.api import Api, assert_error, running_api
from support.fakes import FAKE_STOCK_VOICE

from voiceclone.services.oidc import owner_for

ISSUER = "https://securetoken.google.com/voiceclone-test"
AUDIENCE = "voiceclone-test"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return _key()


def _jwks(key: rsa.RSAPrivateKey, kid: str = "test-key") -> dict:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {"keys": [{**public, "kid": kid, "use": "sig", "alg": "RS256"}]}


@pytest.fixture(scope="module")
def jwks_url(signing_key: rsa.RSAPrivateKey) -> Iterator[str]:
    body = json.dumps(_jwks(signing_key)).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    finally:
        server.shutdown()


def _token(key: rsa.RSAPrivateKey, kid: str = "test-key", **claims: object) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "firebaseUid123",
        "iat": now,
        "exp": now + 300,
    }
    payload.update(claims)
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def api(tmp_path: Path, jwks_url: str) -> Iterator[Api]:
    with running_api(
        tmp_path, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_url=jwks_url
    ) as running:
        yield running


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_valid_id_token_acts_for_its_subject(api: Api, signing_key) -> None:
    token = _token(signing_key)

    created = api.client.post(
        "/v1/jobs",
        headers=_as(token),
        json={"text": "Signed in with Firebase.", "voice": FAKE_STOCK_VOICE},
    )

    assert created.status_code == 202, created.text
    owner = owner_for(ISSUER, "firebaseUid123")
    assert owner.startswith("oidc-") and owner == owner_for(ISSUER, "firebaseUid123")
    assert (
        api.client.get("/v1/jobs", headers=_as(token)).json()["jobs"][0]["id"]
        == created.json()["id"]
    )
    assert api.client.get("/v1/jobs", headers=api.alice).json() == {"jobs": []}  # not alice's
    plain = _token(signing_key, sub="carol")
    assert api.client.get("/v1/voices", headers=_as(plain)).status_code == 200


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"aud": "someone-else"}, "another audience"),
        ({"iss": "https://evil.example"}, "not issued by"),
        ({"sub": None}, "no 'sub' claim"),
    ],
)
def test_bad_tokens_get_401_with_the_reason(
    api: Api, signing_key, claims: dict, reason: str
) -> None:
    token = _token(signing_key, **claims)
    if claims.get("sub", "") is None:
        payload = jwt.decode(token, options={"verify_signature": False})
        payload.pop("sub")
        token = jwt.encode(payload, signing_key, algorithm="RS256", headers={"kid": "test-key"})

    message = assert_error(api.client.get("/v1/voices", headers=_as(token)), 401, "unauthorized")

    assert reason in message


def test_a_token_signed_by_another_key_is_refused(api: Api) -> None:
    forged = _token(_key())

    message = assert_error(api.client.get("/v1/voices", headers=_as(forged)), 401)

    assert "signature" in message


def test_the_keys_can_come_from_a_file(tmp_path: Path, signing_key) -> None:
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(_jwks(signing_key)))
    with running_api(
        tmp_path, oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_jwks_file=keys
    ) as api:
        assert api.client.get("/v1/voices", headers=_as(_token(signing_key))).status_code == 200
        other_kid = _token(signing_key, kid="unknown")
        assert "signature" in assert_error(
            api.client.get("/v1/voices", headers=_as(other_kid)), 401
        )


def test_without_oidc_an_id_token_is_just_a_wrong_key(tmp_path: Path, signing_key) -> None:
    with running_api(tmp_path) as api:
        refused = api.client.get("/v1/voices", headers=_as(_token(signing_key)))
        assert "Invalid API key" in assert_error(refused, 401)
