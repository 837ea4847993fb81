"""Metadata in SQL (SQLite by default, Postgres the same way): keys, voices, jobs, consent
challenges and the audit log."""

from voiceclone.db.migrate import current_revision, head_revision, migrate
from voiceclone.db.models import (
    FINISHED_STATUSES,
    UNFINISHED_STATUSES,
    ApiKey,
    AuditEvent,
    Base,
    ConsentChallenge,
    Job,
    JobStatus,
    Voice,
    WebSession,
    utcnow,
)
from voiceclone.db.session import make_engine, make_session_factory, rows_changed, session_scope

__all__ = [
    "FINISHED_STATUSES",
    "UNFINISHED_STATUSES",
    "ApiKey",
    "AuditEvent",
    "Base",
    "ConsentChallenge",
    "Job",
    "JobStatus",
    "Voice",
    "WebSession",
    "current_revision",
    "head_revision",
    "make_engine",
    "make_session_factory",
    "migrate",
    "rows_changed",
    "session_scope",
    "utcnow",
]
