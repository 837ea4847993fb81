"""More recordings make a better voice (POST /v1/voices/{id}/samples), and every voice says
how good its recordings are (the ``quality`` object)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soxr
from support.api import Api, assert_error, create_voice, running_api
from support.fakes import real_speech, write_silent_wav, write_speech_wav

from voiceclone.services.voice_quality import (
    FULL_BAND_HZ,
    advise,
    bandwidth_hz,
    estimate_snr_db,
)

RATE = 24_000


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as running:
        yield running


def _add(api: Api, voice_id: str, path: Path, headers=None, **fields: str):
    with path.open("rb") as audio:
        return api.client.post(
            f"/v1/voices/{voice_id}/samples",
            headers=headers or api.alice,
            data={"consent": "true", **fields},
            files={"files": (path.name, audio, "audio/wav")},
        )


def _without_links(voice: dict) -> dict:
    """A voice without its signed links, whose expiry moves with the clock."""
    return {k: v for k, v in voice.items() if k not in ("sample_urls", "preview_url")}


def test_a_new_voice_says_how_good_its_recording_is(api: Api) -> None:
    quality = create_voice(api).json()["quality"]
    assert set(quality) == {"speech_seconds", "snr_db", "similarity", "bandwidth_hz", "advice"}
    assert 3.0 < quality["speech_seconds"] <= 4.5
    assert quality["snr_db"] > 20 and quality["bandwidth_hz"] > FULL_BAND_HZ
    assert quality["similarity"] is None  # the test engine measures none
    assert quality["advice"].startswith("Record 6 s more")


def test_added_recordings_rebuild_the_voice_from_all_of_them(api: Api, tmp_path: Path) -> None:
    created = create_voice(api).json()
    second = write_speech_wav(tmp_path / "second.wav", seconds=6.0, speaker="en_andrew")

    added = _add(api, created["id"], second)

    assert added.status_code == 200, added.text
    voice = added.json()
    assert len(voice["samples"]) == 2 and voice["samples"][0] == created["samples"][0]
    assert voice["sample_seconds"] > created["sample_seconds"] + 5
    assert voice["quality"]["speech_seconds"] > created["quality"]["speech_seconds"] + 4
    assert api.engine.last_sample_count == 2  # the profile was made from both recordings
    fetched = api.client.get(f"/v1/voices/{created['id']}", headers=api.alice).json()
    assert _without_links(fetched) == _without_links(voice)
    events = api.client.get("/v1/admin/audit", headers=api.key("root", admin=True)).json()
    assert "voice.samples_added" in [event["action"] for event in events["events"]]


def test_refused_recordings_change_nothing(api: Api, tmp_path: Path) -> None:
    created = create_voice(api).json()
    voice_id = created["id"]
    silent = write_silent_wav(tmp_path / "silent.wav")
    speech = write_speech_wav(tmp_path / "more.wav")

    assert "silent.wav" in assert_error(_add(api, voice_id, silent), 400, "invalid_audio")
    no_consent = api.client.post(
        f"/v1/voices/{voice_id}/samples",
        headers=api.alice,
        files={"files": ("more.wav", speech.read_bytes(), "audio/wav")},
    )
    assert_error(no_consent, 400, "consent_required")
    missing = api.client.post(f"/v1/voices/{voice_id}/samples", headers=api.alice, data={})
    assert_error(missing, 400, "invalid_upload")
    assert_error(_add(api, voice_id, speech, headers=api.bob), 404, "not_found")
    assert_error(_add(api, "no-such-voice", speech), 404, "not_found")

    after = api.client.get(f"/v1/voices/{voice_id}", headers=api.alice).json()
    assert _without_links(after) == _without_links(created)


def test_a_voice_takes_at_most_twenty_recordings(api: Api, tmp_path: Path) -> None:
    voice_id = create_voice(api).json()["id"]
    speech = write_speech_wav(tmp_path / "more.wav", seconds=1.0)  # counted before checked
    files = [("files", (f"more-{n}.wav", speech.read_bytes(), "audio/wav")) for n in range(20)]
    refused = api.client.post(
        f"/v1/voices/{voice_id}/samples", headers=api.alice, data={"consent": "true"}, files=files
    )
    assert "at most 20 recordings" in assert_error(refused, 400, "too_many_recordings")


def test_the_band_of_a_phone_call_is_told_from_a_full_recording() -> None:
    full = real_speech(5.0, rate=RATE)
    phone = soxr.resample(soxr.resample(full, RATE, 8_000), 8_000, RATE)
    assert bandwidth_hz(full, RATE) > FULL_BAND_HZ > bandwidth_hz(phone, RATE)


@pytest.mark.parametrize("speaker", ["de_Friedrich", "de_PeWaOt"])
def test_three_clean_seconds_of_a_low_voice_are_full_band(speaker: str) -> None:
    # Nearly all of these clips' energy lies below a phone line's edge; their highs are there.
    clean = real_speech(3.0, rate=RATE, speaker=speaker)
    phone = soxr.resample(soxr.resample(clean, RATE, 8_000), 8_000, RATE)
    assert bandwidth_hz(clean, RATE) > 10_000
    assert bandwidth_hz(phone, RATE) < 4_200


def test_noise_lowers_the_estimated_snr() -> None:
    speech = real_speech(5.0, rate=RATE)
    noise = np.random.default_rng(0).normal(0, 0.05 * np.std(speech), len(speech))
    assert estimate_snr_db(speech + noise.astype(np.float32), RATE) < estimate_snr_db(speech, RATE)


@pytest.mark.parametrize(
    ("speech", "snr", "similarity", "band", "expected"),
    [
        (4.2, 40, 0.9, 9000, "Record 6 s more for a closer voice."),
        (4.2, 12, 0.9, 9000, "Record 6 s more in a quiet room for a closer voice."),
        (12.0, 12, 0.9, 9000, "Record again in a quieter room: background noise comes through."),
        (12.0, 40, 0.6, 9000, "Add another recording of the same speaker for a closer voice."),
        (12.0, 40, 0.9, 9000, "Good recording: nothing to improve."),
        (12.0, 40, 0.9, 3400, "This recording sounds like a phone call"),
    ],
)
def test_advice_names_what_would_help_most(speech, snr, similarity, band, expected) -> None:
    assert advise(speech, snr, similarity, band).startswith(expected)
