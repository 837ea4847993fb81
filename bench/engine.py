"""Engine benchmark: time to first chunk, real-time factor, voice creation, peak RSS, and
the quality of what was said.

Runs voiceclone's Kokoro engine, plain kokoro-onnx (its own streaming), and kokoro-onnx
the way a typical server drives it (sentence by sentence, as Kokoro-FastAPI does) — same
int8 model — in separate processes, one after the other; prints one table. Speed is timed
with a voice cloned from a 10 s recording (voiceclone) or the stock voice (the others).
Quality compares like with like: every system speaks each text once in the same stock
voice, and DNSMOS (Microsoft's non-intrusive MOS predictor, P.835 overall and P.808; the
models ship in the ``speechmos`` package) scores the whole utterance, after the children
have exited so that it does not count in their RSS.

    python bench/engine.py [--runs 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

TEXTS = {
    "en": (
        "en-us",
        "Welcome to the evening news. Heavy rain is expected across the north tonight, "
        "so please drive carefully and allow extra time for your journey. "
        "Tomorrow will be brighter, with sunshine in most places by the afternoon. "
        "Temperatures will reach around eighteen degrees, a little warmer than today.",
    ),
    "ko": (
        "ko",
        "안녕하세요, 저녁 뉴스입니다. 오늘 밤 북부 지역에는 많은 비가 예상됩니다. "
        "운전하실 때 조심하시고 여유 있게 출발하시기 바랍니다. "
        "내일은 대부분 지역에서 오후부터 맑아지겠습니다.",
    ),
}
REFERENCE_SECONDS = 10.0
DNSMOS_RATE = 16_000
BASELINE_VOICE = "af_heart"


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(first_chunk_and_total: Callable[[], tuple[float, float, float]], runs: int) -> dict:
    first_chunk_and_total()  # warm up
    firsts, rtfs = [], []
    for _ in range(runs):
        first, total, audio_seconds = first_chunk_and_total()
        firsts.append(first)
        rtfs.append(total / audio_seconds)
    return {
        "ttfc_p50_ms": _percentile(firsts, 50) * 1000,
        "ttfc_p95_ms": _percentile(firsts, 95) * 1000,
        "rtf": statistics.median(rtfs),
    }


def _timed_stream(chunks: Callable[[], Iterator[np.ndarray]], rate: int):
    def run() -> tuple[float, float, float]:
        start = time.perf_counter()
        first, samples = None, 0
        for chunk in chunks():
            if first is None:
                first = time.perf_counter() - start
            samples += len(chunk)
        return first or 0.0, time.perf_counter() - start, samples / rate

    return run


def _save_quality_audio(speak: Callable[[str, str], np.ndarray], audio_dir: Path) -> None:
    """Each text spoken whole in the stock voice, for the parent to score."""
    for key, (language, text) in TEXTS.items():
        np.save(audio_dir / f"{key}.npy", speak(text, language).astype(np.float32))


def bench_voiceclone(runs: int, audio_dir: Path) -> dict:
    from voiceclone.assets.paths import require_eval_assets
    from voiceclone.audio.decode import decode_audio
    from voiceclone.engines.base import VoiceSample
    from voiceclone.engines.kokoro import KokoroEngine

    paths = require_eval_assets()
    engine = KokoroEngine(paths)
    reference = sorted(paths.refvoices_dir.glob("en_*.wav"))[0]
    audio = decode_audio(reference, engine.sample_rate)
    target = int(REFERENCE_SECONDS * engine.sample_rate)
    audio = np.resize(audio, target)  # loop the clip to exactly 10 s
    engine.stock_embeddings()  # cached once per install; not part of per-voice cost
    creations = []
    voice = None
    for _ in range(max(3, runs // 3)):
        start = time.perf_counter()
        voice = engine.create_voice([VoiceSample(audio, engine.sample_rate)], ["en-us"])
        creations.append(time.perf_counter() - start)
    results = {"voice_creation_s": statistics.median(creations)}
    for key, (language, text) in TEXTS.items():
        stream = _timed_stream(
            lambda text=text, language=language: (
                c.samples for c in engine.synthesize(text, voice, language)
            ),
            engine.sample_rate,
        )
        results[key] = _measure(stream, runs)
    results["peak_rss_mb"] = _peak_rss_mb()
    stock = engine.stock_voice(BASELINE_VOICE)
    _save_quality_audio(lambda t, lang: engine.synthesize_all(t, stock, lang), audio_dir)
    return results


def _kokoro_onnx():
    """Plain kokoro-onnx on the same int8 model, with the baseline stock voice."""
    from kokoro_onnx import Kokoro

    from voiceclone.assets.paths import require_eval_assets

    paths = require_eval_assets()
    with tempfile.TemporaryDirectory() as tmp:
        voices = Path(tmp) / "voices.npz"
        style = np.fromfile(paths.voice_file(BASELINE_VOICE), "<f4").reshape(-1, 1, 256)
        np.savez(voices, **{BASELINE_VOICE: style})
        return Kokoro(str(paths.kokoro_model), str(voices))


def _measure_texts(
    stream: Callable[[str, str], Iterator[np.ndarray]], runs: int, audio_dir: Path
) -> dict:
    results: dict = {"voice_creation_s": None}
    for key, (language, text) in TEXTS.items():
        timed = _timed_stream(lambda t=text, lang=language: stream(t, lang), 24_000)
        results[key] = _measure(timed, runs)
    results["peak_rss_mb"] = _peak_rss_mb()
    _save_quality_audio(lambda t, lang: np.concatenate(list(stream(t, lang))), audio_dir)
    return results


def bench_kokoro_onnx(runs: int, audio_dir: Path) -> dict:
    """kokoro-onnx's own streaming (``create_stream``)."""
    kokoro = _kokoro_onnx()

    def stream(text: str, language: str) -> Iterator[np.ndarray]:
        agen = kokoro.create_stream(text, BASELINE_VOICE, lang=language)
        loop = asyncio.new_event_loop()
        try:
            while True:
                try:
                    samples, _ = loop.run_until_complete(agen.__anext__())
                except StopAsyncIteration:
                    return
                yield samples
        finally:
            loop.close()

    return _measure_texts(stream, runs, audio_dir)


