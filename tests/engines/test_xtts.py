"""XTTS-v2 behind the engine protocol, on a tiny random-weight release made in the test.

These check behaviour and shapes, not audio quality (the weights are random). They need the
``xtts`` extra (coqui-tts, torch, torchaudio); ``scripts/test.sh -m xtts`` runs them in a
virtual environment of their own."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from support.fakes import real_speech

pytest.importorskip("TTS", reason="the xtts extra is not installed (scripts/test.sh -m xtts)")

from fastapi.testclient import TestClient
from support.api import assert_error, bearer
from support.fakes import write_speech_wav
from support.xtts import SPEAKER, make_tiny_release, write_checksums

from voiceclone.api import create_app
from voiceclone.engines import describe_engines
from voiceclone.engines.base import VoiceProfile, VoiceSample
from voiceclone.engines.xtts import ReleaseInvalid, verified_release
from voiceclone.engines.xtts.engine import XttsEngine
from voiceclone.services.api_keys import create_api_key
from voiceclone.services.pipeline import SpeechPipeline
from voiceclone.settings import Settings

pytestmark = pytest.mark.xtts


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_release(tmp_path_factory.mktemp("xtts-release"))


@pytest.fixture(scope="module")
def settings(release: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("home")
    return Settings(
        home=home,
        engine="xtts",
        engines=["xtts"],
        xtts_dir=release,
        xtts_stream_chunk_tokens=4,
        device=os.environ.get("VOICECLONE_TEST_DEVICE", "cpu"),  # scripts/gpu-check.sh: cuda
    )


@pytest.fixture(scope="module")
def engine(settings: Settings) -> XttsEngine:
    return XttsEngine(settings)


@pytest.fixture(scope="module")
def voice(engine: XttsEngine) -> VoiceProfile:
    sample = VoiceSample(real_speech(4.0, engine.sample_rate), engine.sample_rate, "ref")
    return engine.create_voice([sample], ["en"])


def test_the_release_is_verified_before_it_loads(release: Path, tmp_path: Path) -> None:
    assert verified_release(release) == release
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in release.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    with (copy / "config.json").open("a", encoding="utf-8") as stream:
        stream.write(" ")
    with pytest.raises(ReleaseInvalid, match=r"do not match their sha256.*config\.json"):
        verified_release(copy)
    write_checksums(copy)
    (copy / "vocab.json").unlink()
    with pytest.raises(ReleaseInvalid, match=r"missing from .*: vocab\.json"):
        verified_release(copy)


def test_describe_reports_ready_and_missing(settings: Settings, tmp_path: Path) -> None:
    ready = {info.name: info for info in describe_engines(settings)}["xtts"]
    assert ready.state == "ready" and ready.detail == ""
    empty = settings.model_copy(update={"xtts_dir": tmp_path})
    missing = {info.name: info for info in describe_engines(empty)}["xtts"]
    assert missing.state == "missing"
    assert "model.pth" in missing.detail and "COQUI_TOS_AGREED=1" in missing.detail


def test_a_voice_holds_its_latents_and_is_not_recomputed(
    engine: XttsEngine, voice: VoiceProfile, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert voice.engine == "xtts" and voice.style is not None
    assert voice.style.shape == (1, 32, 64)  # perceiver latents x GPT width
    assert voice.speaker_embedding is not None and voice.speaker_embedding.shape == (1, 512, 1)
    stored = VoiceProfile.from_json(voice.to_json())

    def recompute(*_: object, **__: object) -> None:
        raise AssertionError("latents recomputed at synthesis")

    monkeypatch.setattr(engine.model, "get_gpt_cond_latents", recompute)
    monkeypatch.setattr(engine.model, "get_speaker_embedding", recompute)
    chunks = list(engine.synthesize("Hello there.", stored, "en"))
    assert chunks and all(c.sample_rate == 24_000 for c in chunks)


def test_chunks_arrive_while_the_span_is_still_being_made(
    engine: XttsEngine, voice: VoiceProfile
) -> None:
    started = time.perf_counter()
    stream = engine.synthesize("Hello there, how are you today?", voice, "en")
    first = next(stream)
    first_at = time.perf_counter() - started
    rest = list(stream)
    total = time.perf_counter() - started
    assert rest, "one span should stream as several chunks"
    assert first_at < total
    assert first.samples.dtype == np.float32 and np.isfinite(first.samples).all()
    assert [c.index for c in [first, *rest]] == list(range(1 + len(rest)))


def test_korean_and_english_text_paths(engine: XttsEngine, voice: VoiceProfile) -> None:
    korean = list(engine.synthesize("안녕하세요. 좋은 아침입니다.", voice, "ko"))
    assert korean and korean[0].text.startswith("안녕하세요")
    english = list(engine.synthesize(iter(["The quick brown ", "fox."]), voice, None))
    assert english and english[0].text.startswith("The quick")
    assert engine.char_limit("ko") == 95 and engine.char_limit("en") == 250


def test_japanese_is_romanised_and_spoken(engine: XttsEngine, voice: VoiceProfile) -> None:
    japanese = list(engine.synthesize("こんにちは。今日は良い天気です。", voice, "ja"))
    assert japanese and japanese[0].text.startswith("こんにちは")
    assert all(len(chunk.samples) > 0 for chunk in japanese)


def test_stock_speakers_from_the_release(engine: XttsEngine) -> None:
    assert engine.stock_voice_names() == [SPEAKER]
    profile = engine.stock_voice(SPEAKER)
    assert profile.style is not None and profile.style.shape == (1, 32, 64)


def _app_settings(settings: Settings, tmp_path: Path, **update: object) -> Settings:
    """``settings`` with a database and object store of this test's own."""
    return settings.model_copy(
        update={
            "home": tmp_path / "home",
            "database_url": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "storage_url": (tmp_path / "objects").as_uri(),
            **update,
        }
    )


