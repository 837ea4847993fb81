"""The service layer the API calls: keys, voices and job submission, owner by owner.

Every test runs on SQLite and on Postgres (the ``database_url`` fixture).
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.fakes import (
    ATTESTED,
    FAKE_STOCK_VOICE,
    FakeEngine,
    RecordingQueue,
    write_silent_wav,
    write_speech_wav,
)

from voiceclone.db import ApiKey, Job, JobStatus, Voice
from voiceclone.errors import (
    Conflict,
    InvalidAudio,
    InvalidRequest,
    InvalidText,
    NotFound,
    UnsupportedFormat,
    VoiceCloneError,
)
from voiceclone.services import api_keys as keys
from voiceclone.services import audit, jobs, voices
from voiceclone.settings import get_settings
from voiceclone.storage.base import ObjectStore

SAMPLE_KEY = re.compile(
    r"voices/alice/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"
)


@pytest.fixture
def reference_wav(tmp_path: Path) -> Path:
    return write_speech_wav(tmp_path / "my voice.wav")


@pytest.fixture
def alice_voice(
    session: Session, local_store: ObjectStore, fake_engine: FakeEngine, reference_wav: Path
) -> voices.VoiceInfo:
    return voices.create_voice(
        session, local_store, fake_engine, "alice", "Alice", [reference_wav], "en", consent=ATTESTED
    )


# --- API keys ---------------------------------------------------------------------------


def test_key_is_stored_hashed_and_authenticates_its_owner(session: Session) -> None:
    token = keys.create_api_key(session, "alice", "laptop")

    stored = session.scalars(select(ApiKey)).one()
    assert token.startswith("vc_") and len(token) > 40
    assert stored.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.key_hash, stored.prefix, stored.name)
    assert stored.prefix == token[:8]
    caller = keys.authenticate(session, token)
    assert caller is not None and (caller.owner, caller.key_id) == ("alice", str(stored.id))
    assert not caller.is_admin


@pytest.mark.parametrize("wrong", ["", None, "vc_not-a-key", "x" * 5000])
def test_wrong_tokens_authenticate_nobody(session: Session, wrong: str | None) -> None:
    token = keys.create_api_key(session, "alice")

    assert keys.authenticate(session, wrong) is None
    assert keys.authenticate(session, token[:-1]) is None
    assert keys.authenticate(session, token.upper()) is None


def test_authenticate_records_last_use(session: Session) -> None:
    token = keys.create_api_key(session, "alice")

    keys.authenticate(session, token)

    assert session.scalars(select(ApiKey)).one().last_used_at is not None


def test_revoked_key_stops_working_and_only_its_owner_can_revoke(session: Session) -> None:
    token = keys.create_api_key(session, "alice")
    key_id = keys.list_api_keys(session, "alice")[0].id

    with pytest.raises(NotFound):
        keys.revoke(session, "bob", key_id)
    assert keys.authenticate(session, token).owner == "alice"

    keys.revoke(session, "alice", key_id)
    assert keys.authenticate(session, token) is None
    assert not keys.any_api_key_exists(session)
    actions = [entry.action for entry in audit.entries(session, "alice")]
    assert actions == ["key.revoked", "key.created"]


@pytest.mark.parametrize("owner", ["", "Alice", "al/ice", "../x", "a" * 64, "-alice"])
def test_invalid_owner_names_are_refused(session: Session, owner: str) -> None:
    with pytest.raises(InvalidRequest):
        keys.create_api_key(session, owner)
    assert not keys.any_api_key_exists(session)


def test_cli_keys_create_prints_a_working_key(
    database_url: str, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from voiceclone.cli import app

    monkeypatch.setenv("VOICECLONE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        limits = ["--rpm", "5", "--streams", "0", "--admin"]
        result = CliRunner().invoke(app, ["keys", "create", "--owner", "carol", *limits])
        refused = CliRunner().invoke(app, ["keys", "create", "--owner", "Not Valid"])
        negative = CliRunner().invoke(app, ["keys", "create", "--owner", "dave", "--rpm", "-1"])
        listed = CliRunner().invoke(app, ["keys", "list"])
    finally:
        get_settings.cache_clear()

    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    caller = keys.authenticate(session, token)
    assert caller is not None and caller.owner == "carol" and caller.is_admin
    assert (caller.limits.requests_per_minute, caller.limits.max_streams) == (5, 0)
    assert caller.limits.chars_per_day is None  # the server's default
    assert refused.exit_code != 0 and negative.exit_code == 2
    assert "cannot be negative" in negative.output
    assert [key.owner for key in session.scalars(select(ApiKey))] == ["carol"]
    assert "carol" in listed.stdout and "admin" in listed.stdout


# --- voices -----------------------------------------------------------------------------


def test_create_voice_stores_the_upload_and_the_profile(
    session: Session,
    local_store: ObjectStore,
    fake_engine: FakeEngine,
    reference_wav: Path,
    alice_voice: voices.VoiceInfo,
) -> None:
    (key,) = alice_voice.sample_keys
    assert SAMPLE_KEY.fullmatch(key.removesuffix(".wav")) and key.endswith(".wav")
    assert b"".join(local_store.iter_range(key)) == reference_wav.read_bytes()
    assert local_store.list_keys("voices") == [key]
    assert alice_voice.name == "Alice"
    assert alice_voice.language == "en-us"
    assert alice_voice.method == "fake-clone"
    assert 4.0 <= alice_voice.sample_seconds <= 4.6

    profile = voices.resolve_voice(session, fake_engine, "alice", alice_voice.id)
    expected = fake_engine.create_voice([object()], ["en-us"])  # type: ignore[list-item]
    assert np.array_equal(profile.style, expected.style)


def test_voice_from_several_files_keeps_their_names_extensions(
    session: Session, local_store: ObjectStore, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    first = write_speech_wav(tmp_path / "one.WAV")
    second = write_speech_wav(tmp_path / "upload-tmp-123")

    info = voices.create_voice(
        session,
        local_store,
        fake_engine,
        "alice",
        "Pooled",
        [first, (second, "take two.wav")],
        None,
        consent=ATTESTED,
    )

    assert [key.rsplit(".", 1)[1] for key in info.sample_keys] == ["wav", "wav"]
    assert sorted(local_store.list_keys("voices/alice")) == sorted(info.sample_keys)
    assert info.language is None


@pytest.mark.parametrize("bad", ["silent", "not_audio", "too_short", "second_bad"])
def test_rejected_audio_stores_nothing(
    session: Session,
    local_store: ObjectStore,
    fake_engine: FakeEngine,
    tmp_path: Path,
    reference_wav: Path,
    bad: str,
) -> None:
    files: list[Path] = {
        "silent": [write_silent_wav(tmp_path / "silent.wav")],
        "not_audio": [_write(tmp_path / "notes.wav", b"this is not audio at all" * 100)],
        "too_short": [write_speech_wav(tmp_path / "short.wav", seconds=1.5)],
        "second_bad": [reference_wav, write_silent_wav(tmp_path / "quiet.wav")],
    }[bad]

    with pytest.raises(InvalidAudio) as raised:
        voices.create_voice(
            session, local_store, fake_engine, "alice", "Nope", files, None, consent=ATTESTED
        )

    assert files[-1].name in raised.value.message
    assert local_store.list_keys("") == []
    assert voices.list_voices(session, "alice") == []


def test_create_voice_validates_name_and_language_before_storing(
    session: Session, local_store: ObjectStore, fake_engine: FakeEngine, reference_wav: Path
) -> None:
    with pytest.raises(InvalidRequest):
        voices.create_voice(
            session, local_store, fake_engine, "alice", "  ", [reference_wav], consent=ATTESTED
        )
    with pytest.raises(InvalidText):
        voices.create_voice(
            session,
            local_store,
            fake_engine,
            "alice",
            "A",
            [reference_wav],
            "klingon",
            consent=ATTESTED,
        )
    with pytest.raises(InvalidAudio):
        voices.create_voice(session, local_store, fake_engine, "alice", "A", [], consent=ATTESTED)

    assert local_store.list_keys("") == []
    assert session.scalars(select(Voice)).all() == []


def test_list_rename_and_delete(
    session: Session, local_store: ObjectStore, alice_voice: voices.VoiceInfo
) -> None:
    renamed = voices.rename_voice(session, "alice", alice_voice.id, "  Alice (studio) ")

    assert renamed.name == "Alice (studio)"
    assert [v.name for v in voices.list_voices(session, "alice")] == ["Alice (studio)"]

    voices.delete_voice(session, local_store, "alice", alice_voice.id)

    assert voices.list_voices(session, "alice") == []
    assert local_store.list_keys("voices") == []
    with pytest.raises(NotFound):
        voices.get_voice(session, "alice", alice_voice.id)


def test_other_owners_cannot_touch_a_voice(
    session: Session,
    local_store: ObjectStore,
    fake_engine: FakeEngine,
    alice_voice: voices.VoiceInfo,
) -> None:
    (sample_key,) = alice_voice.sample_keys
    attempts = [
        lambda: voices.get_voice(session, "bob", alice_voice.id),
        lambda: voices.rename_voice(session, "bob", alice_voice.id, "Mine now"),
        lambda: voices.delete_voice(session, local_store, "bob", alice_voice.id),
        lambda: voices.resolve_voice(session, fake_engine, "bob", alice_voice.id),
        lambda: voices.resolve_voice(session, fake_engine, "bob", "Alice"),
        lambda: voices.resolve_voice(session, fake_engine, "bob", sample_key),
        lambda: voices.resolve_voice(
            session, fake_engine, "bob", sample_key.replace("/alice/", "/bob/../alice/")
        ),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            attempt()

    assert voices.list_voices(session, "bob") == []
    assert voices.get_voice(session, "alice", alice_voice.id).name == "Alice"
    assert local_store.list_keys("voices") == [sample_key]


@pytest.mark.parametrize("voice_id", ["", "not-a-uuid", "../../etc", str(uuid.uuid4())])
def test_unknown_or_malformed_voice_ids_are_not_found(session: Session, voice_id: str) -> None:
    with pytest.raises(NotFound):
        voices.get_voice(session, "alice", voice_id)


def test_resolve_voice_by_id_name_sample_key_and_stock_name(
    session: Session,
    local_store: ObjectStore,
    fake_engine: FakeEngine,
    reference_wav: Path,
    alice_voice: voices.VoiceInfo,
) -> None:
    newer = voices.create_voice(
        session,
        local_store,
        fake_engine,
        "alice",
        "Alice",
        [reference_wav, reference_wav],
        consent=ATTESTED,
    )
    (sample_key,) = alice_voice.sample_keys

    def found(ref: str) -> voices.ResolvedVoice:
        return voices.find_voice(session, fake_engine, "alice", ref)

    assert found(alice_voice.id).voice_id == alice_voice.id
    assert found("Alice").voice_id == newer.id  # names may repeat: newest wins
    assert found(sample_key).voice_id == alice_voice.id
    assert found(sample_key.replace("/", "%2F")).voice_id == alice_voice.id
    assert found(FAKE_STOCK_VOICE).stock_name == FAKE_STOCK_VOICE
    with pytest.raises(NotFound, match="nobody_voice"):
        found("nobody_voice")


def test_preview_text_follows_the_language() -> None:
    assert voices.preview_text(None).startswith("Hello")
    assert voices.preview_text("ko").startswith("안녕")
    with pytest.raises(InvalidText):
        voices.preview_text("klingon")


# --- jobs -------------------------------------------------------------------------------


def test_submit_job_records_a_queued_job_and_hands_it_to_the_queue(
    session: Session, fake_engine: FakeEngine, alice_voice: voices.VoiceInfo
) -> None:
    queue = RecordingQueue()

    info = jobs.submit_job(
        session, queue, fake_engine, "alice", "Hello there.", "Alice", "en", "MP3", 1.5
    )

    assert queue.submitted == [info.id]
    assert info.status == JobStatus.QUEUED
    assert info.voice_id == alice_voice.id
    assert (info.format, info.language, info.speed) == ("mp3", "en-us", 1.5)
    assert info.result_key == f"results/alice/{info.id}.mp3"
    assert jobs.get_job(session, "alice", info.id) == info


def test_submit_job_with_a_stock_voice(session: Session, fake_engine: FakeEngine) -> None:
    info = jobs.submit_job(session, RecordingQueue(), fake_engine, "alice", "Hi.", FAKE_STOCK_VOICE)

    assert info.voice_id is None
    assert info.voice_ref == FAKE_STOCK_VOICE


def _too_long() -> str:
    return "a" * (get_settings().max_job_chars + 1)


@pytest.mark.parametrize(
    ("text", "voice", "language", "fmt", "speed", "error", "code"),
    [
        (None, FAKE_STOCK_VOICE, None, "wav", 1.0, InvalidText, "text_too_long"),  # None: long
        ("", FAKE_STOCK_VOICE, None, "wav", 1.0, InvalidText, "empty_text"),
        ("  \n ", FAKE_STOCK_VOICE, None, "wav", 1.0, InvalidText, "empty_text"),
        ("Hi.", FAKE_STOCK_VOICE, None, "wma", 1.0, UnsupportedFormat, "unsupported_format"),
        ("Hi.", FAKE_STOCK_VOICE, None, "wav", 0.1, InvalidRequest, "invalid_speed"),
        ("Hi.", FAKE_STOCK_VOICE, None, "wav", 4.5, InvalidRequest, "invalid_speed"),
        ("Hi.", FAKE_STOCK_VOICE, None, "wav", math.nan, InvalidRequest, "invalid_speed"),
        ("Hi.", "nobody_voice", None, "wav", 1.0, NotFound, "not_found"),
        ("Hi.", "voices/bob/a.wav", None, "wav", 1.0, NotFound, "not_found"),
        ("Hi.", FAKE_STOCK_VOICE, "klingon", "wav", 1.0, InvalidText, "unsupported_language"),
    ],
)
def test_invalid_jobs_are_refused_before_anything_is_stored(
    session: Session,
    fake_engine: FakeEngine,
    text: str | None,
    voice: str,
    language: str | None,
    fmt: str,
    speed: float,
    error: type[VoiceCloneError],
    code: str,
) -> None:
    queue = RecordingQueue()
    text = _too_long() if text is None else text

    with pytest.raises(error) as raised:
        jobs.submit_job(session, queue, fake_engine, "alice", text, voice, language, fmt, speed)

    assert raised.value.code == code
    assert 400 <= raised.value.status < 500
    assert raised.value.message
    assert queue.submitted == []
    assert session.scalars(select(Job)).all() == []


def test_max_length_text_is_accepted(session: Session, fake_engine: FakeEngine) -> None:
    text = "a" * get_settings().max_job_chars

    info = jobs.submit_job(session, RecordingQueue(), fake_engine, "alice", text, "fake_voice")

    assert info.text_chars == len(text)


def test_a_job_shows_the_start_of_its_text(session: Session, fake_engine: FakeEngine) -> None:
    short = jobs.submit_job(
        session, RecordingQueue(), fake_engine, "alice", "Hi\nthere.", "fake_voice"
    )
    text = "The little boat drifted slowly toward the island as the sun went down. " * 3

    info = jobs.submit_job(session, RecordingQueue(), fake_engine, "alice", text, "fake_voice")

    assert short.text_start == "Hi there."
    assert info.text_start.endswith("…") and len(info.text_start) <= jobs.TEXT_START_CHARS
    assert text.startswith(info.text_start.removesuffix("…"))
    assert not info.text_start.removesuffix("…").endswith(" ")


def test_other_owners_cannot_see_cancel_or_fetch_a_job(
    session: Session, local_store: ObjectStore, fake_engine: FakeEngine
) -> None:
    info = jobs.submit_job(session, RecordingQueue(), fake_engine, "alice", "Hi.", "fake_voice")

    for attempt in (
        lambda: jobs.get_job(session, "bob", info.id),
        lambda: jobs.cancel_job(session, "bob", info.id),
        lambda: jobs.job_result(session, local_store, "bob", info.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert jobs.get_job(session, "alice", info.id).status == JobStatus.QUEUED


def test_cancel_and_result_follow_the_job_state(
    session: Session, local_store: ObjectStore, fake_engine: FakeEngine
) -> None:
    queue = RecordingQueue()
    pending = jobs.submit_job(session, queue, fake_engine, "alice", "Hi.", "fake_voice")

    with pytest.raises(Conflict):
        jobs.job_result(session, local_store, "alice", pending.id)

    cancelled = jobs.cancel_job(session, "alice", pending.id)
    assert cancelled.status == JobStatus.CANCELLED
    assert cancelled.finished_at is not None
    assert jobs.cancel_job(session, "alice", pending.id).status == JobStatus.CANCELLED
    with pytest.raises(NotFound, match="cancelled"):
        jobs.job_result(session, local_store, "alice", pending.id)

    done = jobs.submit_job(session, queue, fake_engine, "alice", "Hi.", "fake_voice")
    session.get(Job, uuid.UUID(done.id)).status = JobStatus.SUCCEEDED  # type: ignore[union-attr]
    session.commit()
    local_store.put_bytes(done.result_key or "", b"RIFF....WAVE")
    with pytest.raises(Conflict):
        jobs.cancel_job(session, "alice", done.id)
    assert jobs.job_result(session, local_store, "alice", done.id) == (
        done.result_key,
        12,
        "audio/wav",
    )


@pytest.mark.parametrize("job_id", ["", "nope", "../x", str(uuid.uuid4())])
def test_unknown_job_ids_are_not_found(session: Session, job_id: str) -> None:
    with pytest.raises(NotFound):
        jobs.get_job(session, "alice", job_id)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
