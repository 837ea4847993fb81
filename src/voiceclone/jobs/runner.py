"""Run one job: synthesize chunk by chunk into a temp file, then store it atomically.

Every state change is a conditional UPDATE on the job row, so a job the API cancelled
meanwhile is never flipped back, and a re-run (after a crash) writes the same result key.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.audio.chunk import AudioChunk, WordTiming
from voiceclone.audio.encode import Tags, encode_chunks, finish_wav, output_format
from voiceclone.db.models import UNFINISHED_STATUSES, Job, JobStatus, utcnow
from voiceclone.db.retry import retried_while_transient
from voiceclone.db.session import rows_changed, session_scope
from voiceclone.engines.base import Engine, VoiceProfile
from voiceclone.errors import NotFound, VoiceCloneError
from voiceclone.logs import add_to_context, log_context
from voiceclone.safety.marks import JOB_KIND, job_subject, provenance_tags
from voiceclone.scratch import scratch_folder
from voiceclone.services.pipeline import SpeechPipeline, SpeechRequest
from voiceclone.services.voices import find_voice, voice_profile
from voiceclone.settings import get_settings
from voiceclone.storage.base import ObjectStore
from voiceclone.storage.layout import captions_key, result_key
from voiceclone.text.captions import words_json
from voiceclone.text.words import collect_word_timings
from voiceclone.tracing import span

log = logging.getLogger(__name__)

INTERNAL_ERROR_CODE = "internal_error"
INTERNAL_ERROR_MESSAGE = "Synthesis failed unexpectedly; the server log has the details."
MAX_PROGRESS_BEFORE_DONE = 0.99

SessionFactory = sessionmaker[Session]


class _Interrupted(Exception):
    """The job was cancelled, or the queue is shutting down; stop between chunks."""


@dataclass(frozen=True)
class _ClaimedJob:
    id: uuid.UUID
    owner: str
    voice_id: uuid.UUID | None
    voice_ref: str
    text: str
    language: str | None
    format: str
    speed: float
    engine: str | None
    result_key: str
    attempts: int


@dataclass(frozen=True)
class _Rendered:
    path: Path
    size: int
    duration_seconds: float


def run_job(
    job_id: str,
    session_factory: SessionFactory,
    store: ObjectStore,
    pipeline: SpeechPipeline,
    *,
    should_cancel: Callable[[], bool] | None = None,
) -> str | None:
    """Run the job to a final state and return it (None if it was not runnable).

    The job speaks with the engine it names among the pipeline's (jobs that name none use
    its default). ``should_cancel`` is polled between chunks (e.g. queue shutdown): if it
    turns true the job is left 'running' and resumes from scratch at the next start.
    """
    with log_context(job_id=str(job_id)), span("voiceclone.job", job_id=str(job_id)):
        started = time.monotonic()
        status = _run(job_id, session_factory, store, pipeline, should_cancel or _never)
        if status is not None:
            log.info("job %s: %s in %.1f s", job_id, status, time.monotonic() - started)
        return status


def _run(
    job_id: str,
    session_factory: SessionFactory,
    store: ObjectStore,
    pipeline: SpeechPipeline,
    should_cancel: Callable[[], bool],
) -> str | None:
    job = _claim(session_factory, uuid.UUID(str(job_id)))
    if job is None:
        return None
    add_to_context(owner=job.owner)
    log.info("job %s started (attempt %d)", job.id, job.attempts)
    if job.attempts > pipeline.settings.max_job_attempts:
        _finish(session_factory, job.id, JobStatus.FAILED, error=_too_many_attempts(job))
        return JobStatus.FAILED
    if job.engine and job.engine not in pipeline.engines:
        error = _engine_not_held(job, pipeline.engines)
        _finish(session_factory, job.id, JobStatus.FAILED, error=error)
        return JobStatus.FAILED
    try:
        return _run_claimed(job, session_factory, store, pipeline, should_cancel)
    except _Interrupted:
        return _status_of(session_factory, job.id)
    except VoiceCloneError as error:
        _finish(session_factory, job.id, JobStatus.FAILED, error=(error.code, error.message))
        return JobStatus.FAILED
    except Exception:
        log.exception("job %s failed", job.id)
        internal = (INTERNAL_ERROR_CODE, INTERNAL_ERROR_MESSAGE)
        _finish(session_factory, job.id, JobStatus.FAILED, error=internal)
        return JobStatus.FAILED


def _never() -> bool:
    return False


def _too_many_attempts(job: _ClaimedJob) -> tuple[str, str]:
    return (
        "too_many_attempts",
        f"The job was interrupted {job.attempts - 1} times and was given up.",
    )


def _engine_not_held(job: _ClaimedJob, held: Mapping[str, Engine]) -> tuple[str, str]:
    return (
        "engine_unavailable",
        f"The job asks for the {job.engine!r} engine, which the process that took it does "
        f"not hold ({', '.join(held)}).",
    )


def _run_claimed(
    job: _ClaimedJob,
    session_factory: SessionFactory,
    store: ObjectStore,
    pipeline: SpeechPipeline,
    should_cancel: Callable[[], bool],
) -> str:
    engine = pipeline.engine(job.engine)
    progress = _ProgressTracker(session_factory, job, should_cancel)
    request = SpeechRequest(
        text=job.text,
        voice=_load_profile(session_factory, engine, job, store),
        engine=engine.name,
        language=job.language,
        format=job.format,
        speed=job.speed,
        live=False,
        route=JOB_KIND,
        subject=job_subject(job.id),
    )
    chunks = pipeline.speak(request)
    words: list[WordTiming] = []
    rendered = _render_to_temp_file(
        collect_word_timings(progress.track(chunks), words.extend),
        job.format,
        engine.sample_rate,
        provenance_tags(request.subject),
        scratch_folder(pipeline.settings),
    )
    words_key = captions_key(job.owner, job.id)
    try:
        progress.check_not_interrupted()
        with span("voiceclone.storage.put", bytes=rendered.size):
            store.put_file(job.result_key, rendered.path, output_format(job.format).content_type)
        captions = words_json(words, round(rendered.duration_seconds, 3))
        store.put_bytes(words_key, captions.encode(), "application/json")
    finally:
        rendered.path.unlink(missing_ok=True)
    if not _finish(session_factory, job.id, JobStatus.SUCCEEDED, rendered=rendered):
        store.delete(job.result_key)  # cancelled while uploading: keep nothing
        store.delete(words_key)
        return _status_of(session_factory, job.id) or JobStatus.CANCELLED
    return JobStatus.SUCCEEDED


# -- state changes ------------------------------------------------------------------------


@retried_while_transient
def _claim(session_factory: SessionFactory, job_id: uuid.UUID) -> _ClaimedJob | None:
    """Mark an unfinished job running (attempts + 1) and snapshot what it needs."""
    now = utcnow()
    with session_scope(session_factory) as session:
        claimed = rows_changed(
            session,
            update(Job)
            .where(Job.id == job_id, Job.status.in_(UNFINISHED_STATUSES))
            .values(
                status=JobStatus.RUNNING,
                attempts=Job.attempts + 1,
                progress=0.0,
                started_at=now,
                updated_at=now,
                finished_at=None,
                error_code=None,
                error_message=None,
            ),
        )
        if claimed == 0:
            return None
        job = session.execute(select(Job).where(Job.id == job_id)).scalar_one()
        return _ClaimedJob(
            id=job.id,
            owner=job.owner,
            voice_id=job.voice_id,
            voice_ref=job.voice_ref,
            text=job.text,
            language=job.language,
            format=job.format,
            speed=job.speed,
            engine=job.engine,
            result_key=job.result_key
            or result_key(job.owner, job.id, output_format(job.format).extension),
            attempts=job.attempts,
        )


@retried_while_transient
def _finish(
    session_factory: SessionFactory,
    job_id: uuid.UUID,
    status: JobStatus,
    *,
    rendered: _Rendered | None = None,
    error: tuple[str, str] | None = None,
) -> bool:
    """Move a running job to ``status``; False if it is no longer running (cancelled)."""
    now = utcnow()
    values: dict[str, Any] = {"status": status, "finished_at": now, "updated_at": now}
    if rendered is not None:
        values |= {
            "progress": 1.0,
            "result_bytes": rendered.size,
            "duration_seconds": round(rendered.duration_seconds, 3),
        }
    if error is not None:
        values |= {"error_code": error[0], "error_message": error[1]}
    with session_scope(session_factory) as session:
        changed = rows_changed(
            session,
            update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING).values(**values),
        )
        return changed > 0


@retried_while_transient
def _status_of(session_factory: SessionFactory, job_id: uuid.UUID) -> str | None:
    with session_scope(session_factory) as session:
        return session.scalar(select(Job.status).where(Job.id == job_id))


# -- synthesis ----------------------------------------------------------------------------


@retried_while_transient
def _load_profile(
    session_factory: SessionFactory, engine: Engine, job: _ClaimedJob, store: ObjectStore
) -> VoiceProfile:
    with session_scope(session_factory) as session:
        if job.voice_id is None:
            return find_voice(session, engine, job.owner, job.voice_ref, store).profile
        try:
            return voice_profile(session, engine, job.owner, str(job.voice_id), store)
        except NotFound:
            raise NotFound(
                f"The voice {job.voice_ref!r} was deleted before the job could run."
            ) from None


class _ProgressTracker:
    """Counts text spoken, writes progress now and then, and stops on cancellation."""

    def __init__(
        self, session_factory: SessionFactory, job: _ClaimedJob, should_cancel: Callable[[], bool]
    ) -> None:
        self._session_factory = session_factory
        self._job = job
        self._should_cancel = should_cancel
        self._total_chars = max(len(job.text), 1)
        self._interval = get_settings().job_progress_interval_seconds
        self._chars_done = 0
        self._last_write = time.monotonic()

    def track(self, chunks: Iterator[AudioChunk]) -> Iterator[AudioChunk]:
        for chunk in chunks:
            self._chars_done += len(chunk.text)
            yield chunk
            self.check_not_interrupted()

    def check_not_interrupted(self) -> None:
        """Raise _Interrupted if the job was cancelled or the queue is stopping."""
        if self._should_cancel():
            raise _Interrupted
        if time.monotonic() - self._last_write >= self._interval:
            still_running = self._write_progress()
            self._last_write = time.monotonic()
        else:
            still_running = self._is_running()
        if not still_running:
            raise _Interrupted

    def _progress(self) -> float:
        return min(self._chars_done / self._total_chars, MAX_PROGRESS_BEFORE_DONE)

    @retried_while_transient
    def _write_progress(self) -> bool:
        with session_scope(self._session_factory) as session:
            changed = rows_changed(
                session,
                update(Job)
                .where(Job.id == self._job.id, Job.status == JobStatus.RUNNING)
                .values(progress=self._progress(), updated_at=utcnow()),
            )
            return changed > 0

    def _is_running(self) -> bool:
        return _status_of(self._session_factory, self._job.id) == JobStatus.RUNNING


def _render_to_temp_file(
    chunks: Iterator[AudioChunk], fmt: str, sample_rate: int, tags: Tags, folder: Path
) -> _Rendered:
    """Encode the chunks into a temp file in ``folder`` as they come; never the whole audio
    in memory."""
    suffix = "." + output_format(fmt).extension
    handle, name = tempfile.mkstemp(prefix="job-", suffix=suffix, dir=folder)
    path = Path(name)
    samples = 0

    def counted() -> Iterator[AudioChunk]:
        nonlocal samples
        for chunk in chunks:
            samples += len(chunk.samples)
            yield chunk

    try:
        with os.fdopen(handle, "w+b") as sink:
            for data in encode_chunks(counted(), fmt, sample_rate=sample_rate, tags=tags):
                sink.write(data)
            if output_format(fmt).name == "wav":
                finish_wav(sink)  # the real sizes, so players can seek
            size = sink.seek(0, os.SEEK_END)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _Rendered(path=path, size=size, duration_seconds=samples / sample_rate)
