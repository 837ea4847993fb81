"""Stored objects that no row points to any more are found and removed.

A delete removes its objects before its row, so a failure leaves a row that can be deleted
again, never objects nobody can reach. Objects can still outlive their rows: an upload
whose row never committed (the process was killed), a result written as its job was being
deleted, a readiness probe cut short. :func:`collect_garbage` removes them, sparing anything
written within the grace period, which may belong to a row about to be committed.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.db.models import Job, Voice
from voiceclone.services.voices import consent_recording_keys
from voiceclone.settings import Settings
from voiceclone.storage.base import ObjectStore
from voiceclone.storage.layout import captions_key

log = logging.getLogger(__name__)

COLLECTED_PREFIXES = ("voices", "consent", "results", "health")
"""Every prefix the service writes under (see :mod:`voiceclone.storage.layout`)."""


def referenced_keys(session: Session) -> set[str]:
    """Every object key some row points to: samples, consent recordings, results and
    their captions."""
    keys: set[str] = set()
    for sample_keys, consent in session.execute(select(Voice.sample_keys, Voice.consent)):
        keys.update(sample_keys or ())
        keys.update(consent_recording_keys(consent))
    for owner, job_id, result in session.execute(select(Job.owner, Job.id, Job.result_key)):
        if result:
            keys.add(result)
        keys.add(captions_key(owner, job_id))
    return keys


def orphaned_keys(session: Session, store: ObjectStore, written_before: datetime) -> list[str]:
    """Keys no row points to, of objects last written before ``written_before``. The
    store is listed before the rows are read, so a row committed meanwhile still counts."""
    listed = [found for prefix in COLLECTED_PREFIXES for found in store.list_objects(prefix)]
    referenced = referenced_keys(session)
    return [
        found.key
        for found in listed
        if found.key not in referenced and found.modified < written_before
    ]


def collect_garbage(
    session_factory: sessionmaker[Session],
    store: ObjectStore,
    grace_seconds: float,
    dry_run: bool = False,
) -> list[str]:
    """Delete (unless ``dry_run``) the orphaned objects older than ``grace_seconds``;
    returns their keys."""
    written_before = datetime.now(UTC) - timedelta(seconds=grace_seconds)
    with session_factory() as session:
        orphans = orphaned_keys(session, store, written_before)
    if not dry_run:
        for key in orphans:
            store.delete(key)
    if orphans:
        verb = "found" if dry_run else "removed"
        log.info("%s %d object(s) no row points to", verb, len(orphans))
    return orphans


class ScheduledJanitor:
    """:func:`collect_garbage` every ``storage_gc_interval_seconds`` in a thread of its own,
    until :meth:`stop` (replicas may all run it: deleting an orphan twice is harmless)."""

    def __init__(
        self, session_factory: sessionmaker[Session], store: ObjectStore, settings: Settings
    ) -> None:
        self._session_factory = session_factory
        self._store = store
        self._settings = settings
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._settings.storage_gc_interval_seconds > 0:
            thread = threading.Thread(target=self._run, name="voiceclone-janitor", daemon=True)
            self._thread = thread
            thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        interval = self._settings.storage_gc_interval_seconds
        grace = self._settings.storage_gc_grace_seconds
        while not self._stopped.wait(interval):
            try:
                collect_garbage(self._session_factory, self._store, grace)
            except Exception:  # the store or database is away: try again next time
                log.warning("the storage janitor could not finish", exc_info=True)
