"""Object store: atomic writes, range reads, deletes — on the local filesystem, on S3 (moto
in server mode) and on GCS (gcp-storage-emulator) — and the key check that keeps owners
apart."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from pathlib import Path

import pytest

from voiceclone.errors import NotFound
from voiceclone.storage import checked_key, new_voice_key, open_store, result_key
from voiceclone.storage.base import ObjectStore

BIG_BYTES = 24 * 1024 * 1024  # several multipart parts


def _random_file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def _read(store: ObjectStore, key: str) -> bytes:
    return b"".join(store.iter_range(key))


# --- atomic writes ----------------------------------------------------------------------


def test_concurrent_reader_sees_old_or_new_object_never_a_partial_one(
    any_store: ObjectStore, tmp_path: Path
) -> None:
    key = "results/alice/big.wav"
    old = b"o" * 1_000_000
    any_store.put_bytes(key, old)
    new_file = _random_file(tmp_path / "new.bin", BIG_BYTES)
    whole = {len(old): hashlib.sha256(old).digest(), BIG_BYTES: _sha256(new_file)}
    seen_sizes: list[int] = []
    torn_reads: list[int] = []
    writing = threading.Event()

    def watch() -> None:
        while writing.is_set():
            seen_sizes.append(any_store.size(key))
            data = _read(any_store, key)
            if whole.get(len(data)) != hashlib.sha256(data).digest():
                torn_reads.append(len(data))

    writing.set()
    reader = threading.Thread(target=watch)
    reader.start()
    try:
        any_store.put_file(key, new_file)
    finally:
        writing.clear()
        reader.join()

    assert seen_sizes, "the reader never ran while the object was written"
    assert set(seen_sizes) <= set(whole)
    assert torn_reads == []
    assert any_store.size(key) == BIG_BYTES
    assert hashlib.sha256(_read(any_store, key)).digest() == whole[BIG_BYTES]


def test_object_is_invisible_until_its_upload_completes(
    any_store: ObjectStore, tmp_path: Path
) -> None:
    key = "voices/alice/new.wav"
    source = _random_file(tmp_path / "new.bin", BIG_BYTES)
    observed: list[bool] = []
    writing = threading.Event()

    def watch() -> None:
        while writing.is_set():
            with contextlib.suppress(NotFound):
                observed.append(any_store.size(key) == BIG_BYTES)

    writing.set()
    reader = threading.Thread(target=watch)
    reader.start()
    try:
        any_store.put_file(key, source)
    finally:
        writing.clear()
        reader.join()

    assert all(observed), "a reader saw the object before it was complete"
    assert any_store.list_keys("voices/alice") == [key]


def test_local_put_leaves_no_staging_files(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    store = open_store(root.as_uri())
    store.put_file("voices/alice/a.wav", _random_file(tmp_path / "a.bin", 6 * 1024 * 1024))
    store.put_bytes("voices/alice/b.wav", b"small")

    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    assert files == ["voices/alice/a.wav", "voices/alice/b.wav"]


def test_put_overwrites_in_place(any_store: ObjectStore) -> None:
    any_store.put_bytes("results/alice/x.wav", b"first version")
    any_store.put_bytes("results/alice/x.wav", b"second")

    assert _read(any_store, "results/alice/x.wav") == b"second"
    assert any_store.list_keys("results/alice") == ["results/alice/x.wav"]


# --- reads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (0, None, slice(0, None)),
        (10, 20, slice(10, 20)),
        (990, None, slice(990, None)),
        (995, 5000, slice(995, 1000)),  # past the end: clipped
        (0, 1, slice(0, 1)),
        (500, 500, slice(0, 0)),  # empty range
        (1000, None, slice(0, 0)),  # starts at the end
    ],
)
def test_range_reads(any_store: ObjectStore, start: int, end: int | None, expected: slice) -> None:
    data = bytes(range(256)) * 4  # 1024 bytes, every offset distinguishable
    data = data[:1000]
    any_store.put_bytes("results/alice/r.pcm", data)

    assert b"".join(any_store.iter_range("results/alice/r.pcm", start, end)) == data[expected]


def test_range_read_streams_in_chunks(any_store: ObjectStore) -> None:
    data = os.urandom(3 * 1024 * 1024)
    any_store.put_bytes("results/alice/long.wav", data)

    chunks = list(
        any_store.iter_range("results/alice/long.wav", 100, len(data) - 100, chunk_size=256 * 1024)
    )

    assert len(chunks) > 4
    assert b"".join(chunks) == data[100:-100]


def test_missing_object_is_not_found_before_iteration(any_store: ObjectStore) -> None:
    with pytest.raises(NotFound):
        any_store.iter_range("results/alice/missing.wav")
    with pytest.raises(NotFound):
        any_store.size("results/alice/missing.wav")
    assert not any_store.exists("results/alice/missing.wav")


def test_size_and_exists(any_store: ObjectStore) -> None:
    any_store.put_bytes("voices/alice/s.wav", b"12345")

    assert any_store.size("voices/alice/s.wav") == 5
    assert any_store.exists("voices/alice/s.wav")


# --- deletes ----------------------------------------------------------------------------


def test_delete_prefix_removes_whole_segments_only(any_store: ObjectStore) -> None:
    for key in (
        "voices/alice/1.wav",
        "voices/alice/2.wav",
        "voices/alicex/3.wav",
        "results/alice/4.wav",
    ):
        any_store.put_bytes(key, b"x")

    any_store.delete_prefix("voices/alice/")

    assert any_store.list_keys("") == ["results/alice/4.wav", "voices/alicex/3.wav"]


def test_delete_is_quiet_about_missing_objects(any_store: ObjectStore) -> None:
    any_store.put_bytes("voices/alice/a.wav", b"x")

    any_store.delete("voices/alice/a.wav")
    any_store.delete("voices/alice/a.wav")
    any_store.delete_prefix("voices/nobody/")

    assert not any_store.exists("voices/alice/a.wav")


def test_s3_objects_carry_their_content_type(s3_store: ObjectStore, s3_endpoint: str) -> None:
    import boto3

    s3_store.put_bytes("results/alice/a.mp3", b"ID3", content_type="audio/mpeg")
    bucket = s3_store.description.removeprefix("s3://")  # type: ignore[attr-defined]

    head = boto3.client("s3", endpoint_url=s3_endpoint).head_object(
        Bucket=bucket, Key="results/alice/a.mp3"
    )

    assert head["ContentType"] == "audio/mpeg"


def test_gcs_objects_carry_their_content_type_and_gs_urls(gcs_store: ObjectStore) -> None:
    gcs_store.put_bytes("results/alice/a.mp3", b"ID3", content_type="audio/mpeg")

    bucket = gcs_store.description.removeprefix("gs://").split("/")[0]  # type: ignore[attr-defined]
    assert gcs_store.url_for("results/alice/a.mp3") == f"gs://{bucket}/prefix/results/alice/a.mp3"
    blob = gcs_store._bucket.get_blob("prefix/results/alice/a.mp3")  # type: ignore[attr-defined]
    assert blob.content_type == "audio/mpeg"


def test_open_store_rejects_unknown_schemes() -> None:
    with pytest.raises(ValueError, match="Unsupported storage URL"):
        open_store("ftp://example/x")
    with pytest.raises(ValueError, match="absolute"):
        open_store("file://relative/path")


# --- keys -------------------------------------------------------------------------------


def test_key_layout() -> None:
    job_id = "0b5e7e5c-8d3f-4e53-9a53-1d0f3c2a0b11"

    assert re.fullmatch(r"voices/alice/[0-9a-f-]{36}\.wav", new_voice_key("alice", "WAV"))
    assert new_voice_key("alice", "wav") != new_voice_key("alice", "wav")
    assert result_key("alice", job_id, "mp3") == f"results/alice/{job_id}.mp3"


@pytest.mark.parametrize(
    "key",
    [
        "voices/alice/0b5e7e5c-8d3f-4e53-9a53-1d0f3c2a0b11.wav",
        "voices%2Falice%2F0b5e7e5c-8d3f-4e53-9a53-1d0f3c2a0b11.wav",
    ],
)
def test_checked_key_accepts_the_owners_keys(key: str) -> None:
    assert (
        checked_key("alice", key, "voices")
        == "voices/alice/0b5e7e5c-8d3f-4e53-9a53-1d0f3c2a0b11.wav"
    )


@pytest.mark.parametrize(
    "key",
    [
        "voices/bob/a.wav",  # another owner
        "results/alice/a.wav",  # another kind
        "voices/alice/../bob/a.wav",
        "../voices/alice/a.wav",
        "voices/alice/..",
        "voices/alice/.",
        "/voices/alice/a.wav",  # absolute
        "/etc/passwd",
        "voices/alice/a.wav/",
        "voices//alice/a.wav",
        "voices/alice//a.wav",
        "voices\\alice\\a.wav",  # backslashes
        "voices/alice\\..\\bob/a.wav",
        "voices/alice/..\\..\\a.wav",
        "%2e%2e%2fvoices/alice/a.wav",  # URL-encoded ../
        "voices/alice/%2e%2e%2f%2e%2e%2fbob%2fa.wav",
        "voices%2falice%2f..%2fbob%2fa.wav",
        "voices/alice/%252e%252e%252fa.wav",  # double-encoded
        "voices%252falice%252fa.wav",
        "voices/alice/a.wav%00",  # NUL
        "voices/alice/a%0a.wav",
        "voices/alice/%ff.wav",  # not UTF-8
        "s3://bucket/voices/alice/a.wav",
        "C:\\voices\\alice\\a.wav",
        "voices/alice",
        "",
        "voices/alice/" + "a" * 2000 + ".wav",
    ],
)
def test_checked_key_rejects_everything_else_as_not_found(key: str) -> None:
    with pytest.raises(NotFound) as raised:
        checked_key("alice", key, "voices")
    assert raised.value.status == 404


def _sha256(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()