def bench_kokoro_onnx_by_sentence(runs: int, audio_dir: Path) -> dict:
    """The way a typical server uses kokoro-onnx (as Kokoro-FastAPI does): the text cut
    into sentences, each synthesised whole and sent when done."""
    kokoro = _kokoro_onnx()

    def stream(text: str, language: str) -> Iterator[np.ndarray]:
        for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
            samples, _ = kokoro.create(sentence, BASELINE_VOICE, lang=language)
            yield samples

    return _measure_texts(stream, runs, audio_dir)


SYSTEMS = {
    "voiceclone": bench_voiceclone,
    "kokoro-onnx": bench_kokoro_onnx,
    "kokoro-onnx, by sentence": bench_kokoro_onnx_by_sentence,
}


def _run_child(system: str, runs: int, audio_dir: Path) -> dict:
    audio_dir.mkdir()
    command = [sys.executable, __file__, "--system", system, "--runs", str(runs)]
    command += ["--audio-dir", str(audio_dir)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    results = json.loads(output.strip().splitlines()[-1])
    results.update(_dnsmos_scores(audio_dir))
    return results


def _dnsmos_scores(audio_dir: Path) -> dict:
    """DNSMOS of each text's audio (resampled to the model's 16 kHz)."""
    import soxr
    from speechmos import dnsmos

    scores = {}
    for key in TEXTS:
        audio = soxr.resample(np.load(audio_dir / f"{key}.npy"), 24_000, DNSMOS_RATE)
        result = dnsmos.run(audio.astype(np.float32), DNSMOS_RATE)
        scores[f"{key}_dnsmos"] = {"ovrl": result["ovrl_mos"], "p808": result["p808_mos"]}
    return scores


def _print_table(results: dict[str, dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Engine benchmark (2-core CPU)")
    table.add_column("metric")
    for system in results:
        table.add_column(system, justify="right")

    def row(label: str, get: Callable[[dict], float | None], fmt: str) -> None:
        cells = []
        for data in results.values():
            value = get(data)
            cells.append("—" if value is None else format(value, fmt))
        table.add_row(label, *cells)

    for key in TEXTS:
        row(f"{key}: first chunk p50 (ms)", lambda d, k=key: d[k]["ttfc_p50_ms"], ".0f")
        row(f"{key}: first chunk p95 (ms)", lambda d, k=key: d[k]["ttfc_p95_ms"], ".0f")
        row(f"{key}: real-time factor", lambda d, k=key: d[k]["rtf"], ".3f")
        row(f"{key}: DNSMOS overall", lambda d, k=key: d[f"{k}_dnsmos"]["ovrl"], ".2f")
        row(f"{key}: DNSMOS P.808", lambda d, k=key: d[f"{k}_dnsmos"]["p808"], ".2f")
    row("voice creation, 10 s ref (s)", lambda d: d["voice_creation_s"], ".2f")
    row("peak RSS (MB)", lambda d: d["peak_rss_mb"], ".0f")
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--system", choices=sorted(SYSTEMS))  # one system, in this process
    parser.add_argument("--audio-dir", type=Path)  # where that system leaves its audio
    args = parser.parse_args()
    if args.system:
        print(json.dumps(SYSTEMS[args.system](args.runs, args.audio_dir)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        audio_dirs = {system: Path(tmp) / f"system-{n}" for n, system in enumerate(SYSTEMS)}
        results = {system: _run_child(system, args.runs, audio_dirs[system]) for system in SYSTEMS}
    _print_table(results)


if __name__ == "__main__":
    main()
