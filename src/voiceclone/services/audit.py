"""The audit log: voices created and deleted, consent accepted or refused, keys created
and revoked, limits hit — who (owner, key id), what, when."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from voiceclone.db.models import AuditEvent

MAX_TARGET_CHARS = 200
DEFAULT_LISTING = 100


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str
    owner: str
    actor_key_id: str | None
    target: str | None
    detail: dict[str, Any]


def record(
    session: Session,
    action: str,
    owner: str,
    actor_key_id: str | None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add an event to the session (the caller commits it with the change it describes).
    An actor that is not a key (a signed link) is kept in the detail."""
    detail = dict(detail or {})
    key_id = None
    if actor_key_id:
        try:
            key_id = uuid.UUID(actor_key_id)
        except ValueError:
            detail["actor"] = actor_key_id
    session.add(
        AuditEvent(
            action=action,
            owner=owner,
            actor_key_id=key_id,
            target=target[:MAX_TARGET_CHARS] if target else None,
            detail=detail,
        )
    )


def record_now(
    session: Session,
    action: str,
    owner: str,
    actor_key_id: str | None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Record and commit at once (for refusals: the request fails, the event stays)."""
    session.rollback()
    record(session, action, owner, actor_key_id, target, detail)
    session.commit()


def entries(
    session: Session, owner: str | None = None, limit: int = DEFAULT_LISTING
) -> list[AuditEntry]:
    """The newest events first, for one owner or everyone."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    if owner is not None:
        query = query.where(AuditEvent.owner == owner)
    return [
        AuditEntry(
            at=event.at,
            action=event.action,
            owner=event.owner,
            actor_key_id=str(event.actor_key_id) if event.actor_key_id else None,
            target=event.target,
            detail=dict(event.detail or {}),
        )
        for event in session.scalars(query)
    ]
