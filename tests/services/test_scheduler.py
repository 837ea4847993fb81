"""The engine queue: first chunks first, then the live stream nearest to running out of
audio, then jobs with what is left."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np

from voiceclone.audio.chunk import AudioChunk
from voiceclone.services.scheduler import FIRST_CHUNK, JOB_CHUNK, LIVE_CHUNK, EngineQueue


def _take_turns(queue: EngineQueue, requests: list[tuple]) -> list[str]:
    """Queue every request while the engine is busy, then free it: the order served."""
    served: list[str] = []
    lock = threading.Lock()
    busy = threading.Event()
    release = threading.Event()

    def occupy() -> None:
        with queue.turn(JOB_CHUNK, 0.0):
            busy.set()
            release.wait()

    def ask(name: str, kind: int, deadline: float, need_s: float = 0.0) -> None:
        with queue.turn(kind, deadline, need_s), lock:
            served.append(name)

    holder = threading.Thread(target=occupy)
    holder.start()
    busy.wait()
    threads = []
    for request in requests:
        thread = threading.Thread(target=ask, args=request)
        thread.start()
        threads.append(thread)
    while queue.waiting < len(requests):
        time.sleep(0.001)
    release.set()
    for thread in [holder, *threads]:
        thread.join(timeout=5)
    return served


def test_first_chunks_then_earliest_deadline() -> None:
    now = time.monotonic()
    order = _take_turns(
        EngineQueue(slots=1),  # no turn measured yet: nothing is due
        [
            ("job", JOB_CHUNK, now + 10.0),
            ("live, 4 s in hand", LIVE_CHUNK, now + 4.0),
            ("live, nearly out", LIVE_CHUNK, now + 0.5),
            ("new stream", FIRST_CHUNK, now - 1.0),
            ("newer stream", FIRST_CHUNK, now - 0.5),
        ],
    )
    assert order == ["new stream", "newer stream", "live, nearly out", "live, 4 s in hand", "job"]


def test_a_stream_about_to_run_out_goes_before_new_streams() -> None:
    now = time.monotonic()
    order = _take_turns(
        EngineQueue(slots=1, first_turn_s=1.0),  # a first chunk let in ahead takes 1 s
        [
            ("new stream", FIRST_CHUNK, now - 1.0),
            ("live, 4 s in hand", LIVE_CHUNK, now + 4.0),
            ("live, 1 s in hand", LIVE_CHUNK, now + 1.0),
            ("live, already out", LIVE_CHUNK, now - 0.2),
            ("job", JOB_CHUNK, now + 0.1),  # a job is never due: it has no listener
        ],
    )
    assert order == [
        "live, already out",
        "live, 1 s in hand",
        "new stream",
        "job",
        "live, 4 s in hand",
    ]


def test_a_stream_whose_chunks_take_long_is_due_sooner() -> None:
    now = time.monotonic()
    order = _take_turns(
        EngineQueue(slots=1, first_turn_s=0.3),
        [
            ("new stream", FIRST_CHUNK, now - 1.0),
            ("live, 2 s in hand, quick chunks", LIVE_CHUNK, now + 2.0, 0.4),
            ("live, 2 s in hand, its next chunk may take 1.8 s", LIVE_CHUNK, now + 2.0, 1.8),
        ],
    )
    assert order == [
        "live, 2 s in hand, its next chunk may take 1.8 s",
        "new stream",
        "live, 2 s in hand, quick chunks",
    ]


def test_the_length_of_a_first_chunk_is_learned_from_the_first_chunks_made() -> None:
    queue = EngineQueue(slots=1)
    made: list[str] = []
    for _ in range(3):  # each stream's end (no chunk) takes a turn that is not counted
        assert len(list(queue.take_turns(_first_slow(made), live=True))) == 8
    assert 0.025 < queue.first_turn_s < 0.06  # the later, quicker chunks do not count


def _first_slow(made: list[str]) -> Iterator[AudioChunk]:
    yield from _chunks(1, made, "live", delay=0.03)
    yield from _chunks(7, made, "live", delay=0.001)


def _chunks(count: int, made: list[str], name: str, delay: float = 0.01) -> Iterator[AudioChunk]:
    for _ in range(count):
        time.sleep(delay)
        made.append(name)
        yield AudioChunk(np.zeros(2400, np.float32), 24_000)


def test_a_new_stream_gets_its_first_chunk_before_a_running_job_goes_on() -> None:
    queue = EngineQueue(slots=1, job_slack_seconds=10.0)
    made: list[str] = []
    job = queue.take_turns(_chunks(30, made, "job"), live=False)
    next(job)
    started = threading.Event()

    def run_job() -> None:
        started.set()
        for _ in job:
            pass

    worker = threading.Thread(target=run_job)
    worker.start()
    started.wait()
    time.sleep(0.02)
    live = list(queue.take_turns(_chunks(2, made, "live"), live=True))
    worker.join(timeout=5)
    assert len(live) == 2
    first_live = made.index("live")
    assert first_live < 10  # it waited for at most the chunk in progress, not the whole job
    assert made.count("job") == 30
