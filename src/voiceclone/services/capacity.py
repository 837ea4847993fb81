"""Admission of live streams from the engine's measured capacity.

A live stream needs one second of audio per second of playback. The process learns how
many seconds of audio per second its engine makes (at start, then from every chunk made
while running) and admits a new live stream only while all admitted ones, plus it, fit
with headroom to spare; otherwise it refuses at once (429 ``server_busy`` with
``Retry-After``) rather than letting every stream fall behind. Jobs are never refused:
they wait in the queue.

Capacity belongs to the process (its CPU or GPU): the speech pipeline holds one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

from voiceclone.audio.chunk import AudioChunk
from voiceclone.engines.base import Engine
from voiceclone.errors import TooManyRequests
from voiceclone.metrics import ENGINE_SPEED, LIVE_STREAMS_REFUSED
from voiceclone.settings import Settings

log = logging.getLogger(__name__)

CALIBRATION_TEXT = "The morning light came slowly over the hills, and the village woke."
#: Start-up measures this many times and keeps the fastest: a hiccup (page faults, a
#: first run's allocations) only ever slows a round, and one slow round would admit
#: streams by chance.
CALIBRATION_ROUNDS = 2
#: Weight of each new observation in the running estimate.
SMOOTHING = 0.1
#: Chunks shorter than this say little about speed (fixed costs dominate).
MIN_OBSERVED_AUDIO_S = 0.3


class ServerBusy(TooManyRequests):
    code = "server_busy"


class LiveCapacity:
    """How much audio per second this process can make, and the live streams it admitted."""

    def __init__(self, settings: Settings) -> None:
        self._lock = threading.Lock()
        self._synthesizing = 0
        self._admitted = 0
        self._enabled = settings.live_admission
        self._headroom = settings.live_headroom
        self._retry_after = settings.busy_retry_after_seconds
        self._slots = settings.engine_slots
        self._fixed = settings.live_capacity > 0
        # seconds of audio per second of wall time; None until measured
        self._rate: float | None = settings.live_capacity if self._fixed else None
        ENGINE_SPEED.set(self._rate or 0.0)

    @property
    def rate(self) -> float | None:
        return self._rate

    @property
    def admitted(self) -> int:
        return self._admitted

    def streams_that_fit(self) -> int | None:
        """How many live streams fit now (None: not measured yet, so no limit)."""
        if self._rate is None:
            return None
        return int(self._rate / (1.0 + self._headroom))

    def calibrate(self, engine: Engine) -> None:
        """Measure the engine (unless the capacity is set): one sentence per engine slot,
        all at once, as the engine will be used, each chunk timed as :meth:`observe`
        times it; the fastest of CALIBRATION_ROUNDS rounds."""
        if self._fixed or not self._enabled:
            return
        try:
            voices = engine.stock_voice_names()
            if not voices:
                return
            voice = engine.stock_voice(voices[0])

            def speak(_: int) -> list[tuple[float, float, int]]:
                timed = self._timed(engine.synthesize(CALIBRATION_TEXT, voice))
                return [(chunk.duration, elapsed, sharing) for chunk, elapsed, sharing in timed]

            rates = []
            with ThreadPoolExecutor(self._slots) as pool:
                for _ in range(CALIBRATION_ROUNDS):
                    made = [turn for turns in pool.map(speak, range(self._slots)) for turn in turns]
                    rate = self._rate_of(made)
                    if rate is not None:
                        rates.append(rate)
        except Exception:  # measured later, from the speech it makes
            log.warning("could not measure the engine's speed at start", exc_info=True)
            return
        if rates:
            with self._lock:
                self._rate = max(rates)
            ENGINE_SPEED.set(self._rate)
            rounds = ", ".join(f"{rate:.1f}" for rate in rates)
            log.info("engine makes %.1f s of audio per second (%s): %s", self._rate, rounds, self)

    def admit(self) -> Callable[[], None]:
        """Admit one more live stream, or raise :class:`ServerBusy`; returns its release
        (idempotent). Routes admit first, before any other work, so a full server refuses
        at once and many requests arriving together cannot all pass a check and queue."""
        with self._lock:
            self._refuse_if_full()
            self._admitted += 1
        released = False

        def release() -> None:
            nonlocal released
            with self._lock:
                if not released:
                    released = True
                    self._admitted -= 1

        return release

    def _refuse_if_full(self) -> None:
        fit = self.streams_that_fit()
        if self._enabled and fit is not None and self._admitted + 1 > max(fit, 1):
            LIVE_STREAMS_REFUSED.inc()
            raise ServerBusy(
                f"The server is at capacity ({self._admitted} live streams); try again "
                "shortly, or queue a job (POST /v1/jobs), which is never refused for load.",
                retry_after=self._retry_after,
            )

    def observe(self, chunks: Iterable[AudioChunk]) -> Iterator[AudioChunk]:
        """The chunks unchanged, each one's speed folded into the estimate (scaled by how
        many syntheses shared the engine while it was made)."""
        for chunk, elapsed, sharing in self._timed(chunks):
            self._observe(chunk.duration, elapsed, sharing)
            yield chunk

    def _timed(self, chunks: Iterable[AudioChunk]) -> Iterator[tuple[AudioChunk, float, int]]:
        """Each chunk, the seconds it took to make, and how many syntheses were being made
        meanwhile (this one included)."""
        iterator = iter(chunks)
        try:
            while True:
                with self._lock:
                    self._synthesizing += 1
                    sharing = self._synthesizing
                started = time.perf_counter()
                try:
                    chunk = next(iterator)
                except StopIteration:
                    break
                finally:
                    with self._lock:
                        sharing = max(sharing, self._synthesizing)
                        self._synthesizing -= 1
                yield chunk, time.perf_counter() - started, sharing
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    def _counts(self, audio: float, elapsed: float, sharing: int) -> bool:
        # With fewer syntheses than slots, the engine ran below its capacity: a chunk
        # made then says how fast one stream goes, not how much the engine can make.
        return audio >= MIN_OBSERVED_AUDIO_S and elapsed > 0 and sharing >= self._slots

    def _rate_of(self, made: Iterable[tuple[float, float, int]]) -> float | None:
        """Seconds of audio per second over the chunks that filled the engine."""
        counted = [(a, e, n) for a, e, n in made if self._counts(a, e, n)]
        elapsed = sum(e for _, e, _ in counted)
        return sum(n * a for a, _, n in counted) / elapsed if counted else None

    def _observe(self, audio: float, elapsed: float, sharing: int) -> None:
        if self._fixed or not self._counts(audio, elapsed, sharing):
            return
        rate = sharing * audio / elapsed
        with self._lock:
            current = self._rate
            self._rate = rate if current is None else current + SMOOTHING * (rate - current)
        ENGINE_SPEED.set(self._rate)

    def __str__(self) -> str:
        return f"{self.streams_that_fit()} live stream(s) fit, {self._admitted} admitted"
