"""Admission from measured capacity: live streams beyond what the engine can keep in real
time are refused at once (429 server_busy, Retry-After); jobs are never refused for load."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from api_support import Api, assert_error, running_api
from fakes import FAKE_STOCK_VOICE, FakeEngine

from voiceclone.audio.chunk import AudioChunk
from voiceclone.metrics import ENGINE_SPEED
from voiceclone.services.capacity import CALIBRATION_TEXT, LiveCapacity, ServerBusy
from voiceclone.settings import Settings


def _capacity(**settings: object) -> LiveCapacity:
    capacity = LiveCapacity()
    capacity.configure(Settings(**settings))
    return capacity


def test_streams_are_admitted_while_they_fit_with_headroom() -> None:
    capacity = _capacity(live_capacity=2.6, live_headroom=0.25, busy_retry_after_s=3)
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
    capacity = _capacity()
    assert capacity.streams_that_fit() is None  # nothing measured: nobody is refused
    capacity.admit()

    def chunks() -> Iterator[AudioChunk]:
        for _ in range(40):
            yield AudioChunk(np.zeros(24_000, np.float32), 24_000)  # 1 s of audio, at once

    assert len(list(capacity.observed(chunks()))) == 40
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
    assert engine.synthesize_calls == slots
    assert capacity.rate is not None
    assert 0.6 * slots * 10 < capacity.rate <= slots * 10 * 1.01
    assert engine.chunks_made == slots * chunks_per_sentence


def test_a_lone_stream_does_not_lower_the_capacity_of_an_engine_with_spare_slots() -> None:
    engine = FakeEngine(chunk_seconds=1.0, chunk_delay=0.1)
    capacity = _capacity(engine_slots=2)
    capacity.calibrate(engine)
    measured = capacity.rate
    slow = FakeEngine(chunk_seconds=1.0, chunk_delay=0.5)  # one stream, at a fifth the speed
    list(
        capacity.observed(
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
    with running_api(tmp_path, live_admission=True, live_capacity=2.6) as running:
        yield running


def _open_socket(api: Api):
    socket = api.client.websocket_connect("/v1/speech/ws", headers=api.alice)
    ws = socket.__enter__()
    ws.send_text(json.dumps({"voice": FAKE_STOCK_VOICE}))
    return socket, ws, ws.receive_json()


def _speak(api: Api):
    body = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE}
    return api.client.post("/v1/speech", headers=api.alice, json=body)


def test_a_full_server_refuses_live_streams_but_queues_jobs(api: Api) -> None:
    sockets = [_open_socket(api) for _ in range(2)]
    assert [ready["type"] for _, _, ready in sockets] == ["ready", "ready"]

    refused = _speak(api)
    message = assert_error(refused, 429, "server_busy")
    assert "capacity" in message and refused.headers["Retry-After"] == "2"
    frugal = api.key("carol", chars_per_day=len("Hello there."))
    for _ in range(3):  # refused streams cost nothing
        body = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE}
        assert_error(api.client.post("/v1/speech", headers=frugal, json=body), 429, "server_busy")
    socket, _ws, frame = _open_socket(api)
    assert frame["type"] == "error" and frame["error"]["code"] == "server_busy"
    socket.__exit__(None, None, None)
    job = api.client.post(
        "/v1/jobs", headers=api.alice, json={"text": "Queued anyway.", "voice": FAKE_STOCK_VOICE}
    )
    assert job.status_code == 202

    first, _, _ = sockets.pop()
    first.__exit__(None, None, None)
    assert _speak(api).status_code == 200
    for socket, _, _ in sockets:
        socket.__exit__(None, None, None)
    body = {"text": "Hello there.", "voice": FAKE_STOCK_VOICE}
    assert api.client.post("/v1/speech", headers=frugal, json=body).status_code == 200
