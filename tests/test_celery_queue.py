"""The scale-out queue: jobs sent through Celery on the real Redis, run by a worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from fakes import FakeEngine, submit_fake_job, wait_until
from fakes import read_job as _job
from service_support import celery_worker
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.jobs import LocalJobQueue, open_queue
from voiceclone.settings import Settings
from voiceclone.storage.base import ObjectStore

TEXT = "Jobs travel through the broker. A worker speaks them. The result is stored."


def test_queue_follows_the_setting(queue_settings, session_factory, local_store, fake_engine):
    from voiceclone.jobs.celery_queue import CeleryJobQueue

    celery = open_queue(queue_settings, session_factory, local_store, fake_engine)
    assert isinstance(celery, CeleryJobQueue)
    embedded = queue_settings.model_copy(update={"queue_url": ""})
    local = open_queue(embedded, session_factory, local_store, fake_engine)
    assert isinstance(local, LocalJobQueue)


def test_a_job_sent_before_any_worker_runs_once_one_starts(
    queue_settings: Settings,
    session_factory: sessionmaker[Session],
    local_store: ObjectStore,
    fake_engine: FakeEngine,
):
    from voiceclone.jobs.celery_queue import CeleryJobQueue, WorkerContext, celery_app

    api_side = CeleryJobQueue(celery_app(queue_settings))
    job_id = submit_fake_job(session_factory, api_side, fake_engine, TEXT).id
    assert _job(session_factory, job_id).status == "queued"  # nobody runs it in this process

    worker_app = celery_app(
        queue_settings, WorkerContext(session_factory, local_store, fake_engine)
    )
    with celery_worker(worker_app):
        wait_until(lambda: _job(session_factory, job_id).finished, timeout=30)
    job = _job(session_factory, job_id)
    assert job.status == "succeeded", job
    assert job.attempts == 1
    assert local_store.list_keys("results/alice/") == [job.result_key]
    assert local_store.size(job.result_key) == job.result_bytes > 44  # header and audio


def test_worker_command_needs_a_broker(tmp_path):
    env = {**os.environ, "VOICECLONE_QUEUE_URL": "", "VOICECLONE_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "voiceclone.cli", "worker"],
        capture_output=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 2
    assert b"VOICECLONE_QUEUE_URL" in result.stderr


def test_jobs_go_to_the_queue_of_their_engine(
    queue_settings: Settings,
    session_factory: sessionmaker[Session],
    local_store: ObjectStore,
    fake_engine: FakeEngine,
):
    """A worker that holds another engine never takes a job; one that holds this one does."""
    from voiceclone.jobs.celery_queue import CeleryJobQueue, WorkerContext, celery_app

    assert queue_settings.engine_queue == f"{queue_settings.queue_name}.kokoro"
    api_side = CeleryJobQueue(celery_app(queue_settings))
    job_id = submit_fake_job(session_factory, api_side, fake_engine, TEXT).id
    context = WorkerContext(session_factory, local_store, fake_engine)

    xtts_settings = queue_settings.model_copy(update={"engine": "xtts", "engines": ["xtts"]})
    with celery_worker(celery_app(xtts_settings, context)):
        time.sleep(2)
    assert _job(session_factory, job_id).status == "queued"

    with celery_worker(celery_app(queue_settings, context)):
        wait_until(lambda: _job(session_factory, job_id).finished, timeout=30)
    assert _job(session_factory, job_id).status == "succeeded"
