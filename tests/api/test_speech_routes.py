"""Live speech over HTTP (audio and server-sent events) and the WebSocket."""

from __future__ import annotations

import base64
import json

import httpx
import numpy as np
import pytest
from starlette.websockets import WebSocketDisconnect
from support.api import (
    Api,
    assert_error,
)
from support.fakes import (
    FAKE_STOCK_VOICE,
    wav_samples,
)


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
