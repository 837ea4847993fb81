"""Consent before cloning, in all three modes, over the HTTP API.

Spoken consent runs the real tests (faster-whisper, the d-vector embedder, the watermark
detector) on real recordings: the challenge sentence is set, as the settings allow, to what
a reference speaker says in their clip, so the clip itself can be the consent reading.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import soundfile as sf
from sqlalchemy import select, update
from support.api import Api, assert_error, create_voice, running_api

from voiceclone.db import AuditEvent, ConsentChallenge, utcnow
from voiceclone.safety.consent import (
    ATTEST_STATEMENT,
    ATTEST_VERSION,
    heard_code,
    sentence_error,
)
from voiceclone.safety.watermark import mark

HAROLD_SAYS = "Air was either entering or escaping at the ring with a faint sizzling sound."
DANIEL_SAYS = (
    "They shouted, consolation, and promises and went off back to the town again to get help."
)


def _audit(api: Api, action: str) -> list[AuditEvent]:
    with api.client.app.state.session_factory() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _nothing_stored(api: Api) -> None:
    assert api.client.get("/v1/voices", headers=api.alice).json() == {"voices": []}
    assert api.client.app.state.store.list_keys("") == []


# -- attest (the default) ----------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as running:
        yield running


@pytest.mark.parametrize("consent", [None, "false", "no", ""])
def test_attest_mode_refuses_a_voice_without_consent(api: Api, consent: str | None) -> None:
    fields = {} if consent is None else {"consent": consent}
    with api.reference.open("rb") as wav:
        response = api.client.post(
            "/v1/voices",
            headers=api.alice,
            data={"name": "mine", **fields},
            files={"files": ("me.wav", wav, "audio/wav")},
        )

    message = assert_error(response, 400, "consent_required")
    assert "consent=true" in message and ATTEST_STATEMENT in message
    _nothing_stored(api)
    (refused,) = _audit(api, "consent.refused")
    assert refused.owner == "alice" and refused.detail["mode"] == "attest"


def test_the_original_upload_route_needs_consent_too(api: Api) -> None:
    with api.reference.open("rb") as wav:
        refused = api.client.post(
            "/upload-voice", headers=api.alice, files={"file": ("me.wav", wav, "audio/wav")}
        )
    assert "consent" in assert_error(refused, 400, "consent_required")
    _nothing_stored(api)


def test_attested_consent_is_stored_with_the_voice(api: Api) -> None:
    voice = create_voice(api, "mine").json()

    evidence = api.client.get(f"/v1/voices/{voice['id']}/consent", headers=api.alice).json()
    assert evidence["mode"] == "attest"
    assert evidence["statement_version"] == ATTEST_VERSION
    assert evidence["statement"] == ATTEST_STATEMENT
    (created,) = _audit(api, "voice.created")
    assert evidence["key_id"] == str(created.actor_key_id)
    assert api.client.get(f"/v1/voices/{voice['id']}/consent", headers=api.bob).status_code == 404
    policy = api.client.get("/v1/consent", headers=api.alice).json()
    assert policy == {
        "mode": "attest",
        "statement_version": ATTEST_VERSION,
        "statement": ATTEST_STATEMENT,
    }


def test_off_mode_needs_nothing_and_says_so(tmp_path: Path, caplog) -> None:
    with caplog.at_level("WARNING"), running_api(tmp_path, consent="off") as api:
        with api.reference.open("rb") as wav:
            created = api.client.post(
                "/v1/voices",
                headers=api.alice,
                data={"name": "mine"},
                files={"files": ("me.wav", wav, "audio/wav")},
            )
        assert created.status_code == 201, created.text
        assert api.client.get("/readyz").json()["modes"]["consent"] == "off"
        voice_id = created.json()["id"]
        evidence = api.client.get(f"/v1/voices/{voice_id}/consent", headers=api.alice).json()
        assert evidence["mode"] == "off"
    assert "CONSENT IS OFF" in caplog.text


# -- spoken ------------------------------------------------------------------------------------


def test_the_code_is_read_from_digits_or_number_words() -> None:
    english = ConsentChallenge(
        language="en", text="I agree. Confirmation code 4 7 1 9.", code="4719"
    )
    korean = ConsentChallenge(language="ko", text="동의합니다. 확인 코드 4 7 1 9.", code="4719")
    assert heard_code(english, "I agree. Confirmation code 4719.") == "4719"
    assert heard_code(english, "I agree, confirmation code for seven one nine") == "4719"
    assert heard_code(korean, "동의합니다 확인 코드 사칠일구") == "4719"
    assert heard_code(korean, "동의합니다. 확인 코드 4, 7, 1, 9") == "4719"
    assert sentence_error(english, "I agree, confirmation code for seven one nine.") == 0.0
    assert sentence_error(korean, "동의합니다 확인 코드 사칠일구") == 0.0
    assert 0 < sentence_error(english, "I agree. Confirmation code 1 2 3 4") <= 0.25
    assert sentence_error(english, "Something else entirely. Code 4719") > 0.5


@pytest.fixture
def spoken(tmp_path: Path, reference_voices) -> Iterator[Api]:
    with running_api(tmp_path, consent="spoken", consent_text_en=HAROLD_SAYS) as api:
        api.reference = reference_voices["harold"]
        yield api


def _challenge(api: Api, language: str = "en") -> dict:
    response = api.client.post(
        "/v1/consent/challenges", headers=api.alice, json={"language": language}
    )
    assert response.status_code == 201, response.text
    return response.json()


def _clone_with_consent(api: Api, challenge_id: str, recording: bytes) -> object:
    with api.reference.open("rb") as sample:
        return api.client.post(
            "/v1/voices",
            headers=api.alice,
            data={"name": "spoken", "consent_challenge": challenge_id},
            files=[
                ("files", ("sample.wav", sample, "audio/wav")),
                ("consent_recording", ("consent.wav", recording, "audio/wav")),
            ],
        )


@pytest.mark.models
def test_spoken_consent_accepted_stored_and_deleted_with_the_voice(spoken: Api) -> None:
    challenge = _challenge(spoken)
    assert challenge["text"] == HAROLD_SAYS  # the configured sentence (no code in it)

    created = _clone_with_consent(spoken, challenge["id"], spoken.reference.read_bytes())

    assert created.status_code == 201, created.text
    voice_id = created.json()["id"]
    evidence = spoken.client.get(f"/v1/voices/{voice_id}/consent", headers=spoken.alice).json()
    assert evidence["mode"] == "spoken" and evidence["challenge_id"] == challenge["id"]
    assert evidence["sentence_cer"] <= 0.25 and "sizzling" in evidence["transcript"].lower()
    assert evidence["speaker_similarity"] >= 0.65
    recording_key = evidence["recording_key"]
    assert recording_key.startswith("consent/alice/")
    store = spoken.client.app.state.store
    assert store.exists(recording_key)
    assert [e.action for e in _audit(spoken, "consent.accepted")] == ["consent.accepted"]

    reused = _clone_with_consent(spoken, challenge["id"], spoken.reference.read_bytes())
    assert "already used" in assert_error(reused, 400, "consent_refused")

    assert spoken.client.delete(f"/v1/voices/{voice_id}", headers=spoken.alice).status_code == 204
    assert not store.exists(recording_key)
    assert store.list_keys("") == []


def _refused(api: Api, challenge_id: str, recording: bytes, test: str) -> str:
    message = assert_error(_clone_with_consent(api, challenge_id, recording), 400)
    assert f"({test} test)" in message, message
    _nothing_stored(api)
    assert any(test in event.detail["reason"] for event in _audit(api, "consent.refused"))
    return message


@pytest.mark.models
def test_spoken_consent_refuses_the_wrong_sentence(spoken: Api, reference_voices) -> None:
    spoken.client.app.state.settings.consent_text_en = DANIEL_SAYS
    challenge = _challenge(spoken)

    message = _refused(spoken, challenge["id"], spoken.reference.read_bytes(), "sentence")
    assert "We heard" in message


@pytest.mark.models
def test_spoken_consent_refuses_another_speaker(spoken: Api, reference_voices) -> None:
    spoken.client.app.state.settings.consent_text_en = DANIEL_SAYS
    challenge = _challenge(spoken)  # daniel reads his sentence; the samples are harold's

    message = _refused(spoken, challenge["id"], reference_voices["daniel"].read_bytes(), "speaker")
    assert "does not sound like" in message


@pytest.mark.models
def test_spoken_consent_refuses_a_recording_the_service_made(spoken: Api) -> None:
    audio, rate = sf.read(spoken.reference, dtype="float32")
    settings = spoken.client.app.state.settings
    marked = mark(audio, rate, settings.watermark_key, 0, settings.watermark_strength_db)
    buffer = io.BytesIO()
    sf.write(buffer, marked, rate, format="WAV")

    message = _refused(spoken, _challenge(spoken)["id"], buffer.getvalue(), "watermark")
    assert "made by this speech service" in message


@pytest.mark.models
def test_spoken_consent_refuses_expired_unknown_and_missing_challenges(spoken: Api) -> None:
    challenge = _challenge(spoken)
    with spoken.client.app.state.session_factory() as session:
        session.execute(update(ConsentChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    recording = spoken.reference.read_bytes()

    assert "expired" in _refused(spoken, challenge["id"], recording, "challenge")
    bobs = spoken.client.post(
        "/v1/consent/challenges", headers=spoken.bob, json={"language": "en"}
    ).json()
    assert "no consent challenge" in _refused(spoken, bobs["id"], recording, "challenge")
    missing = create_voice(spoken, "no fields")
    assert "consent_challenge" in assert_error(missing, 400, "consent_required")


def test_challenge_languages_are_checked(tmp_path: Path) -> None:
    with running_api(tmp_path, consent="spoken") as api:
        korean = _challenge(api, "ko")
        assert korean["text"].startswith("저는") and "확인 코드" in korean["text"]
        code = "".join(ch for ch in korean["text"] if ch.isdigit())
        assert len(code) == 4
        english = _challenge(api, "en")
        assert "Confirmation code" in english["text"]
        wrong = api.client.post(
            "/v1/consent/challenges", headers=api.alice, json={"language": "fr"}
        )
        assert_error(wrong, 422, "invalid_request")


def test_a_consent_recording_that_is_not_audio_is_refused(tmp_path: Path) -> None:
    with running_api(tmp_path, consent="spoken") as api:
        challenge = _challenge(api)
        response = _clone_with_consent(api, challenge["id"], b"not audio at all" * 100)
        assert "Consent recording" in assert_error(response, 400, "invalid_audio")
        _nothing_stored(api)
