"""The HTTP API in breadth, in-process (FastAPI's TestClient) with the model-free FakeEngine.

The end-to-end tests against a real ``voiceclone serve`` process with the real engine are in
``test_e2e_server.py``; here every route, error and isolation rule is exercised quickly.
"""

from __future__ import annotations

import base64
import io
import json
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx
import numpy as np
import pytest
import soundfile as sf
from api_support import (
    UPLOAD_LIMIT,
    Api,
    api_settings,
    assert_error,
    bearer,
    create_voice,
    running_api,
)
from api_support import live_server as serve_live
from fakes import (
    FAKE_STOCK_VOICE,
    FakeEngine,
    wait_until,
    wav_samples,
    write_silent_wav,
    write_speech_wav,
)
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from voiceclone.api import create_app
from voiceclone.api.uploads import read_multipart
from voiceclone.audio.decode import decode_audio
from voiceclone.errors import PayloadTooLarge
from voiceclone.services.keys import create_api_key


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as running:
        yield running


def _wav_samples(data: bytes) -> np.ndarray:
    return decode_audio(data, 24_000, max_seconds=3600)


# -- health, auth, error shape ----------------------------------------------------------------


def test_health_needs_no_key(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "storage": "ok", "engine": "ok"}


def test_readiness_reports_a_broken_store(api: Api, monkeypatch) -> None:
    def broken(key: str) -> bool:
        raise OSError("disk gone")

    monkeypatch.setattr(api.client.app.state.store, "exists", broken)
    response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "ok", "storage": "unavailable", "engine": "ok"},
        "modes": {"consent": "attest", "watermark": "on"},
    }
    assert api.client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/voices"),
        ("POST", "/v1/voices"),
        ("GET", "/v1/jobs/00000000-0000-0000-0000-000000000000"),
        ("POST", "/v1/jobs"),
        ("POST", "/v1/speech"),
        ("POST", "/v1/audio/speech"),
        ("GET", "/v1/audio/voices"),
        ("GET", "/v1/models"),
        ("POST", "/upload-voice"),
        ("POST", "/synthesize"),
        ("GET", "/results/stream?blob=results/alice/x.wav"),
    ],
)
def test_every_route_needs_a_valid_key(api: Api, method: str, path: str) -> None:
    missing = api.client.request(method, path)
    assert "missing api key" in assert_error(missing, 401, "unauthorized").lower()
    assert missing.headers["www-authenticate"] == "Bearer"
    bad = api.client.request(method, path, headers=bearer("vc_not-a-real-key"))
    assert "invalid api key" in assert_error(bad, 401, "unauthorized").lower()
    basic = api.client.request(method, path, headers={"Authorization": "Basic YWxpY2U6eA=="})
    assert_error(basic, 401, "unauthorized")


def test_framework_errors_use_the_same_shape(api: Api) -> None:
    assert_error(api.client.get("/nope", headers=api.alice), 404, "not_found")
    assert_error(api.client.put("/v1/voices", headers=api.alice), 405, "method_not_allowed")
    missing_field = api.client.post("/v1/jobs", headers=api.alice, json={"voice": "x"})
    assert "text: is required" in assert_error(missing_field, 422, "invalid_request")
    not_json = api.client.post(
        "/v1/speech", headers={**api.alice, "Content-Type": "application/json"}, content=b"{"
    )
    assert_error(not_json, 422, "invalid_request")


