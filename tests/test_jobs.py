"""Jobs run to a stored, playable result; cancel mid-run; survive a crash; record failures.

Runs on SQLite and Postgres with the FakeEngine; one test uses the real Kokoro engine.
"""

from __future__ import annotations

import struct
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes import FAKE_SAMPLE_RATE, FAKE_STOCK_VOICE, FakeEngine, RecordingQueue, wait_until
from fakes import read_job as _job
from fakes import submit_fake_job as _submit
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.audio import decode_audio
from voiceclone.db import Job, JobStatus, session_scope
from voiceclone.errors import InvalidText
from voiceclone.jobs import LocalJobQueue, run_job
from voiceclone.services import jobs, voices
from voiceclone.settings import get_settings
from voiceclone.storage.base import ObjectStore

SENTENCE = "The quick brown fox jumps over the lazy dog. "
TIMEOUT = 20.0

StartQueue = Callable[[FakeEngine], LocalJobQueue]


@pytest.fixture(autouse=True)
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Jobs render into temp files; keep them where a test can check they are gone."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


@pytest.fixture
def start_queue(
    session_factory: sessionmaker[Session], local_store: ObjectStore
) -> Iterator[StartQueue]:
    started: list[LocalJobQueue] = []

    def start(engine: FakeEngine) -> LocalJobQueue:
        queue = LocalJobQueue(session_factory, local_store, engine, workers=1)
        queue.start()
        started.append(queue)
        return queue

    yield start
    for queue in started:
        queue.stop()


def _wait_finished(session_factory: sessionmaker[Session], job_id: str) -> jobs.JobInfo:
    wait_until(lambda: _job(session_factory, job_id).finished, timeout=TIMEOUT)
    return _job(session_factory, job_id)


def _decoded_seconds(store: ObjectStore, key: str) -> float:
    audio = decode_audio(b"".join(store.iter_range(key)), FAKE_SAMPLE_RATE)
    return len(audio) / FAKE_SAMPLE_RATE


# --- success ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_job_runs_to_a_playable_result_at_its_key(
    session_factory: sessionmaker[Session],
    local_store: ObjectStore,
    start_queue: StartQueue,
    private_tempdir: Path,
    fmt: str,
) -> None:
    engine = FakeEngine()
    queue = start_queue(engine)
    text = SENTENCE * 4

    submitted = _submit(session_factory, queue, engine, text, fmt)
    done = _wait_finished(session_factory, submitted.id)

    expected_key = f"results/alice/{submitted.id}.{fmt}"
    assert done.status == JobStatus.SUCCEEDED, done.error_message
    assert (done.progress, done.attempts, done.result_key) == (1.0, 1, expected_key)
    assert local_store.list_keys("results/alice") == [expected_key]
    assert done.result_bytes == local_store.size(expected_key)
    assert done.duration_seconds == pytest.approx(engine.expected_seconds(text), abs=0.01)
    assert _decoded_seconds(local_store, expected_key) == pytest.approx(
        engine.expected_seconds(text), abs=0.1
    )
    assert list(private_tempdir.iterdir()) == []
    with session_scope(session_factory) as session:
        result = jobs.job_result(session, local_store, "alice", submitted.id)
    assert result.key == expected_key
    assert result.content_type == ("audio/wav" if fmt == "wav" else "audio/mpeg")


def test_stored_wav_has_real_sizes_in_its_header(
    session_factory: sessionmaker[Session], local_store: ObjectStore, start_queue: StartQueue
) -> None:
    engine = FakeEngine()
    done = _wait_finished(
        session_factory, _submit(session_factory, start_queue(engine), engine, SENTENCE).id
    )

    data = b"".join(local_store.iter_range(done.result_key or ""))
    riff_size, data_size = struct.unpack("<I", data[4:8])[0], struct.unpack("<I", data[40:44])[0]
    assert (riff_size, data_size) == (len(data) - 8, len(data) - 44)


def test_job_with_a_cloned_voice_uses_its_stored_profile(
    session_factory: sessionmaker[Session],
    local_store: ObjectStore,
    start_queue: StartQueue,
    tmp_path: Path,
) -> None:
    from fakes import write_speech_wav

    engine = FakeEngine()
    with session_scope(session_factory) as session:
        voices.create_voice(
            session,
            local_store,
            engine,
            "alice",
            "Mine",
            [write_speech_wav(tmp_path / "ref.wav")],
        )

    done = _wait_finished(
        session_factory,
        _submit(session_factory, start_queue(engine), engine, "Hi.", voice="Mine").id,
    )

    assert done.status == JobStatus.SUCCEEDED


