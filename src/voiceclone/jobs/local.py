"""The embedded job queue: a thread pool in the server process, resumable after a crash.

Meant for one server process per database (the default deployment): at start it takes
over every job left 'queued' or 'running', since nobody else can be running them.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.db.models import UNFINISHED_STATUSES, Job
from voiceclone.db.session import session_scope
from voiceclone.jobs.runner import run_job
from voiceclone.services.pipeline import SpeechPipeline
from voiceclone.storage.base import ObjectStore

log = logging.getLogger(__name__)

_IDLE_POLL_SECONDS = 0.02


class LocalJobQueue:
    """Runs jobs through the speech pipeline on ``workers`` threads (default
    ``VOICECLONE_WORKER_THREADS``)."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        store: ObjectStore,
        pipeline: SpeechPipeline,
        workers: int | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._store = store
        self._pipeline = pipeline
        self._workers = max(1, workers or pipeline.settings.worker_threads)
        self._executor: ThreadPoolExecutor | None = None
        self._pending: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    @property
    def running(self) -> bool:
        return self._executor is not None

    def start(self) -> None:
        """Start the workers and resume every unfinished job, oldest first."""
        with self._lock:
            if self._executor is not None:
                return
            self._stopping.clear()
            self._executor = ThreadPoolExecutor(
                max_workers=self._workers, thread_name_prefix="voiceclone-job"
            )
        unfinished = self.unfinished_job_ids()
        if unfinished:
            log.info("resuming %d unfinished job(s)", len(unfinished))
        for job_id in unfinished:
            self.submit(job_id)

    def unfinished_job_ids(self) -> list[str]:
        with session_scope(self._session_factory) as session:
            ids = session.scalars(
                select(Job.id)
                .where(Job.status.in_(UNFINISHED_STATUSES))
                .order_by(Job.created_at, Job.id)
            )
            return [str(job_id) for job_id in ids]

    def submit(self, job_id: str, engine: str | None = None) -> None:
        """Run the job soon (the runner reads its engine from the job). Before start() it
        just stays queued (start() resumes it)."""
        job_id = str(job_id)
        with self._lock:
            if self._executor is None:
                log.warning("job %s queued while the queue is stopped; it runs at start", job_id)
                return
            if job_id in self._pending:
                return
            # The submitter's context (its trace and request id) carries over to the job.
            context = contextvars.copy_context()
            self._pending[job_id] = self._executor.submit(context.run, self._run, job_id)

    def _run(self, job_id: str) -> None:
        try:
            run_job(
                job_id,
                self._session_factory,
                self._store,
                self._pipeline,
                should_cancel=self._stopping.is_set,
            )
        except Exception:
            log.exception("job %s could not be run", job_id)
        finally:
            with self._lock:
                self._pending.pop(job_id, None)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no job is queued or running here; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._pending:
                    return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(_IDLE_POLL_SECONDS)

    def stop(self, wait: bool = True) -> None:
        """Stop: running jobs halt at their next chunk and stay 'running' (resumed at the
        next start); jobs not yet begun stay 'queued'."""
        with self._lock:
            executor, self._executor = self._executor, None
            self._stopping.set()
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)
        with self._lock:  # jobs that never began: forget them (they stay 'queued')
            for job_id, future in list(self._pending.items()):
                if future.cancelled():
                    del self._pending[job_id]
