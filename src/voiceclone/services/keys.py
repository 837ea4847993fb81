"""API keys: ``vc_`` tokens handed out once, stored only as their sha256."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceclone.db.models import ApiKey, utcnow
from voiceclone.services.ownership import get_owned
from voiceclone.settings import get_settings
from voiceclone.storage.keys import validate_owner

TOKEN_PREFIX = "vc_"
TOKEN_BYTES = 32
DISPLAY_PREFIX_CHARS = 8
MAX_TOKEN_CHARS = 200


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    owner: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_key(session: Session, owner: str, name: str = "") -> str:
    """Make a key for ``owner``, commit, and return the token (the only time it is seen)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        ApiKey(
            owner=validate_owner(owner),
            name=name.strip()[:200],
            key_hash=hash_token(token),
            prefix=token[:DISPLAY_PREFIX_CHARS],
        )
    )
    session.commit()
    return token


def authenticate(session: Session, token: str | None) -> str | None:
    """The owner of ``token`` if it is a live key, else None."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_token(token)))
    if key is None or key.revoked_at is not None:
        return None
    _touch(session, key)
    return key.owner


def _touch(session: Session, key: ApiKey) -> None:
    """Record use, at most every ``api_key_touch_seconds`` so reads stay reads."""
    now = utcnow()
    interval = timedelta(seconds=get_settings().api_key_touch_seconds)
    if key.last_used_at is None or now - key.last_used_at >= interval:
        key.last_used_at = now
        session.commit()


def revoke(session: Session, owner: str, key_id: str) -> None:
    """Revoke one of ``owner``'s keys by id; NotFound for anyone else's or unknown ids."""
    key = _owned_key(session, owner, key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.commit()


def list_api_keys(session: Session, owner: str) -> list[ApiKeyInfo]:
    keys = session.scalars(
        select(ApiKey).where(ApiKey.owner == owner).order_by(ApiKey.created_at.desc())
    )
    return [_info(key) for key in keys]


def any_api_key_exists(session: Session) -> bool:
    """Whether anyone can log in yet (the server prints how to make a key if not)."""
    return session.scalar(select(ApiKey.id).where(ApiKey.revoked_at.is_(None)).limit(1)) is not None


def _owned_key(session: Session, owner: str, key_id: str) -> ApiKey:
    return get_owned(session, ApiKey, owner, key_id, "API key")


def _info(key: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=str(key.id),
        owner=key.owner,
        name=key.name,
        prefix=key.prefix,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )
