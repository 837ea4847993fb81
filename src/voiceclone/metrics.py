"""Prometheus metrics: requests, time to first audio, real-time factor, audio made, live
streams, jobs by status and queue depth, voices created, uploads refused, engine busy time.
API replicas serve them at ``/metrics``; workers on ``VOICECLONE_WORKER_METRICS_PORT``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from voiceclone.audio.chunk import AudioChunk

LATENCY_BUCKETS = (0.05, 0.1, 0.15, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0)
RTF_BUCKETS = (0.05, 0.1, 0.12, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0)

HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from a request's arrival to the end of its response.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
FIRST_AUDIO = Histogram(
    "voiceclone_time_to_first_audio_seconds",
    "Time from the start of a synthesis to its first chunk of audio.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
REAL_TIME_FACTOR = Histogram(
    "voiceclone_real_time_factor",
    "Engine time per second of audio made, per synthesis.",
    ["route"],
    buckets=RTF_BUCKETS,
)
AUDIO_SECONDS = Counter("voiceclone_audio_seconds", "Seconds of speech made.", ["route"])
ENGINE_BUSY = Counter(
    "voiceclone_engine_busy_seconds", "Seconds the engine spent making speech.", ["route"]
)
LIVE_STREAMS = Gauge("voiceclone_live_streams", "Live streams open now.")
LIVE_STREAMS_REFUSED = Counter(
    "voiceclone_live_streams_refused",
    "Live streams refused (429 server_busy) because the engine was at capacity.",
)
ENGINE_SPEED = Gauge(
    "voiceclone_engine_audio_per_second",
    "Seconds of audio the engine makes per second, as measured (live-stream capacity).",
)
VOICES_CREATED = Counter("voiceclone_voices_created", "Voices cloned.")
UPLOADS_REFUSED = Counter(
    "voiceclone_uploads_refused", "Voice uploads refused, by reason.", ["reason"]
)
LIMIT_HITS = Counter("voiceclone_limit_hits", "Requests refused by a key's limit.", ["limit"])


def measure_speech(chunks: Iterable[AudioChunk], route: str) -> Iterator[AudioChunk]:
    """The chunks unchanged, timing the engine: first audio, busy time, real-time factor."""
    started = time.perf_counter()
    busy = audio = 0.0
    first = True
    iterator = iter(chunks)
    try:
        while True:
            before = time.perf_counter()
            try:
                chunk = next(iterator)
            except StopIteration:
                break
            busy += time.perf_counter() - before
            if first:
                FIRST_AUDIO.labels(route).observe(time.perf_counter() - started)
                first = False
            audio += chunk.duration
            yield chunk
    finally:
        ENGINE_BUSY.labels(route).inc(busy)
        AUDIO_SECONDS.labels(route).inc(audio)
        if audio > 0:
            REAL_TIME_FACTOR.labels(route).observe(busy / audio)
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


class JobsCollector(Collector):
    """Jobs by status (and so the queue depth), counted in the database at each scrape."""

    def __init__(self, count_by_status: Callable[[], dict[str, int]]) -> None:
        self._count = count_by_status

    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily("voiceclone_jobs", "Jobs by status.", labels=["status"])
        depth = GaugeMetricFamily("voiceclone_queue_depth", "Jobs waiting to start.")
        counts = self._count()
        for status, count in sorted(counts.items()):
            jobs.add_metric([status], count)
        depth.add_metric([], counts.get("queued", 0))
        yield jobs
        yield depth


_collector: JobsCollector | None = None


def watch_jobs(count_by_status: Callable[[], dict[str, int]]) -> None:
    """Report job counts from this source (the latest app's database) at each scrape."""
    global _collector
    if _collector is not None:
        REGISTRY.unregister(_collector)
    _collector = JobsCollector(count_by_status)
    REGISTRY.register(_collector)
