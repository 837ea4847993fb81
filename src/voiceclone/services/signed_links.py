"""Signed, expiring links to audio: they play with no header (``<audio src>``, curl, VLC).

A link carries ``owner``, ``exp`` (Unix time) and ``sig`` in its query string: an
HMAC-SHA256 over the object it opens, the owner and the expiry. Changing any of them, or
using the signature for another object, fails (403 ``bad_signature``); a link past its
expiry fails with 403 ``link_expired``. Keys come from :func:`voiceclone.instance.signing_keys`
(rotation keeps the previous key verifying for one TTL).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import urlencode

from voiceclone.errors import Forbidden
from voiceclone.instance import SigningKey, signing_keys
from voiceclone.settings import Settings

LINK_PARAMS = ("owner", "exp", "sig")


class LinkExpired(Forbidden):
    code = "link_expired"


class BadSignature(Forbidden):
    code = "bad_signature"


def job_audio_object(job_id: str) -> str:
    return f"job:{job_id}"


def preview_object(voice_id: str) -> str:
    return f"preview:{voice_id}"


class LinkSigner:
    def __init__(self, settings: Settings) -> None:
        self._ttl = settings.link_ttl_seconds
        self._keys: list[SigningKey] = signing_keys(settings)

    @property
    def ttl_seconds(self) -> int:
        return self._ttl

    def params(self, obj: str, owner: str, now: float | None = None) -> dict[str, str]:
        """The query parameters that open ``obj`` for ``owner`` for one TTL from now."""
        expires = int((now if now is not None else time.time()) + self._ttl)
        return {
            "owner": owner,
            "exp": str(expires),
            "sig": _signature(self._keys[0].secret, obj, owner, expires),
        }

    def query(self, obj: str, owner: str) -> str:
        return urlencode(self.params(obj, owner))

    def verify(self, obj: str, owner: str, exp: str, sig: str) -> str:
        """The owner the link was made for; :class:`BadSignature` or :class:`LinkExpired`."""
        try:
            expires = int(exp)
        except ValueError:
            raise BadSignature("This link's signature is not valid.") from None
        now = time.time()
        for key in self._keys:
            if key.valid_until is not None and now > key.valid_until:
                continue
            if hmac.compare_digest(_signature(key.secret, obj, owner, expires), sig):
                break
        else:
            raise BadSignature(
                "This link's signature is not valid: it was altered, or it belongs to "
                "another object."
            )
        if expires < now:
            raise LinkExpired(
                "This link has expired; ask the API for a fresh one "
                "(GET /v1/jobs/{id} or GET /v1/voices)."
            )
        return owner


def _signature(secret: str, obj: str, owner: str, expires: int) -> str:
    message = f"v1\n{obj}\n{owner}\n{expires}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
