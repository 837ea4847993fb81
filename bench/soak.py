"""Soak: mixed load on a ``voiceclone serve`` process for ``--minutes`` (default 10), printing
per minute the server's RSS, its open files, latency percentiles per kind of request and
the answers that were not successes, so that growth (a leak, files left open, a slowdown)
shows as a trend rather than a single number.

The load, all at once, over loopback:

* voices: one upload every ``--upload-every`` seconds (a real reference clip, consent
  given), the oldest voice deleted once five exist;
* jobs: one at a time, a short text queued, polled to the end, its audio fetched, deleted;
* live streams: one at a time over HTTP (``POST /v1/speech``, pcm), read to the end;
* WebSocket: one utterance every ``--ws-every`` seconds (config, text, flush, end);
* metadata: ``GET /v1/voices`` and ``GET /v1/jobs`` about ten times a second.

    python bench/soak.py [--minutes 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import psutil
import websockets
from rich.console import Console
from rich.table import Table
from service import Server, _reference_recording

JOB_TEXT = "The soak test queues a short job. It is spoken, stored, fetched and deleted."
LIVE_TEXT = "A live stream during the soak test, read to its end."
WS_TEXT = "Text arriving over a socket, spoken as it comes."
KEPT_VOICES = 5
SAMPLE_SECONDS = 5.0
METADATA_PAUSE_SECONDS = 0.1


@dataclass
class Minute:
    rss_mib: list[float] = field(default_factory=list)
    open_files: list[int] = field(default_factory=list)
    latency_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    busy: int = 0


class Soak:
    def __init__(self, server: Server, key: str, minutes: float) -> None:
        self.server = server
        self.headers = {"Authorization": f"Bearer {key}"}
        self.started = time.monotonic()
        self.ends = self.started + minutes * 60
        self.minutes: dict[int, Minute] = defaultdict(Minute)

    @property
    def running(self) -> bool:
        return time.monotonic() < self.ends

    async def pause(self, seconds: float) -> None:
        """Sleep, but not past the end of the soak."""
        await asyncio.sleep(max(0.0, min(seconds, self.ends - time.monotonic())))

    def _now(self) -> Minute:
        return self.minutes[int((time.monotonic() - self.started) // 60)]

    def record(self, kind: str, started: float, status: int) -> None:
        minute = self._now()
        if status == 429:
            minute.busy += 1
        elif status >= 400:
            minute.failures[f"{kind} {status}"] += 1
        else:
            minute.latency_ms[kind].append((time.monotonic() - started) * 1000)

    async def sample(self) -> None:
        process = psutil.Process(self.server.process.pid)  # type: ignore[union-attr]
        while self.running:
            minute = self._now()
            minute.rss_mib.append(process.memory_info().rss / 2**20)
            minute.open_files.append(process.num_fds())
            await self.pause(SAMPLE_SECONDS)

    async def upload_voices(self, client: httpx.AsyncClient, every: float) -> None:
        clip = _reference_recording().read_bytes()
        made: list[str] = []
        while self.running:
            started = time.monotonic()
            response = await client.post(
                "/v1/voices",
                headers=self.headers,
                data={"name": f"soak {len(made)}", "consent": "true"},
                files={"files": ("clip.wav", clip, "audio/wav")},
                timeout=120,
            )
            self.record("upload", started, response.status_code)
            if response.status_code == 201:
                made.append(response.json()["id"])
            while len(made) > KEPT_VOICES:
                started = time.monotonic()
                gone = await client.delete(f"/v1/voices/{made.pop(0)}", headers=self.headers)
                self.record("delete voice", started, gone.status_code)
            await self.pause(every - (time.monotonic() - started))

    async def run_jobs(self, client: httpx.AsyncClient) -> None:
        while self.running:
            started = time.monotonic()
            body = {"voice": "af_heart", "text": JOB_TEXT, "format": "mp3"}
            queued = await client.post("/v1/jobs", headers=self.headers, json=body)
            self.record("job queued", started, queued.status_code)
            if queued.status_code != 202:
                await self.pause(1)
                continue
            job = queued.json()
            while job["status"] in ("queued", "running"):
                await asyncio.sleep(0.25)
                job = (await client.get(f"/v1/jobs/{job['id']}", headers=self.headers)).json()
            self.record("job done", started, 200 if job["status"] == "succeeded" else 500)
            audio = await client.get(f"/v1/jobs/{job['id']}/audio", headers=self.headers)
            self.record("job audio", started, audio.status_code)
            await client.delete(f"/v1/jobs/{job['id']}", headers=self.headers)

    async def stream_live(self, client: httpx.AsyncClient) -> None:
        body = {"voice": "af_heart", "text": LIVE_TEXT, "format": "pcm"}
        while self.running:
            started = time.monotonic()
            async with client.stream(
                "POST", "/v1/speech", headers=self.headers, json=body, timeout=120
            ) as response:
                async for _ in response.aiter_bytes():
                    pass
            self.record("live stream", started, response.status_code)
            if response.status_code == 429:
                await self.pause(float(response.headers.get("retry-after", "1")))

    async def speak_over_websocket(self, every: float) -> None:
        url = self.server.url.replace("http://", "ws://") + "/v1/speech/ws"
        while self.running:
            started = time.monotonic()
            status = 200
            try:
                async with websockets.connect(url, additional_headers=self.headers) as socket:
                    await socket.send(json.dumps({"voice": "af_heart"}))
                    await socket.recv()  # ready
                    await socket.send(WS_TEXT)
                    await socket.send(json.dumps({"type": "flush"}))
                    await socket.send(json.dumps({"type": "end"}))
                    async for frame in socket:
                        if isinstance(frame, str) and json.loads(frame).get("type") == "error":
                            status = 500
            except websockets.ConnectionClosedError:
                status = 500
            self.record("websocket", started, status)
            await self.pause(every - (time.monotonic() - started))

    async def read_metadata(self, client: httpx.AsyncClient) -> None:
        while self.running:
            for path in ("/v1/voices", "/v1/jobs"):
                started = time.monotonic()
                response = await client.get(path, headers=self.headers)
                self.record("metadata", started, response.status_code)
            await self.pause(METADATA_PAUSE_SECONDS)


async def soak(server: Server, key: str, args: argparse.Namespace) -> Soak:
    run = Soak(server, key, args.minutes)
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=60) as client:
        await asyncio.gather(
            run.sample(),
            run.upload_voices(client, args.upload_every),
            run.run_jobs(client),
            run.stream_live(client),
            run.speak_over_websocket(args.ws_every),
            run.read_metadata(client),
        )
    return run


def _p(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.0f}" if values else "-"


def report(run: Soak, console: Console) -> None:
    kinds = sorted({kind for minute in run.minutes.values() for kind in minute.latency_ms})
    table = Table(title="Soak: the server, minute by minute")
    table.add_column("min", justify="right")
    table.add_column("RSS MiB (mean/max)", justify="right")
    table.add_column("open files", justify="right")
    for kind in kinds:
        table.add_column(f"{kind} p50/p95 ms (n)", justify="right")
    table.add_column("429", justify="right")
    table.add_column("not 2xx")
    for index in sorted(run.minutes):
        minute = run.minutes[index]
        cells = [
            str(index + 1),
            f"{statistics.mean(minute.rss_mib):.0f}/{max(minute.rss_mib):.0f}"
            if minute.rss_mib
            else "-",
            str(max(minute.open_files)) if minute.open_files else "-",
        ]
        for kind in kinds:
            values = minute.latency_ms.get(kind, [])
            cells.append(f"{_p(values, 50)}/{_p(values, 95)} ({len(values)})")
        cells.append(str(minute.busy))
        cells.append(", ".join(f"{k}: {v}" for k, v in minute.failures.items()) or "none")
        table.add_row(*cells)
    console.print(table)
    full = [run.minutes[i] for i in sorted(run.minutes) if run.minutes[i].rss_mib]
    if len(full) >= 3:
        second, last = full[1], full[-1]
        growth = statistics.mean(last.rss_mib) - statistics.mean(second.rss_mib)
        files = max(last.open_files) - max(second.open_files)
        console.print(
            f"From minute 2 to minute {len(full)}: RSS {growth:+.0f} MiB, open files {files:+d}."
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--upload-every", type=float, default=20.0, help="seconds")
    parser.add_argument("--ws-every", type=float, default=15.0, help="seconds")
    args = parser.parse_args()
    console = Console(width=240)  # the table, unwrapped, also when the output is a file
    with tempfile.TemporaryDirectory() as folder:
        server = Server(Path(folder))
        key = server.create_key("soak")
        server.start()
        try:
            run = asyncio.run(soak(server, key, args))
        finally:
            server.stop()
    report(run, console)


if __name__ == "__main__":
    main()
