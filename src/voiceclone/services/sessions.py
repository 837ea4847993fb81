"""Browser sessions: an API key exchanged once for an HttpOnly cookie.

The cookie holds a random token; the database keeps only its sha256, the key it stands
for, a CSRF token the page must echo on every state-changing call, and an expiry. A
revoked key ends its sessions at once.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceclone.db.models import WebSession, utcnow
from voiceclone.errors import Unauthorized
from voiceclone.services.api_keys import Caller, authenticate, hash_token, live_caller
from voiceclone.settings import Settings

TOKEN_BYTES = 32


class SessionExpired(Unauthorized):
    code = "session_expired"


@dataclass(frozen=True)
class OpenSession:
    token: str
    """The cookie's value (shown once, never stored)."""
    caller: Caller
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    caller: Caller
    csrf_token: str
    expires_at: datetime


def sign_in(session: Session, api_key: str, settings: Settings) -> OpenSession:
    """A new session for the holder of ``api_key``; :class:`Unauthorized` if it is not a
    live key."""
    caller = authenticate(session, api_key.strip())
    if caller is None:
        raise Unauthorized("That API key is not valid (unknown or revoked). Check it and retry.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = WebSession(
        token_hash=hash_token(token),
        key_id=uuid.UUID(caller.key_id),
        owner=caller.owner,
        csrf_token=secrets.token_urlsafe(TOKEN_BYTES),
        expires_at=utcnow() + timedelta(seconds=settings.session_ttl_seconds),
    )
    session.add(row)
    session.commit()
    return OpenSession(token, caller, row.csrf_token, row.expires_at)


def current_session(session: Session, token: str) -> SessionInfo:
    """The live session behind a cookie; :class:`SessionExpired` when it ended."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        raise SessionExpired("You are signed out. Sign in again with your API key.")
    if row.expires_at <= utcnow():
        raise SessionExpired("Your session has expired. Sign in again with your API key.")
    caller = live_caller(session, str(row.key_id))
    if caller is None:
        raise SessionExpired("Your API key was revoked. Sign in with another key.")
    return SessionInfo(caller, row.csrf_token, row.expires_at)


def sign_out(session: Session, token: str) -> None:
    row = session.scalar(select(WebSession).where(WebSession.token_hash == hash_token(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.commit()
