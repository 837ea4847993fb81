"""One voice, several engines: requests choose among the engines a server holds, and a
voice made with one engine gets another's profile from its samples the first time."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support.api import Api, api_settings, assert_error, bearer, create_voice
from support.fakes import FakeEngine, write_speech_wav

from voiceclone.api import create_app
from voiceclone.db.models import VoiceEngineProfile
from voiceclone.engines.base import VoiceProfile, VoiceSample
from voiceclone.services.api_keys import create_api_key
from voiceclone.settings import Settings


class OtherEngine(FakeEngine):
    """A second model-free engine, counting the profiles it is asked to make."""

    name = "other"

    def __init__(self) -> None:
        super().__init__()
        self.voices_made = 0

    def create_voice(
        self, samples: Sequence[VoiceSample], languages: Sequence[str] = ()
    ) -> VoiceProfile:
        self.voices_made += 1
        return super().create_voice(samples, languages)


@pytest.fixture
def other() -> OtherEngine:
    return OtherEngine()


@pytest.fixture
def api(tmp_path: Path, other: OtherEngine) -> Iterator[Api]:
    engine = FakeEngine()
    app = create_app(api_settings(tmp_path), engine=engine, more_engines=[other])
    with TestClient(app) as client:
        with app.state.session_factory() as session:
            alice = bearer(create_api_key(session, "alice"))
            bob = bearer(create_api_key(session, "bob"))
        yield Api(client, engine, alice, bob, write_speech_wav(tmp_path / "me.wav"))


def _speak(api: Api, voice: str, **fields: object):
    body = {"text": "Hello there.", "voice": voice, **fields}
    return api.client.post("/v1/speech", headers=api.alice, json=body)


def _kept_profiles(api: Api) -> list[str]:
    with api.client.app.state.session_factory() as session:
        return [row.engine for row in session.query(VoiceEngineProfile).all()]


def test_a_voice_gets_another_engines_profile_once(api: Api, other: OtherEngine) -> None:
    voice = create_voice(api, "mine").json()["id"]
    assert other.voices_made == 0

    assert _speak(api, voice, engine="other").status_code == 200
    assert other.voices_made == 1 and other.synthesize_calls == 1
    assert _kept_profiles(api) == ["other"]
    assert _speak(api, voice, engine="other").status_code == 200
    assert other.voices_made == 1  # kept, not made again
    assert _speak(api, voice).status_code == 200  # the default engine: its own profile
    assert other.synthesize_calls == 2

    assert api.client.delete(f"/v1/voices/{voice}", headers=api.alice).status_code == 204
    assert _kept_profiles(api) == []


def test_engines_a_server_does_not_hold_are_refused_by_name(api: Api) -> None:
    voice = create_voice(api, "mine").json()["id"]
    message = assert_error(_speak(api, voice, engine="xtts"), 400, "engine_not_found")
    assert "does not speak with the 'xtts' engine; it holds: fake, other" in message
    assert_error(_speak(api, voice, engine="nope"), 400, "engine_not_found")
    spec = api.client.get("/openapi.json").json()
    engine_field = spec["components"]["schemas"]["SpeechCreate"]["properties"]["engine"]
    assert engine_field["enum"] == ["fake", "other"]


def test_the_openai_model_picks_the_engine(api: Api, other: OtherEngine) -> None:
    voice = create_voice(api, "mine").json()["id"]
    body = {"input": "Hello.", "voice": voice, "response_format": "wav"}
    speak = api.client.post
    assert speak("/v1/audio/speech", headers=api.alice, json={**body, "model": "tts-1"}).is_success
    assert other.synthesize_calls == 0  # OpenAI's names mean the default engine
    assert speak("/v1/audio/speech", headers=api.alice, json={**body, "model": "other"}).is_success
    assert other.synthesize_calls == 1
    models = api.client.get("/v1/models", headers=api.alice).json()["data"]
    served = {m["id"]: m["engine"]["name"] for m in models if m["engine"]["served"]}
    assert served["fake"] == "fake" and served["other"] == "other"
    assert served["tts-1"] == "fake"


def test_a_live_socket_chooses_its_engine(api: Api, other: OtherEngine) -> None:
    voice = create_voice(api, "mine").json()["id"]
    with api.client.websocket_connect("/v1/speech/ws", headers=api.alice) as socket:
        socket.send_text(json.dumps({"voice": voice, "engine": "other"}))
        assert socket.receive_json()["type"] == "ready"
        socket.send_text("Hello there.")
        socket.send_text(json.dumps({"type": "flush"}))
        while True:
            message = socket.receive()
            if message.get("text") and json.loads(message["text"]).get("type") == "done":
                break
    assert other.synthesize_calls == 1


def _queue_job(api: Api, voice: str, **fields: object):
    body = {"text": "Hello there. A job in the background.", "voice": voice, **fields}
    return api.client.post("/v1/jobs", headers=api.alice, json=body)


def test_a_job_speaks_with_the_engine_it_names(api: Api, other: OtherEngine) -> None:
    voice = create_voice(api, "mine").json()["id"]
    created = _queue_job(api, voice, engine="other")
    assert created.status_code == 202, created.text
    assert created.json()["engine"] == "other"
    done = api.wait_for_job(created.json()["id"])
    assert done["status"] == "succeeded" and done["engine"] == "other"
    assert other.synthesize_calls == 1 and api.engine.synthesize_calls == 0

    default = api.wait_for_job(_queue_job(api, voice).json()["id"])
    assert default["status"] == "succeeded" and default["engine"] == "fake"
    assert other.synthesize_calls == 1 and api.engine.synthesize_calls == 1


def test_a_job_for_an_engine_not_held_is_refused_before_it_is_stored(api: Api) -> None:
    voice = create_voice(api, "mine").json()["id"]
    message = assert_error(_queue_job(api, voice, engine="xtts"), 400, "engine_not_found")
    assert "available: fake, other" in message
    assert api.client.get("/v1/jobs", headers=api.alice).json()["jobs"] == []
    spec = api.client.get("/openapi.json").json()
    engine_field = spec["components"]["schemas"]["JobCreate"]["properties"]["engine"]
    assert engine_field["enum"] == ["fake", "other"]


def test_a_replica_queues_jobs_for_engines_only_workers_hold(
    tmp_path: Path, queue_settings: Settings
) -> None:
    import redis

    settings = api_settings(
        tmp_path,
        queue_url=queue_settings.queue_url,
        queue_name=queue_settings.queue_name,
        job_engines=["fake", "xtts"],
    )
    app = create_app(settings, engine=FakeEngine())
    with TestClient(app) as client:
        with app.state.session_factory() as session:
            alice = bearer(create_api_key(session, "alice"))
        api = Api(
            client,
            app.state.pipeline.default_engine,
            alice,
            {},
            write_speech_wav(tmp_path / "me.wav"),
        )
        create_voice(api, "mine")
        created = _queue_job(api, "mine", engine="xtts")
        assert created.status_code == 202, created.text
        assert created.json()["engine"] == "xtts" and created.json()["status"] == "queued"
        message = assert_error(_queue_job(api, "af_heart", engine="xtts"), 404, "not_found")
        assert "one of your voices" in message
        assert_error(_queue_job(api, "mine", engine="other"), 400, "engine_not_found")
    broker = redis.Redis.from_url(settings.queue_url)
    assert broker.llen(f"{settings.queue_name}.xtts") == 1
    assert broker.llen(f"{settings.queue_name}.fake") == 0
