"""Scale-out job queue: Celery on RabbitMQ (``amqp://``) or Redis (``redis://``).

API replicas only send job ids to the broker; ``voiceclone worker`` processes (the machines
that own the engine, GPU ones in production) run them with the same runner as the embedded
pool. The ``jobs`` table stays the truth: messages carry nothing but the id. Messages are
acknowledged only after the job finished, so a job whose worker died is delivered again and
resumes like a job after a crash: at once on RabbitMQ, which redelivers when the worker's
connection drops; on Redis only after ``queue_visibility_timeout_seconds``.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from dataclasses import dataclass, field
from typing import TextIO

import celery.apps.worker as celery_worker_app
from celery import Celery
from celery.exceptions import Reject
from celery.signals import setup_logging, worker_shutting_down
from prometheus_client import start_http_server
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.db.models import JobStatus
from voiceclone.jobs.runner import run_job
from voiceclone.logs import json_line
from voiceclone.scratch import remove_dead_scratch
from voiceclone.services.pipeline import SpeechPipeline
from voiceclone.settings import Settings
from voiceclone.storage.base import ObjectStore
from voiceclone.tracing import instrument_celery

log = logging.getLogger(__name__)

TASK_NAME = "voiceclone.run_job"
#: How often an idle Redis worker looks for jobs whose worker vanished (kombu scans every
#: 10th tick of 10 s by default, which adds up to 100 s to the visibility timeout).
UNACKED_SCAN_SECONDS = 10


@dataclass(frozen=True)
class WorkerContext:
    """What a worker process runs jobs with, built once at worker start. ``stopping`` is
    set when the worker is told to stop (SIGTERM): its jobs then hand themselves back."""

    session_factory: sessionmaker[Session]
    store: ObjectStore
    pipeline: SpeechPipeline
    stopping: threading.Event = field(default_factory=threading.Event)


def celery_app(settings: Settings, context: WorkerContext | None = None) -> Celery:
    """The Celery app for ``settings.queue_url``; with ``context`` it can also run jobs."""
    instrument_celery()
    app = Celery("voiceclone", broker=settings.queue_url, set_as_current=False)
    app.conf.update(
        task_default_queue=settings.engine_queue,
        task_ignore_result=True,  # job state lives in the jobs table
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # jobs are long: take one at a time
        broker_connection_retry_on_startup=True,
        broker_transport_options=redis_transport_options(settings.queue_visibility_timeout_seconds),
        worker_hijack_root_logger=False,
    )

    @app.task(name=TASK_NAME, shared=False)
    def run_job_task(job_id: str) -> str | None:
        if context is None:
            raise RuntimeError("This process has no engine: start it with `voiceclone worker`.")
        status = run_job(
            job_id,
            context.session_factory,
            context.store,
            context.pipeline,
            should_cancel=context.stopping.is_set,
        )
        if status == JobStatus.RUNNING and context.stopping.is_set():
            # Stopped between two chunks: back to the broker, which hands it to another
            # worker at once (rather than after the visibility timeout).
            log.info("job %s handed back: this worker is stopping", job_id)
            raise Reject(f"worker stopping; job {job_id} handed back", requeue=True)
        return status

    return app


def redis_transport_options(visibility_timeout_seconds: int) -> dict[str, int]:
    """A vanished worker's job goes to another worker within one scan of the timeout."""
    return {
        "visibility_timeout": visibility_timeout_seconds,
        "unacked_restore_interval": min(UNACKED_SCAN_SECONDS, visibility_timeout_seconds),
        "unacked_restore_throttle": 1,  # every tick scans
    }


class CeleryJobQueue:
    """Sends jobs to the broker, each to its engine's queue. Nothing runs in this process,
    so start/stop do nothing: workers pick up whatever is waiting, and redeliver what a
    dead worker left."""

    def __init__(self, app: Celery, settings: Settings) -> None:
        self._app = app
        self._settings = settings

    def submit(self, job_id: str, engine: str | None = None) -> None:
        queue = self._settings.queue_of(engine or self._settings.engine)
        self._app.send_task(TASK_NAME, args=[str(job_id)], queue=queue)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


def _keep_our_logging(**_: object) -> None:
    """Connected to Celery's setup_logging: Celery then leaves the handlers we set alone."""


def _say_as_record(message: str, stream: TextIO | None = sys.__stderr__) -> None:
    """Celery's signal handlers print notices (``worker: Warm shutdown``) with raw writes;
    this writes them as JSON records instead, still without taking any lock."""
    target = stream or sys.stderr
    os.write(target.fileno(), json_line(message, "celery.worker"))


def run_worker(
    settings: Settings, context: WorkerContext, concurrency: int, log_format: str = "json"
) -> None:
    """Run a Celery worker for ``settings.engine_queue`` until it is told to stop. With
    ``worker_metrics_port`` set, it serves Prometheus metrics there."""
    setup_logging.connect(_keep_our_logging, weak=False)
    worker_shutting_down.connect(lambda **_: context.stopping.set(), weak=False)
    remove_dead_scratch(settings)
    if log_format == "json":
        celery_worker_app.safe_say = _say_as_record
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port)
    app = celery_app(settings, context)
    log.info("worker on queue %r, %d thread(s)", settings.engine_queue, concurrency)
    app.worker_main(
        [
            "--quiet",  # no banner on standard output: every line there is a log record
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency}",
            f"--queues={settings.engine_queue}",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            # A node name of its own: two workers on one host must not share the remote
            # control queue, which RabbitMQ makes exclusive to the first.
            f"--hostname=voiceclone-{os.getpid()}@%h",
        ]
    )
