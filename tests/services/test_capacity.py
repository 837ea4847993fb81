"""Admission from measured capacity: live streams beyond what the engine can keep in real
time are refused at once (429 server_busy, Retry-After); jobs are never refused for load."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from support.api import (
    Api,
    assert_error,
    create_voice,
    live_server,
    metric_samples,
    metric_value,
    running_api,
)
from support.fakes import FAKE_STOCK_VOICE, FakeEngine

from voiceclone.audio.chunk import AudioChunk
from voiceclone.engines.base import VoiceProfile
from voiceclone.metrics import ENGINE_SPEED
from voiceclone.services.api_keys import create_api_key
from voiceclone.services.capacity import (
    CALIBRATION_ROUNDS,
    CALIBRATION_TEXT,
    LiveCapacity,
    ServerBusy,
)
from voiceclone.settings import Settings


def _capacity(**settings: object) -> LiveCapacity:
    return LiveCapacity(Settings(**settings))


def test_streams_are_admitted_while_they_fit_with_headroom() -> None:
    capacity = _capacity(live_capacity=2.6, live_headroom=0.25, busy_retry_after_seconds=3)
    assert capacity.streams_that_fit() == 2
    first, second = capacity.admit(), capacity.admit()
    with pytest.raises(ServerBusy) as refused:
        capacity.admit()
    assert refused.value.status == 429 and refused.value.retry_after == 3
    first()
    first()  # releasing twice frees one slot, not two
    third = capacity.admit()
    with pytest.raises(ServerBusy):
        capacity.admit()
    second()
    third()
    assert capacity.admitted == 0


def test_capacity_is_learned_from_the_chunks_made() -> None:
    capacity = _capacity(engine_slots=1)  # one synthesis fills the engine
    assert capacity.streams_that_fit() is None  # nothing measured: nobody is refused
    capacity.admit()

    def chunks() -> Iterator[AudioChunk]:
        for _ in range(40):
            yield AudioChunk(np.zeros(24_000, np.float32), 24_000)  # 1 s of audio, at once

    assert len(list(capacity.observe(chunks()))) == 40
    assert capacity.rate is not None and capacity.rate > 100
    assert ENGINE_SPEED._value.get() == pytest.approx(capacity.rate)  # the metric follows


@pytest.mark.parametrize("slots", [1, 3])
def test_start_up_measures_as_many_sentences_at_once_as_the_engine_has_slots(slots) -> None:
    # Each chunk takes 0.1 s of wall time however many are made at once (a GPU, or one
    # core per slot): the engine's capacity grows with its slots.
    engine = FakeEngine(chunk_seconds=1.0, chunk_delay=0.1)
    capacity = _capacity(engine_slots=slots)
    capacity.calibrate(engine)
    chunks_per_sentence = len(engine.pieces(CALIBRATION_TEXT))
    assert engine.synthesize_calls == slots * CALIBRATION_ROUNDS
    assert capacity.rate is not None
    assert 0.6 * slots * 10 < capacity.rate <= slots * 10 * 1.01
    assert engine.chunks_made == slots * chunks_per_sentence * CALIBRATION_ROUNDS


def test_start_up_keeps_its_fastest_round() -> None:
    engine = FakeEngine(chunk_seconds=1.0, chunk_delay=0.1)
    delays = iter([0.3, 0.1])  # the first round is slowed down, the second is not
    speak = engine.synthesize

    def hiccup_then_steady(*args, **kwargs):
        engine.chunk_delay = next(delays, 0.1)
        return speak(*args, **kwargs)

    engine.synthesize = hiccup_then_steady  # type: ignore[method-assign]
    capacity = _capacity(engine_slots=1)
    capacity.calibrate(engine)
    assert capacity.rate is not None and capacity.rate > 6  # ~10 s/s, not ~3.3


def test_a_lone_stream_does_not_lower_the_capacity_of_an_engine_with_spare_slots() -> None:
    engine = FakeEngine(chunk_seconds=1.0, chunk_delay=0.1)
    capacity = _capacity(engine_slots=2)
    capacity.calibrate(engine)
    measured = capacity.rate
    slow = FakeEngine(chunk_seconds=1.0, chunk_delay=0.5)  # one stream, at a fifth the speed
    list(
        capacity.observe(
            slow.synthesize("One lone stream speaks here.", slow.stock_voice(FAKE_STOCK_VOICE))
        )
    )
    assert capacity.rate == measured


def test_admission_can_be_turned_off() -> None:
    capacity = _capacity(live_capacity=1.0, live_admission=False)
    for _ in range(5):
        capacity.admit()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path, live_admission=True, live_capacity=3.5) as running:  # two fit
        yield running


def _open_socket(api: Api):
    socket = api.client.websocket_connect("/v1/speech/ws", headers=api.alice)
    ws = socket.__enter__()
    ws.send_text(json.dumps({"voice": FAKE_STOCK_VOICE}))
    return socket, ws, ws.receive_json()


def _speak(api: Api):
    body = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE}
    return api.client.post("/v1/speech", headers=api.alice, json=body)


def _refused_so_far(api: Api) -> float:
    samples = metric_samples(api.client.get("/metrics").text)
    return metric_value(samples, "voiceclone_live_streams_refused_total")


def test_a_full_server_refuses_live_streams_but_queues_jobs(api: Api) -> None:
    refused_before = _refused_so_far(api)
    sockets = [_open_socket(api) for _ in range(2)]
    assert [ready["type"] for _, _, ready in sockets] == ["ready", "ready"]

    refused = _speak(api)
    message = assert_error(refused, 429, "server_busy")
    assert "capacity" in message and refused.headers["Retry-After"] == "2"
    frugal = api.key("carol", chars_per_day=len("Hello there."))
    for _ in range(3):  # refused streams cost nothing
        body = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE}
        assert_error(api.client.post("/v1/speech", headers=frugal, json=body), 429, "server_busy")
    voice_id = create_voice(api).json()["id"]
    preview = api.client.get(f"/v1/voices/{voice_id}/preview", headers=api.alice)
    assert_error(preview, 429, "server_busy")
    socket, _ws, frame = _open_socket(api)
    assert frame["type"] == "error" and frame["error"]["code"] == "server_busy"
    socket.__exit__(None, None, None)
    job = api.client.post(
        "/v1/jobs", headers=api.alice, json={"text": "Queued anyway.", "voice": FAKE_STOCK_VOICE}
    )
    assert job.status_code == 202
    assert _refused_so_far(api) - refused_before == 6  # speech, 3 frugal, preview, WebSocket

    first, _, _ = sockets.pop()
    first.__exit__(None, None, None)
    assert _speak(api).status_code == 200
    for socket, _, _ in sockets:
        socket.__exit__(None, None, None)
    body = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE}
    assert api.client.post("/v1/speech", headers=frugal, json=body).status_code == 200


class SlowLookupEngine(FakeEngine):
    """Its stock voice takes a while to load, and it counts the loads."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.voice_loads = 0

    def stock_voice(self, name: str) -> VoiceProfile:
        with self._lock:
            self.voice_loads += 1
        time.sleep(LOOKUP_S)
        return super().stock_voice(name)