def test_openapi_docs_are_served(api: Api) -> None:
    assert api.client.get("/docs").status_code == 200
    paths = api.client.get("/openapi.json").json()["paths"]
    for path in ("/v1/voices", "/v1/jobs/{job_id}/audio", "/v1/audio/speech", "/upload-voice"):
        assert path in paths
    upload = paths["/v1/voices"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in upload


# -- voices -----------------------------------------------------------------------------------


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


# -- the original routes ----------------------------------------------------------------------


def test_original_flow_upload_synthesize_poll_stream(api: Api) -> None:
    with api.reference.open("rb") as wav:
        uploaded = api.client.post(
            "/upload-voice",
            headers=api.alice,
            data={"user_id": "alice", "consent": "true"},
            files={"file": ("me.wav", wav, "audio/wav")},
        )
    assert uploaded.status_code == 200, uploaded.text
    upload = uploaded.json()
    assert {"message", "user_id", "blob", "url", "voice_id"} <= set(upload)
    assert upload["user_id"] == "alice" and upload["blob"].startswith("voices/alice/")

    text = "Hello there. This is the original flow, end to end."
    queued = api.client.post(
        "/synthesize",
        headers=api.alice,
        json={"user_id": "alice", "text": text, "input_voice_gcs": upload["blob"]},
    )
    assert queued.status_code == 202, queued.text
    job = queued.json()
    expected = {"message", "job", "result_blob", "result_url", "result_gs_url", "proxy_stream_url"}
    assert expected <= set(job)
    assert job["result_blob"] == f"results/alice/{job['job']}.wav"

    done = api.wait_for_job(job["job"])
    assert done["status"] == "succeeded" and done["progress_percent"] == 100.0
    assert done["queue_position"] is None  # it has left the queue
    stream = api.client.get(job["proxy_stream_url"], headers=api.alice)
    assert stream.status_code == 200
    assert stream.headers["content-type"] == "audio/wav"
    assert stream.headers["accept-ranges"] == "bytes"
    assert int(stream.headers["content-length"]) == len(stream.content) == done["result_bytes"]
    samples, rate = sf.read(io.BytesIO(stream.content))
    assert rate == 24_000
    assert len(samples) / rate == pytest.approx(api.engine.expected_seconds(text), abs=0.05)

    tail = api.client.get(job["proxy_stream_url"], headers={**api.alice, "Range": "bytes=100-"})
    assert tail.status_code == 206
    assert (
        tail.headers["content-range"]
        == f"bytes 100-{len(stream.content) - 1}/{len(stream.content)}"
    )
    assert tail.content == stream.content[100:]
    assert api.client.get(job["result_url"], headers=api.alice).content == stream.content


def test_original_routes_refuse_another_user_id(api: Api) -> None:
    with api.reference.open("rb") as wav:
        response = api.client.post(
            "/upload-voice",
            headers=api.alice,
            data={"user_id": "bob"},
            files={"file": ("me.wav", wav, "audio/wav")},
        )
    assert_error(response, 403, "forbidden")
    response = api.client.post(
        "/synthesize",
        headers=api.alice,
        json={"user_id": "bob", "text": "hi", "input_voice_gcs": FAKE_STOCK_VOICE},
    )
    assert_error(response, 403, "forbidden")
    without_user = api.client.post(
        "/synthesize", headers=api.alice, json={"text": "hi", "input_voice_gcs": FAKE_STOCK_VOICE}
    )
    assert without_user.status_code == 202


# -- owner isolation --------------------------------------------------------------------------


def test_owners_cannot_touch_each_others_voices_jobs_or_results(api: Api) -> None:
    voice = create_voice(api).json()
    job = api.client.post(
        "/v1/jobs", headers=api.alice, json={"text": "Only for Alice.", "voice": voice["id"]}
    ).json()
    api.wait_for_job(job["id"])
    sample, result = voice["samples"][0], job["result_blob"]

    bob = api.bob
    assert api.client.get("/v1/voices", headers=bob).json() == {"voices": []}
    names = [v["name"] for v in api.client.get("/v1/audio/voices", headers=bob).json()["voices"]]
    assert voice["name"] not in names
    for method, path in [
        ("GET", f"/v1/voices/{voice['id']}"),
        ("PATCH", f"/v1/voices/{voice['id']}"),
        ("DELETE", f"/v1/voices/{voice['id']}"),
        ("GET", f"/v1/voices/{voice['id']}/preview"),
        ("GET", f"/v1/jobs/{job['id']}"),
        ("GET", f"/v1/jobs/{job['id']}/audio"),
        ("DELETE", f"/v1/jobs/{job['id']}"),
    ]:
        kwargs = {"json": {"name": "mine now"}} if method == "PATCH" else {}
        assert_error(api.client.request(method, path, headers=bob, **kwargs), 404, "not_found")
    for ref in (voice["id"], voice["name"], sample):
        uses = [
            api.client.post("/v1/jobs", headers=bob, json={"text": "hi", "voice": ref}),
            api.client.post("/v1/speech", headers=bob, json={"text": "hi", "voice": ref}),
            api.client.post(
                "/v1/audio/speech",
                headers=bob,
                json={"model": "tts-1", "input": "hi", "voice": ref},
            ),
            api.client.post(
                "/synthesize", headers=bob, json={"text": "hi", "input_voice_gcs": ref}
            ),
        ]
        for response in uses:
            assert_error(response, 404, "not_found")

    file_name = result.rsplit("/", 1)[1]
    crafted = [
        result,
        sample,
        f"results/bob/../alice/{file_name}",
        f"../alice/{file_name}",
        f"results/bob/../../results/alice/{file_name}",
        f"/{result}",
        f"/results/bob/{file_name}",
        f"results/bob/%2e%2e/alice/{file_name}",
        "results%2Falice%2F" + file_name,
        "results%252Falice%252F" + file_name,
        f"results/bob/..%252Falice%252F{file_name}",
        f"results\\alice\\{file_name}",
        f"results/alice//{file_name}",
        "/etc/passwd",
        "results/bob/../../../../etc/passwd",
        "file:///etc/passwd",
    ]
    for blob in crafted:
        response = api.client.get("/results/stream", params={"blob": blob}, headers=bob)
        assert_error(response, 404, "not_found")
    # The owner's own key, disguised, is not accepted either: one canonical spelling only.
    for blob in (f"results/alice/../alice/{file_name}", f"/{result}", "results%252Falice"):
        response = api.client.get("/results/stream", params={"blob": blob}, headers=api.alice)
        assert_error(response, 404, "not_found")
    # ...while the plain key and its single URL-encoding work.
    for blob in (result, "results%2Falice%2F" + file_name):
        response = api.client.get("/results/stream", params={"blob": blob}, headers=api.alice)
        assert response.status_code == 200, blob
    raw = api.client.get(
        f"/results/stream?blob=results/bob/..%2F..%2Fresults/alice/{file_name}", headers=bob
    )
    assert_error(raw, 404, "not_found")

    # Alice's things are untouched.
    assert (
        api.client.get(f"/v1/voices/{voice['id']}", headers=api.alice).json()["name"] == "my voice"
    )
    assert (
        api.client.get(f"/v1/jobs/{job['id']}", headers=api.alice).json()["status"] == "succeeded"
    )


# -- jobs -------------------------------------------------------------------------------------


def test_job_audio_range_requests(api: Api) -> None:
    job = api.client.post(
        "/v1/jobs",
        headers=api.alice,
        json={"text": "Ranges let a browser seek. " * 4, "voice": FAKE_STOCK_VOICE},
    )
    assert job.status_code == 202
    assert job.headers["location"].endswith(f"/v1/jobs/{job.json()['id']}")
    url = job.json()["urls"]["audio"]
    api.wait_for_job(job.json()["id"])
    whole = api.client.get(url, headers=api.alice)
    size = len(whole.content)
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"].startswith("inline")

    cases = {
        "bytes=0-99": (0, 99),
        "bytes=44-": (44, size - 1),
        "bytes=-500": (size - 500, size - 1),
        f"bytes={size - 10}-{size + 1000}": (size - 10, size - 1),
    }
    for header, (first, last) in cases.items():
        part = api.client.get(url, headers={**api.alice, "Range": header})
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert int(part.headers["content-length"]) == last - first + 1
        assert part.content == whole.content[first : last + 1]
        assert part.headers["content-type"] == "audio/wav"

    past_end = api.client.get(url, headers={**api.alice, "Range": f"bytes={size}-"})
    assert_error(past_end, 416, "range_not_satisfiable")
    assert past_end.headers["content-range"] == f"bytes */{size}"
    ignored = api.client.get(url, headers={**api.alice, "Range": "bytes=0-1,5-6"})
    assert ignored.status_code == 200 and ignored.content == whole.content


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("mp3", "audio/mpeg"),
        ("flac", "audio/flac"),
        ("opus", "audio/ogg; codecs=opus"),
        ("pcm", "audio/pcm"),
        ("wav", "audio/wav"),
    ],
)
def test_job_audio_format_conversion(
    api: Api, fmt: str, content_type: str, tmp_path: Path, monkeypatch
) -> None:
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    text = "Convert me to another format, please."
    job = api.client.post(
        "/v1/jobs",
        headers=api.alice,
        json={"text": text, "voice": FAKE_STOCK_VOICE, "format": "aac"},
    ).json()
    api.wait_for_job(job["id"])
    converted = api.client.get(f"{job['urls']['audio']}&format={fmt}", headers=api.alice)
    assert converted.status_code == 200, converted.text
    assert converted.headers["content-type"] == content_type
    assert int(converted.headers["content-length"]) == len(converted.content)
    if fmt == "pcm":
        seconds = len(converted.content) / 2 / 24_000
    else:
        seconds = _wav_samples(converted.content).size / 24_000
    assert seconds == pytest.approx(api.engine.expected_seconds(text), abs=0.15)
    part = api.client.get(
        f"{job['urls']['audio']}&format={fmt}", headers={**api.alice, "Range": "bytes=0-9"}
    )
    assert part.status_code == 206 and part.content == converted.content[:10]
    size = len(converted.content)
    past_end = api.client.get(
        f"{job['urls']['audio']}&format={fmt}", headers={**api.alice, "Range": f"bytes={size}-"}
    )
    assert_error(past_end, 416, "range_not_satisfiable")
    bad = api.client.get(f"{job['urls']['audio']}&format=midi", headers=api.alice)
    assert_error(bad, 400, "unsupported_format")
    assert list(scratch.iterdir()) == []  # conversions leave no temp files behind


