"""Running synthesis jobs: the durable ``jobs`` table is the truth, queues only execute."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from voiceclone.jobs.base import JobQueue
from voiceclone.jobs.local import LocalJobQueue
from voiceclone.jobs.runner import run_job
from voiceclone.services.pipeline import SpeechPipeline
from voiceclone.settings import Settings
from voiceclone.storage.base import ObjectStore

__all__ = ["JobQueue", "LocalJobQueue", "open_queue", "run_job"]


def open_queue(
    settings: Settings,
    session_factory: sessionmaker[Session],
    store: ObjectStore,
    pipeline: SpeechPipeline,
) -> JobQueue:
    """The embedded worker pool (running jobs through ``pipeline``), or Celery when
    ``settings.queue_url`` names a broker."""
    if not settings.queue_url:
        return LocalJobQueue(session_factory, store, pipeline, settings.worker_threads)
    from voiceclone.jobs.celery_queue import CeleryJobQueue, celery_app

    return CeleryJobQueue(celery_app(settings), settings)
