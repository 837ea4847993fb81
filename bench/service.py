"""HTTP service benchmark against a ``voiceclone serve`` process it starts itself.

Measures, over loopback only:

* time to first audio byte for ``POST /v1/speech`` (pcm) and ``POST /v1/audio/speech``
  (OpenAI route, mp3), p50/p95 over ``--requests`` sequential requests in a cloned voice;
* metadata latency (``GET /v1/voices``) p50/p95, one at a time and at concurrency 32
  (httpx async client, ``--metadata-requests`` requests in all);
* 4 and 16 concurrent live streams (``--streams``, one async client): first byte, how far
  each listener would fall behind real-time playback from its first byte, how many were
  refused (429 ``server_busy``) and how fast (as the client saw it, and as the server's
  access log timed it), and the server's RSS during and after;
* the server's RSS while a 50 MB file is uploaded (sampled every 5 ms).

The server gets a fresh database and object store in a temp folder; model files come from
the usual home.

    python bench/service.py [--requests 10] [--metadata-requests 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil
from rich.console import Console
from rich.table import Table

SPEECH_TEXT = "Hello, and thanks for calling. How can I help you today?"
UPLOAD_BYTES = 50_000_000
CONCURRENCY = 32
STARTUP_SECONDS = 180
RSS_SAMPLE_SECONDS = 0.005


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


class Server:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "VOICECLONE_DATABASE_URL": f"sqlite:///{root / 'voiceclone.db'}",
            "VOICECLONE_STORAGE_URL": (root / "objects").as_uri(),
            # The per-key limits would cut the load short; capacity admission stays on.
            "VOICECLONE_KEY_REQUESTS_PER_MINUTE": "0",
            "VOICECLONE_KEY_MAX_STREAMS": "0",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def create_key(self, owner: str) -> str:
        command = [sys.executable, "-m", "voiceclone.cli", "keys", "create", "--owner", owner]
        out = subprocess.run(command, env=self.env, capture_output=True, text=True, check=True)
        return out.stdout.strip().splitlines()[-1]

    def start(self) -> None:
        log = (self.root / "server.log").open("wb")
        command = [sys.executable, "-m", "voiceclone.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit((self.root / "server.log").read_text())
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit("server did not become ready")

    def access_records(self) -> list[dict[str, Any]]:
        """The ``httpRequest`` fields of every access record the server has logged."""
        records = []
        for line in (self.root / "server.log").read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and "httpRequest" in record:
                records.append(record["httpRequest"])
        return records

    @property
    def rss(self) -> int:
        assert self.process is not None
        return psutil.Process(self.process.pid).memory_info().rss

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _reference_recording() -> Path:
    from voiceclone.assets.paths import AssetPaths

    files = sorted(AssetPaths.from_home().refvoices_dir.glob("en_*.wav"))
    if not files:
        raise SystemExit("reference voices missing: run scripts/setup.sh --eval")
    return files[0]


def _time_to_first_byte(
    client: httpx.Client, path: str, body: dict, audio_offset: int
) -> tuple[float, float]:
    """(seconds to the first audio byte, seconds to the last byte)."""
    start = time.perf_counter()
    first = None
    received = 0
    with client.stream("POST", path, json=body) as response:
        response.raise_for_status()
        for data in response.iter_raw():
            received += len(data)
            if first is None and received > audio_offset:
                first = time.perf_counter() - start
    total = time.perf_counter() - start
    assert first is not None, "no audio received"
    return first, total


def _engine_first_chunk(engine: Any, voice: Any) -> float:
    start = time.perf_counter()
    chunks = engine.synthesize(SPEECH_TEXT, voice, None, 1.0)
    next(chunks)
    first = time.perf_counter() - start
    chunks.close()
    return first


def bench_first_byte(
    server: Server, headers: dict, voice_id: str, reference: Path, requests: int
) -> list[tuple]:
    """HTTP time to first audio byte per route, interleaved with the same synthesis run
    in this process without HTTP (so the HTTP share is visible even on a busy machine)."""
    from voiceclone.engines import load_engine
    from voiceclone.services.speech import clone_voice

    engine = load_engine()
    local_voice = clone_voice(engine, [reference])
    routes: list[tuple[str, str, dict, int]] = [
        (
            "POST /v1/speech (pcm)",
            "/v1/speech",
            {"text": SPEECH_TEXT, "voice": voice_id, "format": "pcm"},
            0,
        ),
        (
            "POST /v1/speech (wav)",
            "/v1/speech",
            {"text": SPEECH_TEXT, "voice": voice_id, "format": "wav"},
            44,  # the header leaves at once; count from the first sample
        ),
        (
            "POST /v1/audio/speech (mp3)",
            "/v1/audio/speech",
            {"model": "tts-1", "input": SPEECH_TEXT, "voice": voice_id},
            0,
        ),
    ]
    firsts: dict[str, list[float]] = {label: [] for label, *_ in routes}
    totals: dict[str, list[float]] = {label: [] for label, *_ in routes}
    baseline: list[float] = []
    with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
        for _, path, body, offset in routes:  # warm up
            _time_to_first_byte(client, path, body, offset)
        _engine_first_chunk(engine, local_voice)
        for _ in range(requests):
            baseline.append(_engine_first_chunk(engine, local_voice))
            for label, path, body, offset in routes:
                first, total = _time_to_first_byte(client, path, body, offset)
                firsts[label].append(first)
                totals[label].append(total)
    p50, p95 = _percentiles(baseline)
    rows = [
        (
            "engine first chunk, no HTTP (baseline)",
            f"{p50 * 1000:.0f} ms",
            f"{p95 * 1000:.0f} ms",
            f"same text and cloned voice, in the bench process; {requests} runs",
        )
    ]
    for label, *_ in routes:
        p50, p95 = _percentiles(firsts[label])
        rows.append(
            (
                f"first audio byte, {label}",
                f"{p50 * 1000:.0f} ms",
                f"{p95 * 1000:.0f} ms",
                f"{requests} requests; whole response p50 {statistics.median(totals[label]):.2f} s",
            )
        )
    return rows


LIVE_TEXT = (
    "Live voices must never stutter. Each listener hears the speech as it is made, "
    "sentence after sentence, and the next one has to arrive before the last one ends. "
    "A server that knows its capacity says no at once instead of slowing everyone."
)
PCM_BYTES_PER_SECOND = 24_000 * 2
LIVE_ROUTE = "/v1/speech"


async def _live_stream(client: httpx.AsyncClient, body: dict) -> dict[str, float]:
    """One pcm stream played from its first byte: when that came, and how far playback
    would have fallen behind (seconds; 0: never)."""
    start = time.perf_counter()
    first = None
    received = 0
    behind = 0.0
    async with client.stream("POST", LIVE_ROUTE, json=body) as response:
        if response.status_code == 429:
            await response.aread()
            return {"refused_s": time.perf_counter() - start}
        response.raise_for_status()
        async for data in response.aiter_raw():
            now = time.perf_counter()
            if first is None:
                first = now
            behind = max(behind, (now - first) - received / PCM_BYTES_PER_SECOND)
            received += len(data)
    assert first is not None, "no audio received"
    return {"first_s": first - start, "behind_s": behind, "audio_s": received / 48_000}


async def _listeners(url: str, headers: dict, body: dict, count: int) -> list[dict[str, float]]:
    """``count`` listeners set off together from one event loop (one client thread per
    listener would time the bench's own GIL, not the server's answer)."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(
        base_url=url, headers=headers, limits=limits, timeout=300
    ) as client:
        return list(await asyncio.gather(*(_live_stream(client, body) for _ in range(count))))


