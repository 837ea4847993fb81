"""Per-key limits: requests per minute, characters per day, live streams at once, voices.

Rates are counted by the ``limits`` library (sliding-window counters): in Redis when the
scale-out Redis is configured, so every API replica sees the same counts, else in this
process. Going over a limit raises :class:`LimitExceeded` (429 with ``Retry-After``) and
is counted in ``voiceclone_limit_hits_total``; the audit log records it once per key and
limit a minute, so a client hammering past its limit costs no database write per refusal
and cannot flood the log.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from voiceclone.db.models import Voice
from voiceclone.errors import TooManyRequests
from voiceclone.metrics import LIMIT_HITS, LIVE_STREAMS
from voiceclone.services import audit
from voiceclone.services.api_keys import Caller, KeyLimits
from voiceclone.services.capacity import LiveCapacity
from voiceclone.settings import Settings

log = logging.getLogger(__name__)

#: The window size used when a key has no limit, so its use is still counted.
UNLIMITED = 10**12
STREAM_COUNTER_TTL_S = 6 * 3600  # a crashed process's streams are forgotten after this
VOICES_RETRY_AFTER_S = 3600
KEY_PREFIX = "voiceclone"
AUDITED_HITS = RateLimitItemPerMinute(1)  # audit rows per key and limit


def _nothing() -> None:
    pass


class LimitExceeded(TooManyRequests):
    code = "rate_limited"


@dataclass(frozen=True)
class Usage:
    """What one key has used of its limits now."""

    key_id: str
    owner: str
    requests_last_minute: int
    chars_today: int
    streams_open: int


def storage_url(settings: Settings) -> str:
    if settings.limits_storage_url:
        return settings.limits_storage_url
    if settings.queue_url.startswith(("redis://", "rediss://")):
        return settings.queue_url
    return "memory://"


class Quotas:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        capacity: LiveCapacity | None = None,
    ) -> None:
        self._settings = settings
        self._session_factory = session_factory
        self._capacity = capacity
        storage = storage_from_string(storage_url(settings))
        if not isinstance(storage, Storage):
            raise TypeError(f"{type(storage).__name__} is an asynchronous limits storage.")
        self._storage = storage
        self._limiter = SlidingWindowCounterRateLimiter(self._storage)
        # A fixed window: exactly the first hit of each clock minute is audited.
        self._audit_limiter = FixedWindowRateLimiter(self._storage)

    @property
    def shared(self) -> bool:
        """Whether the counters are shared with other processes (Redis)."""
        return storage_url(self._settings) != "memory://"

    def effective_limits(self, caller: Caller) -> KeyLimits:
        return caller.limits.effective(self._settings)

    # -- checks -----------------------------------------------------------------------------

    def count_request(self, caller: Caller) -> None:
        """One more request of ``caller`` (429 past its requests per minute)."""
        self._spend(caller, self._per_minute(caller), 1, "requests per minute")

    def spend_chars(self, caller: Caller, chars: int) -> None:
        """``chars`` more characters spoken today (429 past the key's characters per day)."""
        if chars > 0:
            self._spend(caller, self._per_day(caller), chars, "characters per day")

    def check_voices(self, session: Session, caller: Caller) -> None:
        """429 if the owner already keeps as many voices as the key allows."""
        allowed = caller.limits.effective(self._settings).max_voices or 0
        if not allowed:
            return
        stored = session.scalar(select(func.count()).where(Voice.owner == caller.owner)) or 0
        if stored >= allowed:
            self._refuse(
                caller,
                "stored voices",
                f"The limit of {allowed} stored voices is reached; delete a voice first.",
                VOICES_RETRY_AFTER_S,
            )

    @contextmanager
    def live_stream(self, caller: Caller) -> Iterator[None]:
        """Hold one of the key's live-stream slots while the block runs."""
        release = self.open_stream(caller)
        try:
            yield
        finally:
            release()

    def open_stream(
        self,
        caller: Caller,
        chars: int = 0,
        admitted: Callable[[], None] | None = None,
    ) -> Callable[[], None]:
        """Take a live-stream slot of the key and of the server's capacity (429 if either
        is full), then charge ``chars``; returns the function freeing the slots. Nothing is
        charged for a stream refused. ``admitted`` is the release of a place in the
        server's capacity the request took before doing any work; the stream then owns it
        (freed with the rest, or at once if the stream is refused here)."""
        allowed = caller.limits.effective(self._settings).max_streams or 0
        key = self._stream_key(caller)
        open_now = self._storage.incr(key, STREAM_COUNTER_TTL_S)
        if allowed and open_now > allowed:
            self._storage.incr(key, STREAM_COUNTER_TTL_S, amount=-1)
            (admitted or _nothing)()
            self._refuse(
                caller,
                "concurrent live streams",
                f"The limit of {allowed} live streams at once is reached; wait until one ends.",
                1,
            )
        released = False
        LIVE_STREAMS.inc()

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                LIVE_STREAMS.dec()
                self._storage.incr(key, STREAM_COUNTER_TTL_S, amount=-1)
                release_capacity()

        release_capacity: Callable[[], None] = admitted or _nothing
        try:
            if admitted is None and self._capacity is not None:
                release_capacity = self._capacity.admit()
            self.spend_chars(caller, chars)
        except BaseException:
            release()
            raise
        return release

    # -- usage ------------------------------------------------------------------------------

    def usage(self, caller: Caller) -> Usage:
        return Usage(
            key_id=caller.key_id,
            owner=caller.owner,
            requests_last_minute=self._used(self._per_minute(caller), caller),
            chars_today=self._used(self._per_day(caller), caller),
            streams_open=max(0, self._storage.get(self._stream_key(caller))),
        )

    # -- internals --------------------------------------------------------------------------

    def _per_minute(self, caller: Caller) -> RateLimitItem:
        allowed = caller.limits.effective(self._settings).requests_per_minute
        return RateLimitItemPerMinute(allowed or UNLIMITED)

    def _per_day(self, caller: Caller) -> RateLimitItem:
        allowed = caller.limits.effective(self._settings).chars_per_day
        return RateLimitItemPerDay(allowed or UNLIMITED)

    def _spend(self, caller: Caller, item: RateLimitItem, cost: int, what: str) -> None:
        if self._limiter.hit(item, KEY_PREFIX, caller.key_id, cost=cost):
            return
        stats = self._limiter.get_window_stats(item, KEY_PREFIX, caller.key_id)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        amount = f"{item.amount:,}"
        if cost > 1 and cost > item.amount:
            detail = f"this request alone has {cost:,} and the limit is {amount} {what}."
        else:
            detail = f"the limit of {amount} {what} is reached; try again in {wait} s."
        self._refuse(caller, what, f"Too many requests: {detail}", wait)

    def _used(self, item: RateLimitItem, caller: Caller) -> int:
        stats = self._limiter.get_window_stats(item, KEY_PREFIX, caller.key_id)
        return item.amount - stats.remaining

    def _stream_key(self, caller: Caller) -> str:
        return f"{KEY_PREFIX}/streams/{caller.key_id}"

    def _refuse(self, caller: Caller, limit: str, message: str, retry_after: int) -> None:
        LIMIT_HITS.labels(limit).inc()
        try:
            if self._first_hit_this_minute(caller, limit):
                with self._session_factory() as session:
                    audit.record_now(
                        session, "limit.hit", caller.owner, caller.key_id, limit, {"limit": limit}
                    )
        except Exception:  # the refusal matters more than its audit row
            log.exception("could not record a limit hit")
        raise LimitExceeded(message, retry_after=retry_after)

    def _first_hit_this_minute(self, caller: Caller, limit: str) -> bool:
        return self._audit_limiter.hit(AUDITED_HITS, KEY_PREFIX, "audit", caller.key_id, limit)