# --- cancellation -----------------------------------------------------------------------


def test_cancelling_a_running_job_stops_synthesis(
    session_factory: sessionmaker[Session],
    local_store: ObjectStore,
    start_queue: StartQueue,
    private_tempdir: Path,
) -> None:
    engine = FakeEngine(chunk_delay=0.05)
    text = SENTENCE * 40  # about 45 chunks: 2+ seconds
    submitted = _submit(session_factory, start_queue(engine), engine, text)
    wait_until(lambda: engine.chunks_made >= 3, timeout=TIMEOUT)

    with session_scope(session_factory) as session:
        jobs.cancel_job(session, "alice", submitted.id)
    done = _wait_finished(session_factory, submitted.id)
    wait_until(lambda: not list(private_tempdir.iterdir()), timeout=TIMEOUT)
    chunks_at_end = engine.chunks_made

    assert done.status == JobStatus.CANCELLED
    assert chunks_at_end < len(engine.pieces(text)) // 2
    assert local_store.list_keys("results") == []


def test_progress_is_reported_while_running(
    session_factory: sessionmaker[Session],
    start_queue: StartQueue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(get_settings(), "job_progress_interval_seconds", 0.0)
    engine = FakeEngine(chunk_delay=0.05)
    text = SENTENCE * 20
    submitted = _submit(session_factory, start_queue(engine), engine, text)

    wait_until(lambda: 0.2 < _job(session_factory, submitted.id).progress < 1.0, timeout=TIMEOUT)
    assert _job(session_factory, submitted.id).status == JobStatus.RUNNING
    assert _wait_finished(session_factory, submitted.id).progress == 1.0


# --- crash recovery ---------------------------------------------------------------------


def _crashed_job(
    session_factory: sessionmaker[Session], status: str, text: str = SENTENCE * 3
) -> str:
    """A job row as a killed server leaves it: 'running' (attempt 1 begun) or 'queued'."""
    job_id = uuid.uuid4()
    now = datetime.now(UTC)
    with session_scope(session_factory) as session:
        session.add(
            Job(
                id=job_id,
                owner="alice",
                voice_ref=FAKE_STOCK_VOICE,
                text=text,
                format="wav",
                speed=1.0,
                status=status,
                progress=0.4 if status == JobStatus.RUNNING else 0.0,
                attempts=1 if status == JobStatus.RUNNING else 0,
                result_key=f"results/alice/{job_id}.wav",
                started_at=now if status == JobStatus.RUNNING else None,
            )
        )
    return str(job_id)


def test_jobs_left_by_a_crash_are_resumed_with_exactly_one_result(
    session_factory: sessionmaker[Session], local_store: ObjectStore, start_queue: StartQueue
) -> None:
    running = _crashed_job(session_factory, JobStatus.RUNNING)
    queued = _crashed_job(session_factory, JobStatus.QUEUED)
    # The crash came after the upload but before the row said so: the object already exists.
    local_store.put_bytes(f"results/alice/{running}.wav", b"result of the first attempt")
    engine = FakeEngine()

    start_queue(engine)
    resumed = _wait_finished(session_factory, running)
    other = _wait_finished(session_factory, queued)

    assert (resumed.status, resumed.attempts) == (JobStatus.SUCCEEDED, 2)
    assert (other.status, other.attempts) == (JobStatus.SUCCEEDED, 1)
    assert local_store.list_keys("results/alice") == sorted(
        [f"results/alice/{running}.wav", f"results/alice/{queued}.wav"]
    )
    assert _decoded_seconds(local_store, f"results/alice/{running}.wav") == pytest.approx(
        engine.expected_seconds(SENTENCE * 3), abs=0.1
    )


def test_stopping_the_queue_mid_job_leaves_it_to_resume(
    session_factory: sessionmaker[Session], local_store: ObjectStore, start_queue: StartQueue
) -> None:
    slow = FakeEngine(chunk_delay=0.05)
    queue = start_queue(slow)
    submitted = _submit(session_factory, queue, slow, SENTENCE * 30)
    wait_until(lambda: slow.chunks_made >= 2, timeout=TIMEOUT)

    queue.stop()
    assert _job(session_factory, submitted.id).status == JobStatus.RUNNING
    assert local_store.list_keys("results") == []

    start_queue(FakeEngine())
    done = _wait_finished(session_factory, submitted.id)
    assert (done.status, done.attempts) == (JobStatus.SUCCEEDED, 2)
    assert local_store.list_keys("results/alice") == [f"results/alice/{submitted.id}.wav"]


def test_a_job_interrupted_too_often_is_failed(
    session_factory: sessionmaker[Session], local_store: ObjectStore
) -> None:
    job_id = _crashed_job(session_factory, JobStatus.RUNNING)
    with session_scope(session_factory) as session:
        session.get(Job, uuid.UUID(job_id)).attempts = get_settings().max_job_attempts  # type: ignore[union-attr]

    status = run_job(job_id, session_factory, local_store, FakeEngine())

    done = _job(session_factory, job_id)
    assert status == done.status == JobStatus.FAILED
    assert done.error_code == "too_many_attempts"


def test_finished_jobs_are_not_run_again(
    session_factory: sessionmaker[Session], local_store: ObjectStore
) -> None:
    engine = FakeEngine()
    with session_scope(session_factory) as session:
        info = jobs.submit_job(session, RecordingQueue(), engine, "alice", "Hi.", FAKE_STOCK_VOICE)

    assert run_job(info.id, session_factory, local_store, engine) == JobStatus.SUCCEEDED
    assert run_job(info.id, session_factory, local_store, engine) is None
    assert engine.synthesize_calls == 1


# --- failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "code", "message"),
    [
        (InvalidText("The engine refused this.", code="engine_refused"), "engine_refused", None),
        (RuntimeError("segfault-ish internals"), "internal_error", "unexpectedly"),
    ],
)
def test_a_failing_job_records_its_error(
    session_factory: sessionmaker[Session],
    local_store: ObjectStore,
    start_queue: StartQueue,
    private_tempdir: Path,
    failure: Exception,
    code: str,
    message: str | None,
) -> None:
    engine = FakeEngine(failure=failure, fail_after_chunks=2)

    done = _wait_finished(
        session_factory, _submit(session_factory, start_queue(engine), engine, SENTENCE * 5).id
    )

    assert done.status == JobStatus.FAILED
    assert done.error_code == code
    assert (message or str(failure)) in (done.error_message or "")
    assert "segfault" not in (done.error_message or "")  # internals stay in the log
    assert done.finished_at is not None
    assert local_store.list_keys("results") == []
    assert list(private_tempdir.iterdir()) == []


