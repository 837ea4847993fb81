"""Database steps retried while the database is briefly unusable.

SQLite can stay locked past its busy timeout (a long write elsewhere, a backup); Postgres
drops connections when it restarts or fails over. Such errors say nothing about the
request, so a background step (a job's claim, progress, result) waits and tries again,
with backoff, for up to ``database_retry_seconds``, instead of failing the job for good.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from voiceclone.settings import get_settings

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

FIRST_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 5.0
_SQLITE_TRANSIENT = ("locked", "busy")
"""SQLite's other OperationalErrors (no such table, a syntax error) will not go away."""


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` is the database being locked, restarting or out of reach."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    module = type(error.orig).__module__ if error.orig is not None else ""
    if module.startswith("sqlite3"):
        return any(word in str(error.orig).lower() for word in _SQLITE_TRANSIENT)
    return True


def retried_while_transient(step: Callable[P, T]) -> Callable[P, T]:
    """``step``, run again with backoff while it fails with a transient database error,
    for up to ``database_retry_seconds`` in all; then the last error."""

    @functools.wraps(step)
    def retried(*args: P.args, **kwargs: P.kwargs) -> T:
        deadline = time.monotonic() + get_settings().database_retry_seconds
        delay = FIRST_DELAY_SECONDS
        while True:
            try:
                return step(*args, **kwargs)
            except DBAPIError as error:
                if not is_transient(error) or time.monotonic() + delay > deadline:
                    raise
                log.warning(
                    "%s: the database is busy or out of reach (%s); trying again in %.1f s",
                    step.__name__,
                    str(error.orig).strip().splitlines()[0] if error.orig else error,
                    delay,
                )
                time.sleep(delay)
                delay = min(delay * 2, MAX_DELAY_SECONDS)

    return retried
