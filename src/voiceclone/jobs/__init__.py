"""Running synthesis jobs: the durable ``jobs`` table is the truth, queues only execute."""

from voiceclone.jobs.base import JobQueue
from voiceclone.jobs.local import LocalJobQueue
from voiceclone.jobs.runner import run_job

__all__ = ["JobQueue", "LocalJobQueue", "run_job"]
