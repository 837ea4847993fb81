"""API keys: ``vc_`` tokens handed out once, stored only as their sha256, each with its
limits (None: the settings' defaults) and role (admin or not)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceclone.db.models import ApiKey, utcnow
from voiceclone.errors import InvalidRequest, NotFound
from voiceclone.services import audit
from voiceclone.services.ownership import get_owned
from voiceclone.settings import Settings, get_settings
from voiceclone.storage.layout import validate_owner

TOKEN_PREFIX = "vc_"
TOKEN_BYTES = 32
DISPLAY_PREFIX_CHARS = 8
MAX_TOKEN_CHARS = 200


@dataclass(frozen=True)
class KeyLimits:
    """A key's own limits; None means "the server's default" (0 there: no limit)."""

    requests_per_minute: int | None = None
    chars_per_day: int | None = None
    max_streams: int | None = None
    max_voices: int | None = None

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value is not None and value < 0:
                raise InvalidRequest(f"The limit {name} cannot be negative.", code="invalid_limit")

    def effective(self, settings: Settings | None = None) -> KeyLimits:
        """These limits with the defaults filled in (0: unlimited)."""
        chosen = settings or get_settings()
        return KeyLimits(
            requests_per_minute=_or(self.requests_per_minute, chosen.key_requests_per_minute),
            chars_per_day=_or(self.chars_per_day, chosen.key_chars_per_day),
            max_streams=_or(self.max_streams, chosen.key_max_streams),
            max_voices=_or(self.max_voices, chosen.key_max_voices),
        )


def _or(value: int | None, default: int) -> int:
    return default if value is None else value


@dataclass(frozen=True)
class Caller:
    """Who is asking: the key's owner and id, its role and its limits."""

    owner: str
    key_id: str
    is_admin: bool = False
    limits: KeyLimits = field(default_factory=KeyLimits)


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    owner: str
    name: str
    prefix: str
    is_admin: bool
    limits: KeyLimits
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_api_key(
    session: Session,
    owner: str,
    name: str = "",
    *,
    is_admin: bool = False,
    limits: KeyLimits | None = None,
    actor: Caller | None = None,
) -> str:
    """Make a key for ``owner``, commit, and return the token (the only time it is seen)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    chosen = limits or KeyLimits()
    key = ApiKey(
        owner=validate_owner(owner),
        name=name.strip()[:200],
        key_hash=hash_token(token),
        prefix=token[:DISPLAY_PREFIX_CHARS],
        is_admin=is_admin,
        requests_per_minute=chosen.requests_per_minute,
        chars_per_day=chosen.chars_per_day,
        max_streams=chosen.max_streams,
        max_voices=chosen.max_voices,
    )
    session.add(key)
    session.flush()
    audit.record(
        session,
        "key.created",
        owner,
        actor.key_id if actor else None,
        target=str(key.id),
        detail={"admin": is_admin},
    )
    session.commit()
    return token


def authenticate(session: Session, token: str | None) -> Caller | None:
    """The caller holding ``token`` if it is a live key, else None."""
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_token(token)))
    if key is None or key.revoked_at is not None:
        return None
    _touch(session, key)
    return caller_of(key)


def caller_of(key: ApiKey) -> Caller:
    return Caller(owner=key.owner, key_id=str(key.id), is_admin=key.is_admin, limits=_limits(key))


def live_caller(session: Session, key_id: str) -> Caller | None:
    """The caller of key ``key_id`` if it still exists and is not revoked."""
    key = session.get(ApiKey, uuid.UUID(key_id))
    return caller_of(key) if key is not None and key.revoked_at is None else None


def _limits(key: ApiKey) -> KeyLimits:
    return KeyLimits(
        requests_per_minute=key.requests_per_minute,
        chars_per_day=key.chars_per_day,
        max_streams=key.max_streams,
        max_voices=key.max_voices,
    )


def _touch(session: Session, key: ApiKey) -> None:
    """Record use, at most every ``api_key_touch_seconds`` so reads stay reads."""
    now = utcnow()
    interval = timedelta(seconds=get_settings().api_key_touch_seconds)
    if key.last_used_at is None or now - key.last_used_at >= interval:
        key.last_used_at = now
        session.commit()


def revoke(session: Session, owner: str, key_id: str, actor: Caller | None = None) -> None:
    """Revoke one of ``owner``'s keys by id; NotFound for anyone else's or unknown ids."""
    _revoke(session, _owned_key(session, owner, key_id), actor)


def revoke_any(session: Session, key_id: str, actor: Caller | None = None) -> ApiKeyInfo:
    """Revoke any key by id (an administrator's power); NotFound for unknown ids."""
    key = _key_by_id(session, key_id)
    _revoke(session, key, actor)
    return _info(key)


def _revoke(session: Session, key: ApiKey, actor: Caller | None) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit.record(
            session, "key.revoked", key.owner, actor.key_id if actor else None, str(key.id)
        )
        session.commit()


def list_api_keys(session: Session, owner: str | None = None) -> list[ApiKeyInfo]:
    """``owner``'s keys, or everyone's, newest first."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc())
    if owner is not None:
        query = query.where(ApiKey.owner == owner)
    return [_info(key) for key in session.scalars(query)]


def any_api_key_exists(session: Session) -> bool:
    """Whether anyone can log in yet (the server prints how to make a key if not)."""
    return session.scalar(select(ApiKey.id).where(ApiKey.revoked_at.is_(None)).limit(1)) is not None


def _owned_key(session: Session, owner: str, key_id: str) -> ApiKey:
    return get_owned(session, ApiKey, owner, key_id, "API key")


def _key_by_id(session: Session, key_id: str) -> ApiKey:
    try:
        key = session.get(ApiKey, uuid.UUID(str(key_id)))
    except ValueError:
        key = None
    if key is None:
        raise NotFound(f"No such API key: {str(key_id)[:80]!r}.")
    return key


def _info(key: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=str(key.id),
        owner=key.owner,
        name=key.name,
        prefix=key.prefix,
        is_admin=key.is_admin,
        limits=_limits(key),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
    )