def test_job_validation_errors(api: Api) -> None:
    def submit(**fields: object) -> httpx.Response:
        body = {"text": "Hello.", "voice": FAKE_STOCK_VOICE, **fields}
        return api.client.post("/v1/jobs", headers=api.alice, json=body)

    assert "100,000" in assert_error(submit(text="a" * 100_001), 400, "text_too_long")
    assert_error(submit(text="   "), 400, "empty_text")
    assert "nobody" in assert_error(submit(voice="nobody"), 404, "not_found")
    assert "wav" in assert_error(submit(format="midi"), 400, "unsupported_format")
    assert "0.25" in assert_error(submit(speed=4.5), 400, "invalid_speed")
    assert_error(submit(speed=0.1), 400, "invalid_speed")
    assert_error(submit(language="klingon"), 400, "unsupported_language")
    assert_error(submit(speed="fast"), 422, "invalid_request")
    assert_error(submit(unexpected=1), 422, "invalid_request")
    assert_error(api.client.get("/v1/jobs/not-a-uuid", headers=api.alice), 404, "not_found")


@contextmanager
def _slow_job_running(tmp_path: Path) -> Iterator[tuple[TestClient, FakeEngine, dict, str]]:
    """A server whose engine is slow, and alice's job on it, already making audio."""
    engine = FakeEngine(chunk_delay=0.2, chars_per_chunk=5)
    app = create_app(api_settings(tmp_path), engine=engine)
    with TestClient(app) as client:
        with app.state.session_factory() as session:
            alice = bearer(create_api_key(session, "alice"))
        job = client.post(
            "/v1/jobs", headers=alice, json={"text": "slow " * 40, "voice": FAKE_STOCK_VOICE}
        ).json()
        wait_until(engine.first_chunk.is_set)
        yield client, engine, alice, job["id"]


