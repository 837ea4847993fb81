"""The object-store interface the rest of the service uses."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

from voiceclone.errors import NotFound

DEFAULT_CHUNK_SIZE = 256 * 1024


class StoredObject(NamedTuple):
    key: str
    modified: datetime


@runtime_checkable
class ObjectStore(Protocol):
    """Keys are ``/``-separated relative paths (see :mod:`voiceclone.storage.layout`).

    Writes are atomic: a reader sees either no object, the whole previous object, or the
    whole new one, never a partial write.
    """

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        """Upload a local file (streamed; multipart when large)."""
        ...

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None: ...

    def size(self, key: str) -> int:
        """Size in bytes; raises :class:`~voiceclone.errors.NotFound` if there is no object."""
        ...

    def exists(self, key: str) -> bool: ...

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Stream bytes ``[start, end)`` (``end=None``: to the end) without loading the object.

        Raises NotFound at call time (not on first iteration) if there is no object. A range
        past the end is clipped to the object's size.
        """
        ...

    def delete(self, key: str) -> None:
        """Remove one object; a missing object is fine."""
        ...

    def delete_prefix(self, prefix: str) -> None:
        """Remove every object under ``prefix`` (whole path segments: ``a/b`` is not ``a/bc``)."""
        ...

    def list_keys(self, prefix: str) -> list[str]:
        """Keys under ``prefix`` (whole path segments), sorted."""
        ...

    def list_objects(self, prefix: str) -> list[StoredObject]:
        """Keys under ``prefix`` with when each was last written, sorted by key."""
        ...

    def url_for(self, key: str) -> str:
        """Where the object lives, as its storage's own URL: ``file:///…``, ``s3://…``,
        ``gs://…`` (for operators and tools; it is not a link that plays)."""
        ...


def object_exists(store: ObjectStore, key: str) -> bool:
    """``store.exists`` for stores whose ``size`` raises NotFound for a missing object."""
    try:
        store.size(key)
    except NotFound:
        return False
    return True


def check_range(start: int, end: int | None) -> None:
    """Refuse a byte range with a negative offset (``iter_range``'s arguments)."""
    if start < 0 or (end is not None and end < 0):
        raise ValueError(f"invalid byte range [{start}, {end})")


def range_stop(size: int, end: int | None) -> int:
    """Where reading up to ``end`` (None: the end) stops in an object of ``size`` bytes."""
    return size if end is None else min(end, size)
