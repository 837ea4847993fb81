"""Server memory under a burst of voice uploads: peak RSS with the analysis slots bounded,
beside all uploads analysed at once (as before the bound).

A ``voiceclone serve`` process (Kokoro, models from the installed home) takes N real
recordings uploaded at the same moment; its RSS is sampled every 50 ms.

    python bench/upload_burst.py                 # 20 uploads; slots 2 (the default) and 20
    python bench/upload_burst.py --uploads 10 --slots 1 4
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
from rich.console import Console
from rich.table import Table

from voiceclone.assets.paths import require_engine_assets

MIB = 2**20
SAMPLE_SECONDS = 0.05


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(slots: int, home: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    models = require_engine_assets().home
    env = {
        **os.environ,
        "VOICECLONE_HOME": str(home),
        "VOICECLONE_MODELS_DIR": str(models),
        "VOICECLONE_VOICE_ANALYSIS_SLOTS": str(slots),
        "VOICECLONE_LIVE_ADMISSION": "false",
    }
    command = [sys.executable, "-m", "voiceclone.cli"]
    created = subprocess.run(
        [*command, "keys", "create", "--owner", "bench"], env=env, capture_output=True, text=True
    )
    token = created.stdout.split()[-1]
    port = free_port()
    server = subprocess.Popen(
        [*command, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return server, url, token
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise RuntimeError("the server did not become ready")


def burst(slots: int, recordings: list[Path]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        server, url, token = start_server(slots, Path(home))
        process = psutil.Process(server.pid)
        before = peak = process.memory_info().rss
        done = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, process.memory_info().rss)
                time.sleep(SAMPLE_SECONDS)

        def upload(path: Path) -> int:
            return httpx.post(
                f"{url}/v1/voices",
                headers={"Authorization": f"Bearer {token}"},
                data={"name": path.stem, "consent": "true"},
                files={"files": (path.name, path.read_bytes(), "audio/wav")},
                timeout=600,
            ).status_code

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = time.monotonic()
        with ThreadPoolExecutor(len(recordings)) as pool:
            statuses = list(pool.map(upload, recordings))
        took = time.monotonic() - started
        done.set()
        watcher.join()
        after = process.memory_info().rss
        server.terminate()
        server.wait(timeout=60)
    return {
        "created": statuses.count(201),
        "before": before / MIB,
        "peak": peak / MIB,
        "after": after / MIB,
        "seconds": took,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--slots", type=int, nargs="+", default=[2, 20])
    args = parser.parse_args(argv)
    paths = require_engine_assets()
    recordings = [paths.refvoice_file(n) for n in paths.refvoice_names()][: args.uploads]
    table = Table(title=f"{len(recordings)} voice uploads at once: server RSS (MiB)")
    for column in ("analysis slots", "created", "before", "peak", "after", "all done (s)"):
        table.add_column(column, justify="right")
    for slots in args.slots:
        row = burst(slots, recordings)
        table.add_row(
            str(slots),
            f"{row['created']:.0f}/{len(recordings)}",
            f"{row['before']:.0f}",
            f"{row['peak']:.0f}",
            f"{row['after']:.0f}",
            f"{row['seconds']:.1f}",
        )
    Console(width=160).print(table)
    print("Command: python bench/upload_burst.py " + " ".join(argv or sys.argv[1:]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