def _assert_stops_making_audio(engine: FakeEngine) -> None:
    made = engine.chunks_made
    time.sleep(0.6)
    assert engine.chunks_made <= made + 1  # stopped at the next chunk


def test_job_cancel_and_unfinished_audio(tmp_path: Path) -> None:
    with _slow_job_running(tmp_path) as (client, engine, alice, job_id):
        pending = client.get(f"/v1/jobs/{job_id}/audio", headers=alice)
        assert_error(pending, 409, "not_ready")
        cancelled = client.post(f"/v1/jobs/{job_id}/cancel", headers=alice)
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        _assert_stops_making_audio(engine)
        assert_error(client.get(f"/v1/jobs/{job_id}/audio", headers=alice), 404)
        again = client.post(f"/v1/jobs/{job_id}/cancel", headers=alice)
        assert again.status_code == 200 and again.json()["status"] == "cancelled"
        assert client.delete(f"/v1/jobs/{job_id}", headers=alice).status_code == 204
        assert_error(client.get(f"/v1/jobs/{job_id}", headers=alice), 404, "not_found")
        assert_error(client.post(f"/v1/jobs/{job_id}/cancel", headers=alice), 404)


def test_deleting_a_running_job_stops_it(tmp_path: Path) -> None:
    with _slow_job_running(tmp_path) as (client, engine, alice, job_id):
        assert client.delete(f"/v1/jobs/{job_id}", headers=alice).status_code == 204
        assert_error(client.get(f"/v1/jobs/{job_id}", headers=alice), 404, "not_found")
        _assert_stops_making_audio(engine)