def _engine_speed(server: Server) -> float:
    """The server's measured capacity (s of audio per second), from its /metrics."""
    metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    for line in metrics.splitlines():
        if line.startswith("voiceclone_engine_audio_per_second "):
            return float(line.split()[1])
    return float("nan")


def bench_live_streams(server: Server, headers: dict, voice_id: str, counts: list[int]) -> list:
    """``n`` listeners at once, for each ``n``: first byte, falling behind, refusals (as
    the client saw them and as the server's access log timed them), RSS."""
    body = {"text": LIVE_TEXT, "voice": voice_id, "format": "pcm"}
    rows = []
    for count in counts:
        capacity = _engine_speed(server)
        samples: list[int] = []
        stop = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(lambda: server.rss, stop, samples))
        sampler.start()
        seen = len(server.access_records())
        results = asyncio.run(_listeners(server.url, headers, body, count))
        stop.set()
        sampler.join()
        time.sleep(1.0)
        after = server.rss
        served = [
            float(record["latency"].rstrip("s"))
            for record in server.access_records()[seen:]
            if record["requestUrl"] == LIVE_ROUTE and record["status"] == 429
        ]
        played = [r for r in results if "first_s" in r]
        refused = [r["refused_s"] for r in results if "refused_s" in r]
        firsts = [r["first_s"] for r in played] or [float("nan")]
        p50, p95 = _percentiles(firsts)
        worst = max((r["behind_s"] for r in played), default=float("nan"))
        refusal = (
            f", 429 in {max(refused) * 1000:.0f} ms at most "
            f"(server {max(served, default=float('nan')) * 1000:.0f} ms)"
            if refused
            else ""
        )
        rows.append(
            (
                f"{count} concurrent live streams: first byte",
                f"{p50:.2f} s",
                f"{p95:.2f} s",
                f"capacity {capacity:.1f} s of audio per s at the start; "
                f"{len(played)} played, {len(refused)} refused{refusal}; worst behind "
                f"real time {worst:.2f} s; RSS peak {max(samples) / 2**20:.0f} MiB, "
                f"after {after / 2**20:.0f} MiB",
            )
        )
    return rows


