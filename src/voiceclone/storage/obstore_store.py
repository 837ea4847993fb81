"""The object store on obstore: the local filesystem (default) or any S3-compatible service.

Atomicity comes from obstore: a local put writes a staging file beside the target and
renames it into place; an S3 put (single or multipart) only becomes visible when complete.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import obstore
from obstore.exceptions import BaseError, NotFoundError, PreconditionError
from obstore.store import LocalStore, MemoryStore, S3Store

from voiceclone.errors import Conflict, NotFound, StorageUnavailable
from voiceclone.settings import Settings, get_settings
from voiceclone.storage.base import (
    DEFAULT_CHUNK_SIZE,
    ObjectStore,
    StoredObject,
    check_range,
    object_exists,
    range_stop,
)

if TYPE_CHECKING:
    from obstore import GetOptions, ObjectMeta
    from obstore.store import ClientConfig, RetryConfig, S3Config

Backend = LocalStore | S3Store | MemoryStore

_MISSING = (FileNotFoundError, NotFoundError)
_DELETE_BATCH = 1000  # S3's DeleteObjects limit
_CONSISTENT_READ_TRIES = 5
CONNECT_TIMEOUT_S = 5
STORAGE_RETRIES = 3


class ObstoreStore:
    """:class:`~voiceclone.storage.base.ObjectStore` over an obstore store."""

    def __init__(
        self,
        store: Backend,
        *,
        supports_content_type: bool,
        part_bytes: int,
        upload_concurrency: int,
        description: str = "",
    ) -> None:
        self._store = store
        self._supports_content_type = supports_content_type
        self._part_bytes = part_bytes
        self._upload_concurrency = upload_concurrency
        self.description = description

    def __repr__(self) -> str:
        return f"ObstoreStore({self.description or self._store!r})"

    def url_for(self, key: str) -> str:
        return f"{self.description.rstrip('/')}/{key}"

    def _attributes(self, content_type: str | None) -> dict[str, str] | None:
        if content_type and self._supports_content_type:
            return {"Content-Type": content_type}
        return None

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        with _reachable():
            self._put_file(key, path, content_type)

    def _put_file(self, key: str, path: Path, content_type: str | None) -> None:
        obstore.put(
            self._store,
            key,
            Path(path),
            attributes=self._attributes(content_type),
            chunk_size=self._part_bytes,
            max_concurrency=self._upload_concurrency,
        )

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        with _reachable():
            obstore.put(
                self._store,
                key,
                data,
                attributes=self._attributes(content_type),
                use_multipart=False,
            )

    def size(self, key: str) -> int:
        return int(self._head(key)["size"])

    def exists(self, key: str) -> bool:
        return object_exists(self, key)

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Bytes of one version of the object, even if it is replaced while being read."""
        check_range(start, end)
        with _reachable():
            return _reachable_stream(self._open_range(key, start, end, chunk_size))

    def _open_range(
        self, key: str, start: int, end: int | None, chunk_size: int
    ) -> Iterator[bytes]:
        for _ in range(_CONSISTENT_READ_TRIES):
            meta = self._head(key)
            stop = range_stop(meta["size"], end)
            if start >= stop:
                return iter(())
            options: GetOptions = {"range": (start, stop)}
            if meta["e_tag"]:
                options["if_match"] = meta["e_tag"]  # the version whose size we just read
            try:
                result = obstore.get(self._store, key, options=options)
            except PreconditionError:
                continue  # replaced between head and get: look again
            except _MISSING:
                raise NotFound(f"No such object: {key!r}.") from None
            return (bytes(chunk) for chunk in result.stream(min_chunk_size=chunk_size))
        raise Conflict(f"Object {key!r} keeps changing while being read; try again.")

    def _head(self, key: str) -> ObjectMeta:
        try:
            with _reachable():
                return obstore.head(self._store, key)
        except _MISSING:
            raise NotFound(f"No such object: {key!r}.") from None

    def delete(self, key: str) -> None:
        with contextlib.suppress(*_MISSING), _reachable():
            obstore.delete(self._store, key)

    def delete_prefix(self, prefix: str) -> None:
        keys = self.list_keys(prefix)
        for first in range(0, len(keys), _DELETE_BATCH):
            batch = keys[first : first + _DELETE_BATCH]
            try:
                with _reachable():
                    obstore.delete(self._store, batch)
            except _MISSING:
                for key in batch:  # someone else removed one meanwhile: go one by one
                    self.delete(key)

    def list_keys(self, prefix: str) -> list[str]:
        return [found.key for found in self.list_objects(prefix)]

    def list_objects(self, prefix: str) -> list[StoredObject]:
        prefix = prefix.strip("/")
        try:
            with _reachable():
                pages = list(obstore.list(self._store, prefix or None))
        except _MISSING:
            return []
        return sorted(
            StoredObject(meta["path"], meta["last_modified"]) for page in pages for meta in page
        )


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    """Backend failures that are not about the object (the store is down, a timeout) as
    :class:`StorageUnavailable` (503)."""
    try:
        yield
    except (*_MISSING, PreconditionError):
        raise
    except (BaseError, OSError) as error:
        raise StorageUnavailable(type(error).__name__) from error


