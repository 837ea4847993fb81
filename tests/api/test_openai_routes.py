"""The OpenAI-compatible routes: speech, voices and models."""

from __future__ import annotations

import base64
import json

import httpx
import numpy as np
import pytest
from support.api import (
    Api,
    assert_error,
    create_voice,
)
from support.fakes import (
    FAKE_STOCK_VOICE,
)

from voiceclone.audio.decode import decode_audio


def _wav_samples(data: bytes) -> np.ndarray:
    return decode_audio(data, 24_000, max_seconds=3600)


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
