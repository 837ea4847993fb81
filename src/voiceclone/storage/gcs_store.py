"""Google Cloud Storage (``gs://bucket[/prefix]``) behind the same object-store interface.

Writes go through the official ``google-cloud-storage`` client: an object (single or
resumable upload) is visible only once complete. A range read is one streamed media request
for one generation of the object, so it never mixes versions even if the object is replaced
meanwhile. Credentials are the usual Google ones (``GOOGLE_APPLICATION_CREDENTIALS`` or the
metadata server on GCP); ``VOICECLONE_GCS_ENDPOINT`` points at an emulator instead
(anonymous access).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from voiceclone.errors import Conflict, NotFound, StorageUnavailable
from voiceclone.settings import Settings
from voiceclone.storage.base import (
    DEFAULT_CHUNK_SIZE,
    StoredObject,
    check_range,
    object_exists,
    range_stop,
)

GCS_ENDPOINT = "https://storage.googleapis.com"
_CONSISTENT_READ_TRIES = 5


class GcsStore:
    def __init__(self, bucket: str, prefix: str, settings: Settings) -> None:
        try:
            from google.cloud import storage
            from google.cloud.storage.retry import DEFAULT_RETRY
        except ImportError as error:  # pragma: no cover - depends on the install
            raise ValueError(
                "gs:// storage needs the Google Cloud Storage client: "
                "pip install 'voiceclone[gcs]'."
            ) from error
        self._endpoint = (settings.gcs_endpoint or GCS_ENDPOINT).rstrip("/")
        credentials, project = _credentials(settings)
        self._client = storage.Client(
            project=project,
            credentials=credentials,
            client_options={"api_endpoint": self._endpoint},
        )
        self._bucket = self._client.bucket(bucket)
        self._bucket_name = bucket
        self._prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._session = _http_session(credentials)
        self._part_bytes = settings.storage_part_bytes
        self._timeout = settings.storage_timeout_seconds
        # A store that is down answers with 503 after this, rather than after minutes.
        self._call = {
            "timeout": self._timeout,
            "retry": DEFAULT_RETRY.with_timeout(settings.storage_retry_seconds),
        }
        self.description = (
            f"gs://{bucket}{('/' + self._prefix.rstrip('/')) if self._prefix else ''}"
        )

    def __repr__(self) -> str:
        return f"GcsStore({self.description})"

    def _name(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def url_for(self, key: str) -> str:
        return f"gs://{self._bucket_name}/{self._name(key)}"

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        blob = self._bucket.blob(self._name(key), chunk_size=self._part_bytes)
        with _reachable():
            blob.upload_from_filename(str(path), content_type=content_type, **self._call)

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> None:
        with _reachable():
            self._bucket.blob(self._name(key)).upload_from_string(
                data, content_type=content_type, **self._call
            )

    def _meta(self, key: str) -> Any:
        with _reachable():
            blob = self._bucket.get_blob(self._name(key), **self._call)
        if blob is None:
            raise NotFound(f"No such object: {key!r}.")
        return blob

    def size(self, key: str) -> int:
        return int(self._meta(key).size)

    def exists(self, key: str) -> bool:
        return object_exists(self, key)

    def iter_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        check_range(start, end)
        for _ in range(_CONSISTENT_READ_TRIES):
            blob = self._meta(key)
            stop = range_stop(blob.size, end)
            if start >= stop:
                return iter(())
            url = (
                f"{self._endpoint}/download/storage/v1/b/{quote(self._bucket_name, safe='')}"
                f"/o/{quote(blob.name, safe='')}?alt=media&generation={blob.generation}"
            )
            with _reachable():
                response = self._session.get(
                    url,
                    headers={"Range": f"bytes={start}-{stop - 1}"},
                    stream=True,
                    timeout=self._timeout,
                )
            if response.status_code == 404:
                response.close()
                continue  # that generation is gone (replaced or deleted): look again
            if response.status_code >= 500:
                response.close()
                raise StorageUnavailable(f"HTTP {response.status_code}")
            response.raise_for_status()
            if _same_version(response, blob):
                return _streamed(response, chunk_size)
            response.close()
        if not self.exists(key):
            raise NotFound(f"No such object: {key!r}.")
        raise Conflict(f"Object {key!r} keeps changing while being read; try again.")

    def delete(self, key: str) -> None:
        from google.api_core.exceptions import NotFound as Missing

        with contextlib.suppress(Missing), _reachable():
            self._bucket.blob(self._name(key)).delete(**self._call)

    def delete_prefix(self, prefix: str) -> None:
        for key in self.list_keys(prefix):
            self.delete(key)

    def list_keys(self, prefix: str) -> list[str]:
        return [found.key for found in self.list_objects(prefix)]

    def list_objects(self, prefix: str) -> list[StoredObject]:
        wanted = prefix.strip("/")
        query = self._prefix + (f"{wanted}/" if wanted else "")
        with _reachable():
            blobs = self._client.list_blobs(self._bucket_name, prefix=query, **self._call)
            found = [StoredObject(blob.name[len(self._prefix) :], blob.updated) for blob in blobs]
        return sorted(found)


def _same_version(response: Any, blob: Any) -> bool:
    """Whether the bytes coming are the generation whose size was read: GCS says so in
    ``x-goog-generation``; servers without it (the emulator ignores ``generation=``) are
    checked by the total size in ``Content-Range``."""
    generation = response.headers.get("x-goog-generation")
    if generation is not None:
        return str(generation) == str(blob.generation)
    total = response.headers.get("content-range", "").rpartition("/")[2]
    return not total.isdigit() or int(total) == blob.size


def _streamed(response: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        with _reachable():
            yield from response.iter_content(chunk_size=chunk_size)
    finally:
        response.close()


@contextlib.contextmanager
def _reachable() -> Iterator[None]:
    """Transport failures and server errors (GCS is down, a timeout) as
    :class:`StorageUnavailable` (503); "not found" passes through."""
    import requests
    from google.api_core import exceptions as api
    from google.auth.exceptions import TransportError

    try:
        yield
    except api.NotFound:
        raise
    except (requests.RequestException, api.ServerError, api.RetryError, TransportError) as error:
        raise StorageUnavailable(type(error).__name__) from error


def _credentials(settings: Settings) -> tuple[Any, str | None]:
    """Anonymous for an emulator; else the environment's Google credentials."""
    if settings.gcs_endpoint:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials(), settings.gcs_project or "voiceclone"
    import google.auth

    credentials, project = google.auth.default(
        scopes=["https://www.googleapis.com/auth/devstorage.read_write"]
    )
    return credentials, settings.gcs_project or project


def _http_session(credentials: Any) -> Any:
    from google.auth.credentials import AnonymousCredentials

    if isinstance(credentials, AnonymousCredentials):
        import requests

        return requests.Session()
    from google.auth.transport.requests import AuthorizedSession

    return AuthorizedSession(credentials)