def test_failed_job_records_its_error(tmp_path: Path) -> None:
    from voiceclone.errors import InvalidText

    engine = FakeEngine(failure=InvalidText("The engine refused.", code="refused"))
    app = create_app(api_settings(tmp_path), engine=engine)
    with TestClient(app) as client:
        with app.state.session_factory() as session:
            alice = bearer(create_api_key(session, "alice"))
        job = client.post(
            "/v1/jobs", headers=alice, json={"text": "Hello.", "voice": FAKE_STOCK_VOICE}
        ).json()
        api = Api(client, engine, alice, alice, Path())
        done = api.wait_for_job(job["id"])
        assert done["status"] == "failed"
        assert done["error"] == {"code": "refused", "message": "The engine refused."}
        assert client.delete(f"/v1/jobs/{job['id']}", headers=alice).status_code == 204
        listed = client.get("/v1/jobs", headers=alice).json()
        assert listed == {"jobs": []}


# -- streaming speech -------------------------------------------------------------------------


def test_speech_streams_wav_and_pcm(api: Api) -> None:
    text = "Streaming speech arrives in pieces, as it is made by the engine."
    wav = api.client.post(
        "/v1/speech", headers=api.alice, json={"text": text, "voice": FAKE_STOCK_VOICE}
    )
    assert wav.status_code == 200
    assert wav.headers["content-type"] == "audio/wav"
    assert wav.headers["cache-control"] == "no-store"
    assert "content-length" not in wav.headers  # chunked: sent while being made
    assert wav.content[:4] == b"RIFF" and wav.content[4:8] == b"\xff\xff\xff\xff"
    expected = api.engine.expected_seconds(text)
    assert len(wav_samples(wav.content)) / 2 / 24_000 == pytest.approx(expected)

    pcm = api.client.post(
        "/v1/speech",
        headers=api.alice,
        json={"text": text, "voice": FAKE_STOCK_VOICE, "format": "pcm", "speed": 1.5},
    )
    assert pcm.headers["content-type"] == "audio/pcm"
    # The same sound, but each request carries its own watermark payload.
    assert len(pcm.content) == len(wav_samples(wav.content))
    same = np.frombuffer(pcm.content, "<i2").astype(float)
    other = np.frombuffer(wav_samples(wav.content), "<i2").astype(float)
    assert np.corrcoef(same, other)[0, 1] > 0.9


