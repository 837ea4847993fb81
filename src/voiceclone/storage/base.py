"""The object-store interface the rest of the service uses."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

DEFAULT_CHUNK_SIZE = 256 * 1024


@runtime_checkable
class ObjectStore(Protocol):
    """Keys are ``/``-separated relative paths (see :mod:`voiceclone.storage.keys`).

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

    def url_for(self, key: str) -> str:
        """Where the object lives, as its storage's own URL: ``file:///…``, ``s3://…``,
        ``gs://…`` (for operators and tools; it is not a link that plays)."""
        ...