LOOKUP_S = 0.3


def test_streams_arriving_together_beyond_capacity_are_refused_before_any_work(
    tmp_path: Path,
) -> None:
    engine = SlowLookupEngine(chunk_delay=0.3)
    overrides = {"live_admission": True, "live_capacity": 3.5}  # two streams fit
    with live_server(tmp_path, engine, **overrides) as (base, app):
        with app.state.session_factory() as session:
            headers = {"Authorization": f"Bearer {create_api_key(session, 'alice')}"}
        body = {"text": "Hello there. " * 6, "voice": FAKE_STOCK_VOICE, "format": "pcm"}
        statuses: list[int] = []

        def speak() -> None:
            response = httpx.post(f"{base}/v1/speech", headers=headers, json=body, timeout=30)
            statuses.append(response.status_code)

        callers = [threading.Thread(target=speak) for _ in range(8)]
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
        assert sorted(statuses) == [200] * 2 + [429] * 6
        # Only the admitted streams loaded their voice: the others were refused on arrival
        # (a check that all of them passed before any was admitted would load eight).
        assert engine.voice_loads == 2
        assert app.state.pipeline.capacity.admitted == 0


def test_requests_that_fail_free_their_place_at_once(api: Api) -> None:
    capacity = api.client.app.state.pipeline.capacity
    speech = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE}
    failures = [
        ("/v1/speech", {}, speech, 401),
        ("/v1/speech", api.alice, {**speech, "voice": "no-such-voice"}, 404),
        ("/v1/speech", api.alice, {"voice": FAKE_STOCK_VOICE}, 422),
        ("/v1/speech", api.alice, {**speech, "speed": 9.0}, 400),
        ("/v1/speech", api.alice, {**speech, "text": "   "}, 400),
        ("/v1/audio/speech", api.alice, {"model": "tts-1", "input": "Hi.", "voice": "x"}, 404),
        ("/v1/voices/no-such-voice/preview", api.alice, None, 404),
    ]
    for path, headers, body, status in failures * 2:  # more failures than places
        if body is None:
            response = api.client.get(path, headers=headers)
        else:
            response = api.client.post(path, headers=headers, json=body)
        assert response.status_code == status, response.text
        assert capacity.admitted == 0
    with api.client.websocket_connect("/v1/speech/ws", headers=api.alice) as ws:
        ws.send_text(json.dumps({"voice": "no-such-voice"}))
        assert ws.receive_json()["type"] == "error"
    assert capacity.admitted == 0
    sockets = [_open_socket(api) for _ in range(2)]
    assert [ready["type"] for _, _, ready in sockets] == ["ready", "ready"]
    assert capacity.admitted == 2
    for socket, _, _ in sockets:
        socket.__exit__(None, None, None)
    assert _speak(api).status_code == 200
