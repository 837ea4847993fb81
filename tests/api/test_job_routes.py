"""The job routes: queue, poll, cancel, delete, audio with ranges and formats."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from support.api import (
    Api,
    api_settings,
    assert_error,
    bearer,
)
from support.fakes import (
    FAKE_STOCK_VOICE,
    FakeEngine,
    wait_until,
)

from voiceclone.api import create_app
from voiceclone.audio.decode import decode_audio
from voiceclone.services.api_keys import create_api_key


def _wav_samples(data: bytes) -> np.ndarray:
    return decode_audio(data, 24_000, max_seconds=3600)


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
