"""Synthesis jobs: validated and recorded here, run by a job queue, read back by owner."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.audio.encode import output_format
from voiceclone.db.models import UNFINISHED_STATUSES, Job, JobStatus, utcnow
from voiceclone.db.session import rows_changed
from voiceclone.engines.base import Engine
from voiceclone.errors import Conflict, NotFound
from voiceclone.jobs.base import JobQueue
from voiceclone.services.ownership import get_owned
from voiceclone.services.validation import check_speed, check_text
from voiceclone.services.voices import find_voice, own_voice_id
from voiceclone.storage.base import ObjectStore
from voiceclone.storage.layout import captions_key, result_key, validate_owner
from voiceclone.text.captions import CaptionFormat, render, words_from_json
from voiceclone.text.language import resolve_language


@dataclass(frozen=True)
class JobInfo:
    id: str
    owner: str
    status: str
    progress: float
    """0..1: share of the text spoken so far."""
    voice_id: str | None
    voice_ref: str
    language: str | None
    format: str
    speed: float
    engine: str | None
    """None for jobs from before jobs named their engine."""
    text_chars: int
    text_start: str
    """The first words of the text, for lists."""
    attempts: int
    error_code: str | None
    error_message: str | None
    result_key: str | None
    """Where the result is (or will be) stored; it exists once status is 'succeeded'."""
    result_bytes: int | None
    duration_seconds: float | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    queue_position: int | None = None
    """While queued: 1 if it is the next job for its engine, 2 if one is ahead, ..."""

    @property
    def finished(self) -> bool:
        return self.status not in UNFINISHED_STATUSES

    @property
    def error(self) -> JobFailure | None:
        """Why the job failed (None unless it did)."""
        if not (self.error_code or self.error_message):
            return None
        return JobFailure(self.error_code or "error", self.error_message or "")


class JobFailure(NamedTuple):
    code: str
    message: str


class JobResult(NamedTuple):
    key: str
    size: int
    content_type: str


@dataclass(frozen=True)
class _JobRequest:
    text: str
    language: str | None
    format: str
    speed: float


def submit_job(
    session: Session,
    queue: JobQueue,
    engine: Engine | str,
    owner: str,
    text: str,
    voice_ref: str,
    language: str | None = None,
    fmt: str = "wav",
    speed: float = 1.0,
    *,
    admit: Callable[[], None] | None = None,
    store: ObjectStore | None = None,
) -> JobInfo:
    """Validate everything, record the job as queued (committed), then hand it to ``queue``.

    ``engine`` is the engine the job speaks with: one this process holds, or the name of
    one that only workers elsewhere hold (the voice must then be one of the owner's).
    Too long or empty text, an unknown format, speed or language, or an unknown voice raise
    a 4xx VoiceCloneError before anything is stored. ``admit`` runs once the request is
    valid, before anything is stored (e.g. to charge a quota, which may refuse).
    """
    validate_owner(owner)
    request = _validated_request(text, language, fmt, speed)
    engine_name, voice_id = _checked_voice(session, engine, owner, voice_ref, store)
    if admit is not None:
        admit()
    job_id = uuid.uuid4()
    job = Job(
        id=job_id,
        owner=owner,
        voice_id=uuid.UUID(voice_id) if voice_id else None,
        voice_ref=voice_ref.strip()[:1024],
        text=request.text,
        language=request.language,
        format=request.format,
        speed=request.speed,
        engine=engine_name,
        status=JobStatus.QUEUED,
        progress=0.0,
        attempts=0,
        result_key=result_key(owner, job_id, output_format(request.format).extension),
    )
    session.add(job)
    session.commit()
    queue.submit(str(job_id), engine_name)
    return job_info(job, _queue_position(session, job))


def _checked_voice(
    session: Session, engine: Engine | str, owner: str, voice_ref: str, store: ObjectStore | None
) -> tuple[str, str | None]:
    """The engine's name and the voice id (None: a stock voice), once the voice is known."""
    if isinstance(engine, str):
        return engine, own_voice_id(session, owner, voice_ref, engine)
    return engine.name, find_voice(session, engine, owner, voice_ref, store).voice_id


def _validated_request(text: str, language: str | None, fmt: str, speed: float) -> _JobRequest:
    check_text(text)
    audio_format = output_format(fmt).name
    checked_speed = check_speed(speed)
    code = resolve_language(text, language) if language else None
    return _JobRequest(text=text, language=code, format=audio_format, speed=checked_speed)


def get_job(session: Session, owner: str, job_id: str) -> JobInfo:
    job = _owned_job(session, owner, job_id)
    return job_info(job, _queue_position(session, job))


def _queue_position(session: Session, job: Job) -> int | None:
    """Where a queued job stands among all owners' queued jobs for the same engine, oldest
    first (the order workers take them); None once it has left the queue."""
    if job.status != JobStatus.QUEUED:
        return None
    older = or_(
        Job.created_at < job.created_at,
        and_(Job.created_at == job.created_at, Job.id < job.id),
    )
    ahead = select(func.count()).where(
        Job.status == JobStatus.QUEUED, Job.engine.is_not_distinct_from(job.engine), older
    )
    return 1 + int(session.scalar(ahead) or 0)


def jobs_by_status(session_factory: sessionmaker[Session]) -> dict[str, int]:
    """How many jobs are in each state now (for metrics)."""
    with session_factory() as session:
        rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
    return {status: count for status, count in rows}


def list_jobs(session: Session, owner: str, limit: int = 50, offset: int = 0) -> list[JobInfo]:
    """The owner's jobs, newest first."""
    query = (
        select(Job)
        .where(Job.owner == owner)
        .order_by(Job.created_at.desc(), Job.id)
        .limit(limit)
        .offset(offset)
    )
    return [job_info(job, _queue_position(session, job)) for job in session.scalars(query)]


def delete_job(session: Session, store: ObjectStore, owner: str, job_id: str) -> None:
    """Remove a job's audio and captions, then the job. The objects go first: when the
    store fails, the job is still there to delete again, and nothing is left unreachable.
    A queued or running job is stopped: its runner finds the row gone at its next chunk
    and keeps nothing it made."""
    job = _owned_job(session, owner, job_id)
    if job.result_key:
        store.delete(job.result_key)
    store.delete(captions_key(job.owner, job.id))
    session.delete(job)
    session.commit()


def cancel_job(session: Session, owner: str, job_id: str) -> JobInfo:
    """Cancel a queued or running job (the runner stops at its next chunk).

    Cancelling a cancelled job changes nothing; a succeeded or failed job is a Conflict.
    """
    job = _owned_job(session, owner, job_id)
    now = utcnow()
    cancelled = rows_changed(
        session,
        update(Job)
        .where(Job.id == job.id, Job.status.in_(UNFINISHED_STATUSES))
        .values(status=JobStatus.CANCELLED, finished_at=now, updated_at=now),
    )
    session.commit()
    session.refresh(job)
    if cancelled == 0 and job.status != JobStatus.CANCELLED:
        raise Conflict(f"Job {job_id} has already {job.status}; it cannot be cancelled.")
    return job_info(job)


def job_result(session: Session, store: ObjectStore, owner: str, job_id: str) -> JobResult:
    """Where a finished job's audio is: key, size and content type.

    Conflict while the job is queued or running; NotFound if it failed, was cancelled, or
    its result is gone.
    """
    job = _owned_job(session, owner, job_id)
    if job.status in UNFINISHED_STATUSES:
        raise Conflict(f"Job {job_id} has not finished yet ({job.status}).", code="not_ready")
    if job.status != JobStatus.SUCCEEDED or not job.result_key:
        outcome = "was cancelled" if job.status == JobStatus.CANCELLED else "failed"
        raise NotFound(f"Job {job_id} has no result: it {outcome}.")
    size = store.size(job.result_key)
    return JobResult(
        key=job.result_key, size=size, content_type=output_format(job.format).content_type
    )


def job_captions(
    session: Session, store: ObjectStore, owner: str, job_id: str, fmt: CaptionFormat
) -> str:
    """A finished job's captions in ``fmt`` (vtt, srt or json), from its word timings.

    The same refusals as :func:`job_result`; NotFound also for a job made before jobs
    kept word timings."""
    job_result(session, store, owner, job_id)
    key = captions_key(owner, job_id)
    if not store.exists(key):
        raise NotFound(f"Job {job_id} has no word timings (it ran before captions were kept).")
    words, duration = words_from_json(b"".join(store.iter_range(key)).decode("utf-8"))
    return render(words, fmt, duration)


def _owned_job(session: Session, owner: str, job_id: str) -> Job:
    return get_owned(session, Job, owner, job_id, "job")


#: How much of a job's text lists show.
TEXT_START_CHARS = 80


def text_start(text: str) -> str:
    """The text's first words, cut at a space and marked with an ellipsis when longer."""
    flat = " ".join(text.split())
    if len(flat) <= TEXT_START_CHARS:
        return flat
    cut = flat[: TEXT_START_CHARS - 1]
    if " " in cut[TEXT_START_CHARS // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return f"{cut}…"


def job_info(job: Job, queue_position: int | None = None) -> JobInfo:
    return JobInfo(
        id=str(job.id),
        owner=job.owner,
        status=job.status,
        progress=job.progress,
        voice_id=str(job.voice_id) if job.voice_id else None,
        voice_ref=job.voice_ref,
        language=job.language,
        format=job.format,
        speed=job.speed,
        engine=job.engine,
        text_chars=len(job.text),
        text_start=text_start(job.text),
        attempts=job.attempts,
        error_code=job.error_code,
        error_message=job.error_message,
        result_key=job.result_key,
        result_bytes=job.result_bytes,
        duration_seconds=job.duration_seconds,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        updated_at=job.updated_at,
        queue_position=queue_position,
    )
