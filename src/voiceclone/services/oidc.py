"""Sign-in with OpenID Connect ID tokens (Firebase Auth, Google IAM), besides API keys.

A valid ``Authorization: Bearer <id token>`` acts for the owner named by a claim (default
``sub``). Signature (against the issuer's JWKS, fetched and cached, or a file), issuer,
audience and expiry are checked with PyJWT; a token that fails says why (401).
"""

from __future__ import annotations

import base64
import hashlib
import json
import urllib.request
from functools import cached_property
from typing import Any

import jwt

from voiceclone.errors import Unauthorized
from voiceclone.services.api_keys import Caller
from voiceclone.settings import Settings
from voiceclone.storage.layout import OWNER_PATTERN

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384"]
DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_CACHE_SECONDS = 3600
FETCH_TIMEOUT_S = 10
OWNER_HASH_CHARS = 20


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith("vc_")


def owner_for(issuer: str, value: str) -> str:
    """The owner name for a subject: itself when it is a valid owner name (``alice``,
    ``1234567890``), else a stable name derived from issuer and subject (Firebase uids have
    capitals, emails have ``@``)."""
    if OWNER_PATTERN.fullmatch(value):
        return value
    digest = hashlib.sha256(f"{issuer}\n{value}".encode()).digest()
    return "oidc-" + base64.b32encode(digest).decode("ascii").lower()[:OWNER_HASH_CHARS]


class OidcVerifier:
    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.audience = settings.oidc_audience
        self.owner_claim = settings.oidc_owner_claim
        self._jwks_url = settings.oidc_jwks_url
        self._jwks_file = settings.oidc_jwks_file

    @cached_property
    def _keys(self) -> Any:
        """A JWKS client (fetching and caching the issuer's keys), or a key set from a file."""
        if self._jwks_file:
            return jwt.PyJWKSet.from_json(self._jwks_file.read_text(encoding="utf-8"))
        url = self._jwks_url or self._discovered_jwks_url()
        return jwt.PyJWKClient(
            url, cache_keys=True, lifespan=JWKS_CACHE_SECONDS, timeout=FETCH_TIMEOUT_S
        )

    def _discovered_jwks_url(self) -> str:
        with urllib.request.urlopen(self.issuer + DISCOVERY_PATH, timeout=FETCH_TIMEOUT_S) as reply:
            return str(json.load(reply)["jwks_uri"])

    def _signing_key(self, token: str) -> Any:
        keys = self._keys
        if isinstance(keys, jwt.PyJWKClient):
            return keys.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        for key in keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise jwt.InvalidKeyError(f"no key {kid!r} in the issuer's key set")

    def caller(self, token: str) -> Caller:
        """The caller this ID token stands for; :class:`Unauthorized` saying why not."""
        try:
            claims = jwt.decode(
                token,
                self._signing_key(token),
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", self.owner_claim]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The ID token has expired; sign in again.") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("The ID token was issued for another audience.") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized(f"The ID token was not issued by {self.issuer}.") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthorized(f"The ID token has no {error.claim!r} claim.") from None
        except (jwt.InvalidSignatureError, jwt.InvalidKeyError, jwt.PyJWKClientError):
            raise Unauthorized("The ID token's signature does not check out.") from None
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"The ID token is not valid: {error}.") from None
        subject = str(claims[self.owner_claim])
        return Caller(owner=owner_for(self.issuer, subject), key_id=f"oidc:{subject}")


def verifier_for(settings: Settings) -> OidcVerifier | None:
    return OidcVerifier(settings) if settings.oidc_issuer else None