def _alice_with_voice(client: TestClient, tmp_path: Path) -> tuple[dict[str, str], str]:
    """Alice's key, and a voice of hers made from a real recording."""
    with client.app.state.session_factory() as session:
        alice = bearer(create_api_key(session, "alice"))
    reference = write_speech_wav(tmp_path / "me.wav", seconds=4.0)
    with reference.open("rb") as file:
        created = client.post(
            "/v1/voices",
            headers=alice,
            data={"name": "me", "consent": "true"},
            files={"files": ("me.wav", file, "audio/wav")},
        )
    assert created.status_code == 201, created.text
    return alice, created.json()["id"]


@pytest.fixture
def client(settings: Settings, engine: XttsEngine, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(_app_settings(settings, tmp_path), engine=engine)
    with TestClient(app) as running:
        yield running


def test_the_api_speaks_with_xtts(client: TestClient, tmp_path: Path) -> None:
    alice, voice_id = _alice_with_voice(client, tmp_path)
    speech = client.post(
        "/v1/speech", headers=alice, json={"text": "Hello there.", "voice": voice_id}
    )
    assert speech.status_code == 200 and speech.content[:4] == b"RIFF"
    models = client.get("/v1/models", headers=alice).json()["data"]
    served = [m for m in models if m["engine"]["served"]]
    assert served[0]["id"] == "xtts" and served[0]["engine"]["state"] == "ready"
    openai = client.post(
        "/v1/audio/speech",
        headers=alice,
        json={"model": "xtts", "input": "Hello.", "voice": voice_id, "response_format": "wav"},
    )
    assert openai.status_code == 200
    assert_error(
        client.post(
            "/v1/speech",
            headers=alice,
            json={"text": "Hallo.", "voice": voice_id, "language": "de"},
        ),
        400,
    )


def test_a_voice_made_with_another_engine_gets_its_xtts_profile_on_first_use(
    settings: Settings, engine: XttsEngine, tmp_path: Path
) -> None:
    from support.fakes import FakeEngine

    from voiceclone.db.models import VoiceEngineProfile

    chosen = _app_settings(settings, tmp_path, engine="fake", engines=["fake", "xtts"])
    app = create_app(chosen, engine=FakeEngine(), more_engines=[engine])
    with TestClient(app) as client:
        alice, voice = _alice_with_voice(client, tmp_path)
        body = {"text": "Hello there.", "voice": voice, "engine": "xtts"}
        speech = client.post("/v1/speech", headers=alice, json=body)
        assert speech.status_code == 200 and speech.content[:4] == b"RIFF"
        with app.state.session_factory() as session:
            (kept,) = session.query(VoiceEngineProfile).all()
        assert kept.engine == "xtts"
        assert VoiceProfile.from_json(kept.profile).style.shape == (1, 32, 64)


def test_an_xtts_job_queued_by_a_kokoro_replica_runs_on_an_xtts_worker(
    settings: Settings, engine: XttsEngine, tmp_path: Path, queue_settings: Settings
) -> None:
    """The replica holds no XTTS; the job waits on its engine's queue until a worker that
    holds XTTS takes it, makes the voice's XTTS profile from its samples, and speaks."""
    from support.fakes import FakeEngine, wait_until
    from support.servers import celery_worker

    from voiceclone.db.models import VoiceEngineProfile
    from voiceclone.jobs.celery_queue import WorkerContext, celery_app

    queue = {"queue_url": queue_settings.queue_url, "queue_name": queue_settings.queue_name}
    replica = _app_settings(
        settings, tmp_path, engine="fake", engines=["fake"], job_engines=["xtts"], **queue
    )
    app = create_app(replica, engine=FakeEngine())
    with TestClient(app) as client:
        alice, voice = _alice_with_voice(client, tmp_path)
        body = {"text": "Hello there. This job speaks with XTTS.", "voice": voice}
        job = client.post("/v1/jobs", headers=alice, json={**body, "engine": "xtts"}).json()
        assert job["engine"] == "xtts" and job["status"] == "queued"

        worker_settings = replica.model_copy(update={"engine": "xtts", "engines": ["xtts"]})
        context = WorkerContext(
            app.state.session_factory,
            app.state.store,
            SpeechPipeline([engine], worker_settings),
        )

        def finished() -> bool:
            status = client.get(f"/v1/jobs/{job['id']}", headers=alice).json()["status"]
            return status in ("succeeded", "failed")

        with celery_worker(celery_app(worker_settings, context)):
            wait_until(finished, timeout=120)
        done = client.get(f"/v1/jobs/{job['id']}", headers=alice).json()
        assert done["status"] == "succeeded", done
        audio = client.get(f"/v1/jobs/{job['id']}/audio", headers=alice)
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
        with app.state.session_factory() as session:
            assert [p.engine for p in session.query(VoiceEngineProfile).all()] == ["xtts"]
