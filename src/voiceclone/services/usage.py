"""Usage per key and owner, for administrators: counters from the quotas, voices from SQL."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voiceclone.db.models import Voice
from voiceclone.services.api_keys import Caller, KeyLimits, list_api_keys
from voiceclone.services.quotas import Quotas


@dataclass(frozen=True)
class UsageRow:
    key_id: str
    owner: str
    prefix: str
    limits: KeyLimits
    """The key's effective limits (0: unlimited)."""
    requests_last_minute: int
    chars_today: int
    streams_open: int
    voices: int


def usage_rows(session: Session, quotas: Quotas, owner: str | None = None) -> list[UsageRow]:
    """One row per live (not revoked) key, optionally of one owner."""
    voices = dict(session.execute(select(Voice.owner, func.count()).group_by(Voice.owner)).all())
    rows = []
    for key in list_api_keys(session, owner):
        if key.revoked_at is not None:
            continue
        caller = Caller(key.owner, key.id, key.is_admin, key.limits)
        used = quotas.usage(caller)
        rows.append(
            UsageRow(
                key_id=key.id,
                owner=key.owner,
                prefix=key.prefix,
                limits=quotas.effective_limits(caller),
                requests_last_minute=used.requests_last_minute,
                chars_today=used.chars_today,
                streams_open=used.streams_open,
                voices=voices.get(key.owner, 0),
            )
        )
    return rows
