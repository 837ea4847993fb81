"""What the service needs from a job queue (in-process now; Celery or similar later)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class JobQueue(Protocol):
    def submit(self, job_id: str, engine: str | None = None) -> None:
        """Run the job (already committed as 'queued') soon, with ``engine`` (None: the
        default engine)."""
        ...

    def start(self) -> None:
        """Start executing, first resuming jobs left 'queued' or 'running' by a crash."""
        ...

    def stop(self) -> None:
        """Stop executing; interrupted jobs stay unfinished and resume at the next start."""
        ...
