"""The voice routes: create, list, rename, delete, uploads and their errors."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import numpy as np
import pytest
from support.api import (
    UPLOAD_LIMIT,
    Api,
    assert_error,
    create_voice,
)
from support.fakes import (
    write_silent_wav,
    write_speech_wav,
)

from voiceclone.api.uploads import read_multipart
from voiceclone.audio.decode import decode_audio
from voiceclone.errors import PayloadTooLarge


def _wav_samples(data: bytes) -> np.ndarray:
    return decode_audio(data, 24_000, max_seconds=3600)


def _unsigned(voice: dict) -> dict:
    """The voice with its signed links cut to their paths."""

    def path(url: str) -> str:
        return urlsplit(url).path

    return {
        **voice,
        "preview_url": path(voice["preview_url"]),
        "sample_urls": [path(url) for url in voice["sample_urls"]],
    }


def test_voice_lifecycle(api: Api) -> None:
    created = create_voice(api, "Narrator")
    assert created.status_code == 201, created.text
    voice = created.json()
    assert voice["name"] == "Narrator"
    assert voice["method"] == "fake-clone"
    assert voice["sample_seconds"] > 3
    [sample] = voice["samples"]
    assert sample.startswith("voices/alice/") and sample.endswith(".wav")

    listed = api.client.get("/v1/voices", headers=api.alice).json()["voices"]
    assert [v["id"] for v in listed] == [voice["id"]]
    fetched = api.client.get(f"/v1/voices/{voice['id']}", headers=api.alice).json()
    assert _unsigned(fetched) == _unsigned(voice)  # links are signed afresh, with a new expiry

    renamed = api.client.patch(
        f"/v1/voices/{voice['id']}", headers=api.alice, json={"name": "Storyteller"}
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Storyteller"

    preview = api.client.get(f"/v1/voices/{voice['id']}/preview", headers=api.alice)
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "audio/mpeg"
    assert _wav_samples(preview.content).size > 0

    stored = api.client.get("/results/stream", params={"blob": sample}, headers=api.alice)
    assert stored.status_code == 200 and stored.content == api.reference.read_bytes()

    assert api.client.delete(f"/v1/voices/{voice['id']}", headers=api.alice).status_code == 204
    assert_error(api.client.get(f"/v1/voices/{voice['id']}", headers=api.alice), 404)
    assert api.client.get("/v1/voices", headers=api.alice).json() == {"voices": []}
    gone = api.client.get("/results/stream", params={"blob": sample}, headers=api.alice)
    assert_error(gone, 404, "not_found")


def test_voice_from_several_recordings(api: Api, tmp_path: Path) -> None:
    second = write_speech_wav(tmp_path / "second.wav", seconds=5)
    with api.reference.open("rb") as one, second.open("rb") as two:
        response = api.client.post(
            "/v1/voices",
            headers=api.alice,
            data={"consent": "true", "name": "pooled", "language": "en-gb"},
            files=[("files", ("a.wav", one, "audio/wav")), ("files", ("b.wav", two, "audio/wav"))],
        )
    assert response.status_code == 201, response.text
    assert len(response.json()["samples"]) == 2
    assert response.json()["language"] == "en-gb"


def test_non_audio_upload_is_rejected_with_the_audio_message(api: Api, tmp_path: Path) -> None:
    response = api.client.post(
        "/v1/voices",
        headers=api.alice,
        data={"consent": "true", "name": "x"},
        files={"files": ("notes.txt", b"just some text, not a recording\n" * 50, "text/plain")},
    )
    message = assert_error(response, 400, "invalid_audio")
    assert "notes.txt" in message and "not an audio file" in message
    silent = write_silent_wav(tmp_path / "silence.wav")
    with silent.open("rb") as wav:
        response = api.client.post(
            "/upload-voice", headers=api.alice, files={"file": ("silence.wav", wav, "audio/wav")}
        )
    assert_error(response, 400, "invalid_audio")
    assert api.client.get("/v1/voices", headers=api.alice).json() == {"voices": []}


def test_upload_errors(api: Api) -> None:
    wrong_field = api.client.post(
        "/v1/voices",
        headers=api.alice,
        data={"consent": "true", "name": "x"},
        files={"recording": ("a.wav", api.reference.read_bytes())},
    )
    assert "'files'" in assert_error(wrong_field, 400, "invalid_upload")
    for not_multipart in (
        api.client.post("/v1/voices", headers=api.alice, data={"consent": "true", "name": "x"}),
        api.client.post("/v1/voices", headers=api.alice, json={"name": "x"}),
    ):
        assert "multipart/form-data" in assert_error(not_multipart, 400, "invalid_upload")
    broken = api.client.post(
        "/v1/voices",
        headers={**api.alice, "Content-Type": "multipart/form-data; boundary=zz"},
        content=b"--zz\r\nno headers here\r\n\r\n",
    )
    assert_error(broken, 400, "invalid_upload")
    no_name = api.client.post(
        "/v1/voices", headers=api.alice, files={"files": ("a.wav", api.reference.read_bytes())}
    )
    assert_error(no_name, 400, "invalid_name")


def test_oversized_upload_is_413(api: Api) -> None:
    big = b"\0" * (UPLOAD_LIMIT + 1)
    response = api.client.post(
        "/v1/voices",
        headers=api.alice,
        data={"consent": "true", "name": "x"},
        files={"files": ("big.wav", big)},
    )
    assert "too large" in assert_error(response, 413, "payload_too_large")

    def chunked() -> Iterator[bytes]:  # no Content-Length: the cap applies while streaming
        boundary = b"--xyz"
        yield (
            boundary + b'\r\nContent-Disposition: form-data; name="files"; filename="a.wav"\r\n\r\n'
        )
        for _ in range(40):
            yield b"\1" * 50_000
        yield b"\r\n" + boundary + b"--\r\n"

    streamed = api.client.post(
        "/v1/voices",
        headers={**api.alice, "Content-Type": "multipart/form-data; boundary=xyz"},
        content=chunked(),
    )
    assert_error(streamed, 413, "payload_too_large")
    legacy = api.client.post("/upload-voice", headers=api.alice, files={"file": ("big.wav", big)})
    assert_error(legacy, 413, "payload_too_large")


def test_multipart_parser_spools_to_disk_in_constant_memory(tmp_path: Path) -> None:
    """20 MB through the parser: Python allocations stay far below the upload size."""
    size, piece = 20_000_000, 64 * 1024
    head = b'--b\r\nContent-Disposition: form-data; name="files"; filename="x.wav"\r\n\r\n'
    payload = np.random.default_rng(0).bytes(piece)

    async def receive_chunks() -> dict:
        nonlocal sent
        if sent == 0:
            sent += 1
            return {"type": "http.request", "body": head, "more_body": True}
        if sent * piece < size:
            sent += 1
            return {"type": "http.request", "body": payload, "more_body": True}
        return {"type": "http.request", "body": b"\r\n--b--\r\n", "more_body": False}

    from starlette.requests import Request

    sent = 0
    scope = {
        "type": "http",
        "method": "POST",
        "headers": [(b"content-type", b"multipart/form-data; boundary=b")],
    }

    async def run() -> int:
        form = await read_multipart(
            Request(scope, receive_chunks), max_file_bytes=size * 2, folder=tmp_path
        )
        try:
            [upload] = form.files
            return upload.path.stat().st_size
        finally:
            form.close()

    tracemalloc.start()
    try:
        written = anyio.run(run)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert written == (sent - 1) * piece
    assert peak < 2_000_000, f"peak Python allocation {peak:,} bytes for a {written:,}-byte upload"

    sent = 0

    async def too_big() -> None:
        await read_multipart(
            Request(scope, receive_chunks), max_file_bytes=1_000_000, folder=tmp_path
        )

    with pytest.raises(PayloadTooLarge):
        anyio.run(too_big)
