"""The original routes: /upload-voice, /synthesize, /results/stream."""

from __future__ import annotations

import io

import pytest
import soundfile as sf
from support.api import (
    Api,
    assert_error,
)
from support.fakes import (
    FAKE_STOCK_VOICE,
)


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
