"""Fetching a row by id only for its owner: everyone else gets the same NotFound."""

from __future__ import annotations

import uuid
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from voiceclone.errors import NotFound

MAX_ECHOED_ID_CHARS = 120


class _Owned(Protocol):
    owner: str


Row = TypeVar("Row", bound=_Owned)


def find_owned(session: Session, model: type[Row], owner: str, row_id: str) -> Row | None:
    """The row with this id if ``owner`` owns it; None for malformed ids and others' rows."""
    try:
        parsed = uuid.UUID(str(row_id))
    except ValueError:
        return None
    row = session.get(model, parsed)
    return row if row is not None and row.owner == owner else None


def get_owned(session: Session, model: type[Row], owner: str, row_id: str, what: str) -> Row:
    """Like :func:`find_owned`, but NotFound (never revealing whether the id exists)."""
    row = find_owned(session, model, owner, row_id)
    if row is None:
        raise NotFound(f"No such {what}: {str(row_id)[:MAX_ECHOED_ID_CHARS]!r}.")
    return row