async def _metadata(url: str, headers: dict, concurrency: int, total: int) -> tuple[list, float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits) as client:
        for _ in range(concurrency):  # open the connections and warm up
            (await client.get("/v1/voices")).raise_for_status()
        remaining = total

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                response = await client.get("/v1/voices")
                latencies.append(time.perf_counter() - start)
                response.raise_for_status()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return latencies, elapsed


def bench_metadata(server: Server, headers: dict, total: int) -> list[tuple]:
    rows = []
    for concurrency, count in ((1, min(total, 500)), (CONCURRENCY, total)):
        latencies, elapsed = asyncio.run(_metadata(server.url, headers, concurrency, count))
        p50, p95 = _percentiles(latencies)
        rows.append(
            (
                f"GET /v1/voices, concurrency {concurrency}",
                f"{p50 * 1000:.2f} ms",
                f"{p95 * 1000:.2f} ms",
                f"{count} requests, {count / elapsed:.0f} req/s",
            )
        )
    return rows


def _sample_rss(read: Callable[[], int], stop: threading.Event, samples: list[int]) -> None:
    while not stop.is_set():
        samples.append(read())
        time.sleep(RSS_SAMPLE_SECONDS)


def bench_upload(server: Server, headers: dict, folder: Path) -> list[tuple]:
    big = folder / "big.wav"
    with big.open("wb") as out:  # not audio: the server spools it, then rejects it
        for _ in range(UPLOAD_BYTES // 1_000_000):
            out.write(os.urandom(1_000_000))
    baseline = statistics.median(server.rss for _ in range(20))
    samples: list[int] = []
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_rss, args=(lambda: server.rss, stop, samples))
    sampler.start()
    start = time.perf_counter()
    with big.open("rb") as body:
        response = httpx.post(
            f"{server.url}/v1/voices",
            headers=headers,
            data={"name": "big"},
            files={"files": ("big.wav", body, "audio/wav")},
            timeout=300,
        )
    elapsed = time.perf_counter() - start
    stop.set()
    sampler.join()
    growth = (max(samples) - baseline) / 2**20
    return [
        (
            "server RSS growth, 50 MB upload",
            f"{growth:.1f} MiB",
            "",
            f"peak {max(samples) / 2**20:.0f} MiB over {baseline / 2**20:.0f} MiB; "
            f"{len(samples)} samples in {elapsed:.2f} s; HTTP {response.status_code} "
            f"{response.json()['error']['code'] if response.is_error else ''}",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10, help="speech requests per route")
    parser.add_argument("--metadata-requests", type=int, default=2000)
    parser.add_argument(
        "--streams", type=int, nargs="*", default=[4, 16], help="concurrent live streams"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="voiceclone-bench-") as tmp:
        folder = Path(tmp)
        server = Server(folder)
        token = server.create_key("bench")
        headers = {"Authorization": f"Bearer {token}"}
        server.start()
        try:
            upload = bench_upload(server, headers, folder)  # first, on a fresh server
            reference = _reference_recording()
            with reference.open("rb") as wav:
                voice = httpx.post(
                    f"{server.url}/v1/voices",
                    headers=headers,
                    data={"name": "bench voice", "consent": "true"},
                    files={"files": (reference.name, wav, "audio/wav")},
                    timeout=300,
                )
            voice.raise_for_status()
            voice_id = voice.json()["id"]
            rows = [
                *bench_first_byte(server, headers, voice_id, reference, args.requests),
                *bench_live_streams(server, headers, voice_id, args.streams),
                *bench_metadata(server, headers, args.metadata_requests),
                *upload,
            ]
        finally:
            server.stop()

    table = Table(
        "measure", "p50", "p95", "notes", title=f"voiceclone service ({os.cpu_count()} CPUs)"
    )
    for row in rows:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
