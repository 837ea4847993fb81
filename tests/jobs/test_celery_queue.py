"""The scale-out queue: jobs sent through Celery on the real Redis, run by a worker."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from sqlalchemy.orm import Session, sessionmaker
from support.fakes import FakeEngine, submit_fake_job, wait_until
from support.fakes import read_job as _job
from support.servers import celery_worker

from voiceclone.jobs import LocalJobQueue, open_queue
from voiceclone.services.pipeline import SpeechPipeline
from voiceclone.settings import Settings
from voiceclone.storage.base import ObjectStore

TEXT = "Jobs travel through the broker. A worker speaks them. The result is stored."


def test_queue_follows_the_setting(queue_settings, session_factory, local_store, fake_engine):
    from voiceclone.jobs.celery_queue import CeleryJobQueue

    celery = open_queue(queue_settings, session_factory, local_store, SpeechPipeline([fake_engine]))
    assert isinstance(celery, CeleryJobQueue)
    embedded = queue_settings.model_copy(update={"queue_url": ""})
    local = open_queue(embedded, session_factory, local_store, SpeechPipeline([fake_engine]))
    assert isinstance(local, LocalJobQueue)


def test_a_job_sent_before_any_worker_runs_once_one_starts(
    queue_settings: Settings,
    session_factory: sessionmaker[Session],
    local_store: ObjectStore,
    fake_engine: FakeEngine,
):
    from voiceclone.jobs.celery_queue import CeleryJobQueue, WorkerContext, celery_app

    api_side = CeleryJobQueue(celery_app(queue_settings), queue_settings)
    job_id = submit_fake_job(session_factory, api_side, fake_engine, TEXT).id
    assert _job(session_factory, job_id).status == "queued"  # nobody runs it in this process

    worker_app = celery_app(
        queue_settings, WorkerContext(session_factory, local_store, SpeechPipeline([fake_engine]))
    )
    with celery_worker(worker_app):
        wait_until(lambda: _job(session_factory, job_id).finished, timeout=30)
    job = _job(session_factory, job_id)
    assert job.status == "succeeded", job
    assert job.attempts == 1
    assert local_store.list_keys("results/alice/") == sorted(
        [job.result_key, f"results/alice/{job_id}-words.json"]
    )
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


class OtherEngine(FakeEngine):
    name = "other"


def test_jobs_go_to_the_queue_of_their_engine(
    queue_settings: Settings,
    session_factory: sessionmaker[Session],
    local_store: ObjectStore,
    fake_engine: FakeEngine,
):
    """Each worker takes only the jobs that name the engine it holds."""
    from voiceclone.jobs.celery_queue import CeleryJobQueue, WorkerContext, celery_app

    assert queue_settings.engine_queue == f"{queue_settings.queue_name}.fake"
    other = OtherEngine()
    api_side = CeleryJobQueue(celery_app(queue_settings), queue_settings)
    fake_job = submit_fake_job(session_factory, api_side, fake_engine, TEXT).id
    other_job = submit_fake_job(session_factory, api_side, other, TEXT).id
    assert _job(session_factory, other_job).engine == "other"

    other_settings = queue_settings.model_copy(update={"engine": "other", "engines": ["other"]})
    other_context = WorkerContext(session_factory, local_store, SpeechPipeline([other]))
    with celery_worker(celery_app(other_settings, other_context)):
        wait_until(lambda: _job(session_factory, other_job).finished, timeout=30)
        time.sleep(1)
    assert _job(session_factory, other_job).status == "succeeded"
    assert other.synthesize_calls == 1
    assert _job(session_factory, fake_job).status == "queued"  # not this worker's engine

    fake_context = WorkerContext(session_factory, local_store, SpeechPipeline([fake_engine]))
    with celery_worker(celery_app(queue_settings, fake_context)):
        wait_until(lambda: _job(session_factory, fake_job).finished, timeout=30)
    assert _job(session_factory, fake_job).status == "succeeded"
    assert fake_engine.synthesize_calls == 1
