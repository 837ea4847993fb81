"""This installation's own secrets, made once at first start and kept under
``VOICECLONE_HOME`` (mode 0600): its identity (the server id in the watermark) and the keys
that sign audio links (unless ``VOICECLONE_SIGNING_KEY`` is set, which replicas share).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from voiceclone.settings import Settings

SECRET_FILE = "instance-secret"
KEYRING_FILE = "signing-keys.json"
SECRET_BYTES = 32
#: When this process started: a previous key from the environment is honoured one link TTL
#: from here (a rotation is deployed by restarting with the new key).
_PROCESS_START = time.time()


@dataclass(frozen=True)
class SigningKey:
    secret: str
    valid_until: float | None = None
    """None: current (signs and verifies); else verifies only until this Unix time."""


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` (mode 0600) with ``text`` atomically; if it exists, keep it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
    try:
        os.link(temporary, path)  # fails if another process made one meanwhile: use theirs
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def _replace_private(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
        stream.write(text)
    os.replace(temporary, path)


def _stored_secret(home: Path) -> str:
    path = home.expanduser() / SECRET_FILE
    if not path.is_file():
        _write_private(path, secrets.token_urlsafe(SECRET_BYTES))
    return path.read_text(encoding="ascii").strip()


def _keyring(home: Path) -> dict:
    path = home.expanduser() / KEYRING_FILE
    if not path.is_file():
        _write_private(path, json.dumps({"current": secrets.token_urlsafe(SECRET_BYTES)}))
    result: dict = json.loads(path.read_text(encoding="utf-8"))
    return result


def signing_keys(settings: Settings) -> list[SigningKey]:
    """The key that signs links now, then those that still verify links made before a
    rotation (for one link TTL after it)."""
    ttl = settings.link_ttl_seconds
    if settings.signing_key:
        keys = [SigningKey(settings.signing_key)]
        if settings.previous_signing_key:
            keys.append(SigningKey(settings.previous_signing_key, _PROCESS_START + ttl))
        return keys
    ring = _keyring(settings.home)
    keys = [SigningKey(ring["current"])]
    if ring.get("previous"):
        keys.append(SigningKey(ring["previous"], float(ring["rotated_at"]) + ttl))
    return keys


def rotate_signing_key(settings: Settings) -> None:
    """Make a new stored signing key; the old one keeps verifying for one link TTL."""
    ring = _keyring(settings.home)
    rotated = {
        "current": secrets.token_urlsafe(SECRET_BYTES),
        "previous": ring["current"],
        "rotated_at": time.time(),
    }
    _replace_private(settings.home.expanduser() / KEYRING_FILE, json.dumps(rotated))


def server_id(settings: Settings) -> int:
    """0-255: ``VOICECLONE_SERVER_ID``, else derived from ``VOICECLONE_SIGNING_KEY`` (so
    replicas sharing it share the id), else from this installation's stored secret."""
    if settings.server_id is not None:
        return settings.server_id
    identity = settings.signing_key or _stored_secret(settings.home)
    return hashlib.sha256(identity.encode()).digest()[0]