def test_a_job_whose_voice_was_deleted_fails_clearly(
    session_factory: sessionmaker[Session], local_store: ObjectStore, tmp_path: Path
) -> None:
    from fakes import write_speech_wav

    engine = FakeEngine()
    with session_scope(session_factory) as session:
        voice = voices.create_voice(
            session,
            local_store,
            engine,
            "alice",
            "Gone",
            [write_speech_wav(tmp_path / "r.wav")],
        )
        info = jobs.submit_job(session, RecordingQueue(), engine, "alice", "Hi.", voice.id)
        voices.delete_voice(session, local_store, "alice", voice.id)

    assert run_job(info.id, session_factory, local_store, engine) == JobStatus.FAILED
    done = _job(session_factory, info.id)
    assert done.error_code == "not_found"
    assert "deleted" in (done.error_message or "")


# --- the real engine --------------------------------------------------------------------


@pytest.mark.models
def test_real_engine_job_produces_speech(
    engine: object, sqlite_database_url: str, local_store: ObjectStore
) -> None:
    from voiceclone.db import make_session_factory

    factory = make_session_factory(sqlite_database_url)
    with session_scope(factory) as session:
        info = jobs.submit_job(
            session, RecordingQueue(), engine, "alice", "Hello from the job queue.", "af_heart"
        )

    assert run_job(info.id, factory, local_store, engine) == JobStatus.SUCCEEDED
    audio = decode_audio(b"".join(local_store.iter_range(info.result_key or "")), 24_000)
    assert 1.0 < len(audio) / 24_000 < 5.0
    assert float(abs(audio).max()) > 0.05
    factory.kw["bind"].dispose()
