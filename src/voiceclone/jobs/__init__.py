"""Running synthesis jobs: the durable ``jobs`` table is the truth, queues only execute."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from voiceclone.engines.base import Engine
from voiceclone.jobs.base import JobQueue
from voiceclone.jobs.local import LocalJobQueue
from voiceclone.jobs.runner import run_job
from voiceclone.settings import Settings
from voiceclone.storage.base import ObjectStore

__all__ = ["JobQueue", "LocalJobQueue", "open_queue", "run_job"]


def open_queue(
    settings: Settings,
    session_factory: sessionmaker[Session],
    store: ObjectStore,
    engine: Engine,
    engines: Mapping[str, Engine] | None = None,
) -> JobQueue:
    """The embedded worker pool (running jobs with ``engine``, the default, or the one of
    ``engines`` a job names), or Celery when ``settings.queue_url`` names a broker."""
    if not settings.queue_url:
        return LocalJobQueue(
            session_factory, store, engine, settings.worker_threads, settings, engines
        )
    from voiceclone.jobs.celery_queue import CeleryJobQueue, celery_app

    return CeleryJobQueue(celery_app(settings), settings)
