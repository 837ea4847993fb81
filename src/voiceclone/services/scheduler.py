"""One queue in front of each engine, shared by live streams, previews and jobs.

An engine makes ``engine_slots`` chunks at once (two by default: Kokoro gives a lone one
all its threads, and chunks side by side a share each). The others wait in order of
urgency:

1. a playing stream about to run out of audio: less in hand than a first chunk let in
   ahead of it takes, plus its own next chunk (up to ``NEXT_TURN_GROWTH`` times its last
   turn: chunks grow), earliest first;
2. a stream's first chunk (nothing is playing yet), oldest first;
3. a live stream's next chunk, by when its listener runs out of audio: the time its first
   chunk came plus the seconds of audio made since;
4. a job's next chunk, as if its deadline were ``job_slack_seconds`` from now: jobs use what
   live streams leave, and go first only past streams that have that much audio in hand.

New streams start as soon as they can, but never by making a playing one stutter. How
long a first chunk takes is learned from the first chunks made; each stream times its own
turns. (One mean turn for all would hold new streams back needlessly: later chunks are
several times longer than first ones, so every playing stream would look due at once.)

Like capacity, the engine's time belongs to the process: the speech pipeline holds one
queue per engine name.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from voiceclone.audio.chunk import AudioChunk
from voiceclone.settings import Settings

FIRST_CHUNK, LIVE_CHUNK, JOB_CHUNK = 0, 1, 2
#: A stream's next chunk may take this many times its last turn (chunk limits double).
NEXT_TURN_GROWTH = 2.0
#: Weight of each first chunk's turn in the running estimate.
TURN_SMOOTHING = 0.2


class EngineQueue:
    """Turns on one engine: :meth:`turn` blocks until the caller is the most urgent."""

    def __init__(
        self, slots: int = 1, job_slack_seconds: float = 10.0, first_turn_s: float | None = None
    ) -> None:
        self._free = slots
        self.job_slack_seconds = job_slack_seconds
        self._first_turn_s = first_turn_s  # how long a first chunk takes (learned)
        self._waiting: list[tuple[int, float, float, int]] = []
        self._granted: set[tuple[int, float, float, int]] = set()
        self._order = itertools.count()
        self._changed = threading.Condition()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def first_turn_s(self) -> float:
        return self._first_turn_s or 0.0

    @contextmanager
    def turn(self, kind: int, deadline: float, need_s: float = 0.0) -> Iterator[None]:
        """Hold one of the engine's slots while the block runs. ``deadline`` (a monotonic
        time) is when a live stream runs out of audio, a first chunk's arrival, or a job's
        slack; ``need_s``, how long a live stream's next chunk may take; the order is the
        module's."""
        entry = (kind, deadline, need_s, next(self._order))
        with self._changed:
            self._waiting.append(entry)
            self._grant_free_slots()
            while entry not in self._granted:
                self._changed.wait()
            self._granted.remove(entry)
        try:
            yield
        finally:
            with self._changed:
                self._free += 1
                self._grant_free_slots()

    def learn_first_turn(self, seconds: float) -> None:
        """Fold the length of a turn that made a first chunk into the estimate."""
        with self._changed:
            if self._first_turn_s is None:
                self._first_turn_s = seconds
            else:
                self._first_turn_s += TURN_SMOOTHING * (seconds - self._first_turn_s)

    def _grant_free_slots(self) -> None:
        """Give each free slot to the most urgent waiter, decided once, here (urgency
        changes with the clock: waiters judging for themselves could each defer to
        another)."""
        granted = False
        while self._free > 0 and self._waiting:
            chosen = self._most_urgent()
            self._waiting.remove(chosen)
            self._granted.add(chosen)
            self._free -= 1
            granted = True
        if granted:
            self._changed.notify_all()

    def _most_urgent(self) -> tuple[int, float, float, int]:
        # Were a first chunk let in now, this is when it would be done.
        after_a_first_chunk = time.monotonic() + self.first_turn_s

        def urgency(entry: tuple[int, float, float, int]) -> tuple[int, float, int]:
            kind, deadline, need_s, order = entry
            if kind == FIRST_CHUNK:
                return 1, deadline, order
            if kind == LIVE_CHUNK and deadline - need_s <= after_a_first_chunk:
                return 0, deadline, order
            return 2, deadline, order  # live and job chunks: by deadline alone

        return min(self._waiting, key=urgency)

    def take_turns(self, chunks: Iterable[AudioChunk], live: bool) -> Iterator[AudioChunk]:
        """``chunks``, each one made in its turn (live: a stream someone listens to)."""
        return StreamTurns(self, live).take(chunks)


class StreamTurns:
    """One stream's place in an engine's queue, kept across the pieces it is spoken in
    (a live socket speaks sentence by sentence: only its very first chunk is a first)."""

    def __init__(self, queue: EngineQueue, live: bool) -> None:
        self._queue = queue
        self._live = live
        self._arrived = time.monotonic()
        self._first_at: float | None = None
        self._audio = 0.0
        self._last_turn_s = 0.0

    def take(self, chunks: Iterable[AudioChunk]) -> Iterator[AudioChunk]:
        """``chunks``, each one made when this stream's turn comes."""
        iterator = iter(chunks)
        try:
            while True:
                with self._queue.turn(*self._urgency()):
                    started = time.monotonic()
                    chunk = next(iterator, None)
                if chunk is None:
                    return
                self._last_turn_s = time.monotonic() - started
                if self._first_at is None:
                    self._queue.learn_first_turn(self._last_turn_s)
                    self._first_at = time.monotonic()
                self._audio += chunk.duration
                yield chunk
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    def _urgency(self) -> tuple[int, float, float]:
        if not self._live:
            return JOB_CHUNK, time.monotonic() + self._queue.job_slack_seconds, 0.0
        if self._first_at is None:
            return FIRST_CHUNK, self._arrived, 0.0
        need_s = NEXT_TURN_GROWTH * self._last_turn_s
        return LIVE_CHUNK, self._first_at + self._audio, need_s


class Schedulers:
    """The engine queues of this process, by engine name."""

    def __init__(self, settings: Settings) -> None:
        self._queues: dict[str, EngineQueue] = {}
        self._slots = settings.engine_slots
        self._job_slack_seconds = settings.job_slack_seconds
        self._lock = threading.Lock()

    def of(self, engine_name: str) -> EngineQueue:
        with self._lock:
            queue = self._queues.get(engine_name)
            if queue is None:
                queue = self._queues[engine_name] = EngineQueue(
                    self._slots, self._job_slack_seconds
                )
            return queue
