"""This installation's own secret: made once at first start, kept under ``VOICECLONE_HOME``.

It signs links (unless ``VOICECLONE_SIGNING_KEY`` is set, which replicas share) and gives
the server its short id in the watermark payload.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from voiceclone.settings import Settings

SECRET_FILE = "instance-secret"
SECRET_BYTES = 32


def _stored_secret(home: Path) -> str:
    """The secret in ``home``, created (mode 0600, atomically) if there is none yet."""
    path = home.expanduser() / SECRET_FILE
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as stream:
        stream.write(secrets.token_urlsafe(SECRET_BYTES))
    try:
        os.link(temporary, path)  # fails if another process made one meanwhile: use theirs
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return path.read_text(encoding="ascii").strip()


def signing_secret(settings: Settings) -> str:
    """``VOICECLONE_SIGNING_KEY`` if set, else this installation's stored secret."""
    return settings.signing_key or _stored_secret(settings.home)


def server_id(settings: Settings) -> int:
    """0-255: ``VOICECLONE_SERVER_ID``, else derived from the signing secret (so replicas
    that share the secret share the id)."""
    if settings.server_id is not None:
        return settings.server_id
    return hashlib.sha256(signing_secret(settings).encode()).digest()[0]