def test_speech_as_server_sent_events_carries_audio_and_word_timings(api: Api) -> None:
    text = "Streaming speech arrives in pieces, as it is made by the engine."
    body = {"text": text, "voice": FAKE_STOCK_VOICE, "format": "pcm", "stream_format": "sse"}
    response = api.client.post("/v1/speech", headers=api.alice, json=body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _sse_events(response.text)
    assert [kind for kind, _ in events][-1] == "speech.audio.done"
    audio = b"".join(
        base64.b64decode(data["audio"]) for kind, data in events if kind == "speech.audio.delta"
    )
    expected = api.engine.expected_seconds(text)
    assert len(audio) / 2 / 24_000 == pytest.approx(expected)
    words = [data for kind, data in events if kind == "speech.word"]
    assert [w["text"] for w in words] == text.split()
    assert all(data["type"] == kind for kind, data in events)
    starts = [w["start"] for w in words]
    assert starts == sorted(starts) and words[-1]["end"] <= expected + 1e-3
    first_word = next(i for i, (kind, _) in enumerate(events) if kind == "speech.word")
    assert first_word < len(events) - 2  # words arrive with the audio, not all at the end


def _sse_events(stream: str) -> list[tuple[str, dict]]:
    events = []
    for block in stream.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_speech_validation_errors(api: Api) -> None:
    def speak(**fields: object) -> httpx.Response:
        body = {"text": "Hello.", "voice": FAKE_STOCK_VOICE, **fields}
        return api.client.post("/v1/speech", headers=api.alice, json=body)

    assert_error(speak(text="a" * 100_001), 400, "text_too_long")
    assert_error(speak(text=""), 400, "empty_text")
    assert_error(speak(voice="ghost"), 404, "not_found")
    assert_error(speak(format="ogg"), 400, "unsupported_format")
    assert_error(speak(speed=0), 400, "invalid_speed")
    assert_error(speak(language="xx"), 400, "unsupported_language")


def test_speech_websocket(api: Api) -> None:
    with api.client.websocket_connect("/v1/speech/ws", headers=api.alice) as ws:
        ws.send_json({"voice": FAKE_STOCK_VOICE})
        ready = ws.receive_json()
        assert ready == {
            "type": "ready",
            "format": "pcm",
            "content_type": "audio/pcm",
            "sample_rate": 24_000,
        }
        ws.send_text(" ")
        ws.send_text("\n")
        ws.send_text("Hello there, ")
        ws.send_json({"type": "text", "text": "this arrives in pieces."})
        ws.send_json({"type": "flush"})
        audio, words = _receive_utterance(ws)
        expected = api.engine.expected_seconds(" \nHello there, this arrives in pieces.")
        assert len(audio) / 2 / 24_000 == pytest.approx(expected)
        assert [w["text"] for w in words] == ["Hello", "there,", "this", "arrives", "in", "pieces."]
        assert all(0 <= w["start"] <= w["end"] <= expected + 1e-3 for w in words)

        ws.send_text("A second utterance.")
        ws.send_json({"type": "end"})
        second, words = _receive_utterance(ws)
        assert len(second) > 0
        assert [w["text"] for w in words] == ["A", "second", "utterance."]
        assert words[0]["start"] < 0.5  # each utterance's words start on its own timeline
        assert ws.receive()["type"] == "websocket.close"


def _receive_utterance(ws) -> tuple[bytes, list[dict]]:
    """An utterance's audio and word frames, up to its "done"."""
    audio, words = b"", []
    while True:
        message = ws.receive()
        if message.get("bytes") is not None:
            audio += message["bytes"]
            continue
        frame = json.loads(message["text"])
        if frame["type"] == "word":
            words.append(frame)
            continue
        assert frame == {"type": "done"}
        return audio, words


def test_speech_websocket_key_in_first_message_and_errors(api: Api) -> None:
    token = api.alice["Authorization"].removeprefix("Bearer ")
    with api.client.websocket_connect("/v1/speech/ws") as ws:
        ws.send_json({"api_key": token, "voice": FAKE_STOCK_VOICE, "format": "wav"})
        assert ws.receive_json()["content_type"] == "audio/wav"
        ws.send_json({"type": "end"})  # nothing said: no audio, just done
        assert ws.receive_json() == {"type": "done"}

    for config, code, close_code in [
        ({"voice": FAKE_STOCK_VOICE}, "unauthorized", 1008),
        ({"voice": FAKE_STOCK_VOICE, "api_key": "vc_wrong"}, "unauthorized", 1008),
        ({"voice": "ghost", "api_key": token}, "not_found", 1007),
        (
            {"voice": FAKE_STOCK_VOICE, "api_key": token, "format": "midi"},
            "unsupported_format",
            1007,
        ),
        ({"voice": FAKE_STOCK_VOICE, "api_key": token, "speed": 9}, "invalid_speed", 1007),
    ]:
        with api.client.websocket_connect("/v1/speech/ws") as ws:
            ws.send_json(config)
            error = ws.receive_json()
            assert error["type"] == "error" and error["error"]["code"] == code, error
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == close_code

    with api.client.websocket_connect("/v1/speech/ws", headers=api.alice) as ws:
        ws.send_json({"voice": FAKE_STOCK_VOICE})
        ws.receive_json()
        ws.send_json({"type": "shout"})
        error = ws.receive_json()
        assert error["error"]["code"] == "invalid_message"


# -- OpenAI-compatible ------------------------------------------------------------------------


def test_openai_speech(api: Api) -> None:
    voice = create_voice(api, "clone").json()
    text = "The OpenAI route speaks in a cloned voice."
    for ref in (voice["id"], "clone", {"id": voice["id"]}, FAKE_STOCK_VOICE):
        response = api.client.post(
            "/v1/audio/speech",
            headers=api.alice,
            json={"model": "tts-1", "input": text, "voice": ref},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "audio/mpeg"
        assert _wav_samples(response.content).size / 24_000 == pytest.approx(
            api.engine.expected_seconds(text), abs=0.1
        )
    for fmt, content_type in [
        ("opus", "audio/ogg; codecs=opus"),
        ("aac", "audio/aac"),
        ("flac", "audio/flac"),
        ("wav", "audio/wav"),
        ("pcm", "audio/pcm"),
    ]:
        response = api.client.post(
            "/v1/audio/speech",
            headers=api.alice,
            json={
                "model": "gpt-4o-mini-tts",
                "input": text,
                "voice": "clone",
                "response_format": fmt,
                "speed": 0.25,
            },
        )
        assert response.headers["content-type"] == content_type


def test_openai_speech_sse(api: Api) -> None:
    text = "Server-sent events carry base64 audio."
    response = api.client.post(
        "/v1/audio/speech",
        headers=api.alice,
        json={
            "model": "tts-1",
            "input": text,
            "voice": FAKE_STOCK_VOICE,
            "response_format": "pcm",
            "stream_format": "sse",
        },
    )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [
        json.loads(line.removeprefix("data: "))
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]
    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    assert events[-1]["type"] == "speech.audio.done"
    assert events[-1]["usage"]["total_tokens"] > 0
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    assert len(audio) / 2 / 24_000 == pytest.approx(api.engine.expected_seconds(text))


def test_openai_errors(api: Api) -> None:
    def speak(**fields: object) -> httpx.Response:
        body = {"model": "tts-1", "input": "Hello.", "voice": FAKE_STOCK_VOICE, **fields}
        return api.client.post("/v1/audio/speech", headers=api.alice, json=body)

    assert "4,096" in assert_error(speak(input="a" * 4097), 400, "text_too_long")
    assert speak(input="a" * 4096).status_code == 200
    assert_error(speak(voice="nobody"), 404, "not_found")
    assert_error(speak(voice="alloy"), 404, "not_found")  # the fake engine has no af_alloy
    assert_error(speak(response_format="ogg"), 400, "unsupported_format")
    assert_error(speak(speed=4.01), 400, "invalid_speed")
    assert_error(speak(speed=0.2), 400, "invalid_speed")
    assert_error(speak(model="whisper-1"), 400, "model_not_found")
    assert_error(speak(stream_format="json"), 422, "invalid_request")


def test_openai_listings(api: Api) -> None:
    voice = create_voice(api, "clone").json()
    models = api.client.get("/v1/models", headers=api.alice).json()
    assert models["object"] == "list"
    served = {m["id"] for m in models["data"] if m["engine"]["served"]}
    assert served == {"fake", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"}
    known = {m["id"]: m["engine"] for m in models["data"] if not m["engine"]["served"]}
    assert set(known) == {"kokoro", "xtts"}  # every known engine, with its state here
    assert known["xtts"]["state"] == "missing"
    assert "VOICECLONE_XTTS_DIR" in known["xtts"]["detail"]
    assert "non-commercial" in known["xtts"]["licence"]
    voices = api.client.get("/v1/audio/voices", headers=api.alice).json()["voices"]
    assert {"id": voice["id"], "name": "clone", "type": "custom", "language": None} in voices
    assert any(v["id"] == FAKE_STOCK_VOICE and v["type"] == "stock" for v in voices)


# -- a real HTTP server in this process: disconnects and time to first byte ------------------


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[tuple[str, FakeEngine, dict[str, str]]]:
    engine = FakeEngine(chunk_delay=0.1, chars_per_chunk=10)
    with serve_live(tmp_path, engine) as (base, app):
        with app.state.session_factory() as session:
            headers = bearer(create_api_key(session, "alice"))
        yield base, engine, headers


def test_client_disconnect_stops_synthesis(live_server) -> None:
    base, engine, headers = live_server
    text = "word " * 200  # 100 chunks, 10 s of work
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        with client.stream(
            "POST", "/v1/speech", json={"text": text, "voice": FAKE_STOCK_VOICE}
        ) as r:
            assert r.status_code == 200
            received = 0
            for data in r.iter_bytes():
                received += len(data)
                if received > 200 + 2 * 24_000 * 0.4:  # two chunks in
                    break
        made_at_disconnect = engine.chunks_made
        time.sleep(1.0)
        assert engine.chunks_made <= made_at_disconnect + 2, "synthesis went on after disconnect"
        assert engine.chunks_made < 20


def test_first_bytes_arrive_before_synthesis_ends(live_server) -> None:
    base, engine, headers = live_server
    text = "word " * 30  # 15 chunks at 0.1 s each
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        start = time.perf_counter()
        with client.stream(
            "POST", "/v1/speech", json={"text": text, "voice": FAKE_STOCK_VOICE}
        ) as r:
            first_audio = None
            total = 0
            for data in r.iter_bytes():
                total += len(data)
                if first_audio is None and total > 200:  # past the header
                    first_audio = time.perf_counter() - start
                    chunks_then = engine.chunks_made
        elapsed = time.perf_counter() - start
    assert first_audio is not None
    assert chunks_then < 5
    assert first_audio < elapsed / 3, (first_audio, elapsed)


def test_upload_over_http_is_refused_early(live_server) -> None:
    base, _, headers = live_server
    big = b"\0" * (UPLOAD_LIMIT * 3)
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        response = client.post(
            "/v1/voices", data={"consent": "true", "name": "x"}, files={"files": ("a.wav", big)}
        )
    assert_error(response, 413, "payload_too_large")


def test_websocket_disconnect_stops_synthesis(live_server) -> None:
    from websockets.sync.client import connect

    base, engine, headers = live_server
    url = base.replace("http://", "ws://") + "/v1/speech/ws"
    with connect(url, additional_headers=headers, proxy=None) as ws:
        ws.send(json.dumps({"voice": FAKE_STOCK_VOICE}))
        assert json.loads(ws.recv())["type"] == "ready"
        ws.send("word " * 200)  # 100 chunks, 10 s of work
        ws.send(json.dumps({"type": "flush"}))
        assert isinstance(ws.recv(timeout=10), bytes)
    made_at_disconnect = engine.chunks_made
    time.sleep(1.0)
    assert engine.chunks_made <= made_at_disconnect + 2, "synthesis went on after disconnect"
    assert engine.chunks_made < 20


def test_upload_spool_files_are_removed(api: Api, tmp_path: Path, monkeypatch) -> None:
    import tempfile

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    assert create_voice(api).status_code == 201
    assert_error(
        api.client.post(
            "/v1/voices",
            headers=api.alice,
            data={"consent": "true", "name": "x"},
            files={"files": ("big.wav", b"\0" * (UPLOAD_LIMIT + 1))},
        ),
        413,
    )
    assert_error(
        api.client.post(
            "/v1/voices",
            headers=api.alice,
            data={"consent": "true", "name": "x"},
            files={"files": ("a.txt", b"no")},
        ),
        400,
        "invalid_audio",
    )
    assert list(spool.iterdir()) == []