def _reachable_stream(chunks: Iterator[bytes]) -> Iterator[bytes]:
    with _reachable():
        yield from chunks


def open_store(url: str, settings: Settings | None = None) -> ObjectStore:
    """Open ``file:///abs/path``, ``s3://bucket[/prefix]``, ``gs://bucket[/prefix]`` or
    ``memory://``.

    S3 endpoint and region come from settings (``VOICECLONE_S3_ENDPOINT``,
    ``VOICECLONE_S3_REGION``), credentials from the usual ``AWS_ACCESS_KEY_ID`` /
    ``AWS_SECRET_ACCESS_KEY`` environment variables. GCS: see :mod:`.gcs_store`.
    """
    settings = settings or get_settings()
    parsed = urlparse(url)
    if parsed.scheme == "gs":
        from voiceclone.storage.gcs_store import GcsStore

        if not parsed.netloc:
            raise ValueError("GCS storage URL needs a bucket: gs://bucket[/prefix]")
        return GcsStore(parsed.netloc, parsed.path, settings)
    store: Backend
    if parsed.scheme == "file":
        store, supports_content_type = _local_store(url, parsed.netloc, parsed.path), False
    elif parsed.scheme == "s3":
        store, supports_content_type = _s3_store(parsed.netloc, parsed.path, settings), True
    elif parsed.scheme == "memory":
        store, supports_content_type = MemoryStore(), False
    else:
        raise ValueError(
            f"Unsupported storage URL {url!r}: use file:///absolute/path, s3://bucket[/prefix] "
            "or gs://bucket[/prefix]."
        )
    return ObstoreStore(
        store,
        supports_content_type=supports_content_type,
        part_bytes=settings.storage_part_bytes,
        upload_concurrency=settings.storage_upload_concurrency,
        description=url,
    )


def _local_store(url: str, host: str, path: str) -> LocalStore:
    root = Path(unquote(path))
    if host or not root.is_absolute():
        raise ValueError(f"Storage URL must be file:///absolute/path, got {url!r}")
    root.mkdir(parents=True, exist_ok=True)
    return LocalStore(root, mkdir=True, automatic_cleanup=True)


def _s3_store(bucket: str, path: str, settings: Settings) -> S3Store:
    if not bucket:
        raise ValueError("S3 storage URL needs a bucket: s3://bucket[/prefix]")
    config: S3Config = {"region": settings.s3_region}
    client_options: ClientConfig = {
        "timeout": f"{settings.storage_timeout_seconds}s",
        "connect_timeout": f"{min(settings.storage_timeout_seconds, CONNECT_TIMEOUT_S)}s",
    }
    if settings.s3_endpoint:
        config["endpoint"] = settings.s3_endpoint
        client_options["allow_http"] = settings.s3_endpoint.startswith("http://")
    # A store that is down answers with 503 after this, rather than after minutes.
    retries: RetryConfig = {
        "max_retries": STORAGE_RETRIES,
        "retry_timeout": timedelta(seconds=settings.storage_retry_seconds),
        "backoff": {"init_backoff": timedelta(milliseconds=100), "base": 2},
    }
    return S3Store(
        bucket,
        prefix=path.strip("/") or None,
        config=config,
        client_options=client_options,
        retry_config=retries,
    )
