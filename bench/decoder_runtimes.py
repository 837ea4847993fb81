"""Which runtime, graph and thread count decodes Kokoro fastest on this CPU?

The decoder (Kokoro's vocoder) is most of the engine's compute. This times it on the
predicted speech frames of one sentence, each way in turn, in this process:

* runtime: onnxruntime (the engine's), or OpenVINO's own runtime reading the same ONNX file
  (onnxruntime-openvino's execution provider fails to compile this graph);
* graph: the engine's (the generator's convolutions in int8) or all-float convolutions
  (``optimize_kokoro(quantize=False)``, derived into a temporary folder);
* threads: one, or all cores.

For each it prints the first window (``FIRST_WINDOW`` frames, what first audio waits for
at the least), milliseconds per frame over the whole sentence, the decoder's real-time
factor, and the mean log-mel difference from onnxruntime's float decode over the speech.
onnxruntime draws the harmonic source's noise the same on every call, so its int8 row
differs from its float one by rounding alone; OpenVINO draws other noise, so its float
row (the same maths) is the floor for its int8 row.

A second table runs the whole engine on a paragraph, one stream and one per core at once:
one decoder on all cores (``VOICECLONE_ENGINE_SLOTS=1``), one decoder on one thread
(``VOICECLONE_ONNX_THREADS=1``), and the default, which decodes a lone stream on all cores
and several side by side on their share of the threads: seconds of audio made per second
in all, each stream's real-time factor and its first chunk.

    python bench/decoder_runtimes.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import openvino
import soxr
from rich.console import Console
from rich.table import Table
from timing import median_seconds

from voiceclone.cloning.embedder import SAMPLE_RATE as MEL_RATE
from voiceclone.cloning.embedder import log_mel_frames
from voiceclone.engines.kokoro.engine import SAMPLE_RATE, KokoroEngine
from voiceclone.engines.kokoro.offline.graph import optimize_kokoro, split_kokoro
from voiceclone.engines.kokoro.sessions import CPU_PROVIDER, decoder_feeds, session_options
from voiceclone.settings import Settings

SENTENCE = "The morning light came slowly over the hills, and the quiet village began to wake."
PARAGRAPH = (
    "Welcome to the evening news. Heavy rain is expected across the north tonight, so "
    "please drive carefully and allow extra time for your journey. Tomorrow will be "
    "brighter, with sunshine in most places by the afternoon."
)
VOICE = "af_heart"
FIRST_WINDOW = 16  # frames: 0.4 s of audio
FRAME_SECONDS = 0.025
SPEECH_RANGE_DB = 40.0  # log-mel frames within this of the loudest count as speech

Decode = Callable[[dict[str, np.ndarray]], np.ndarray]


def _cores() -> int:
    return os.cpu_count() or 1


def onnxruntime_decoder(path: Path, threads: int) -> Decode:
    session = ort.InferenceSession(str(path), session_options(threads), providers=[CPU_PROVIDER])
    return lambda feeds: session.run(None, feeds)[0]


def openvino_decoder(path: Path, threads: int) -> Decode:
    core = openvino.Core()
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    request = core.compile_model(core.read_model(str(path)), "CPU", config).create_infer_request()
    return lambda feeds: next(iter(request.infer(feeds).values()))


@dataclass
class Frames:
    """The predictor's hand-over for one sentence, and its speech frames [start, stop)."""

    curves: list[np.ndarray]
    style: np.ndarray
    start: int
    stop: int

    @classmethod
    def predicted(cls, engine: KokoroEngine, text: str) -> Frames:
        tokens = engine._tokens(engine._phonemizer.phonemize(text, "en-us"))
        style = engine._style_row(engine.stock_style(VOICE), len(tokens)).astype(np.float32)
        assert engine._predictor is not None
        *curves, durations = engine._predictor.run(
            None, engine._predictor_inputs(tokens, style, 1.0)
        )
        return cls(curves, style, *engine._speech_range(tokens, durations))

    @property
    def count(self) -> int:
        return self.stop - self.start

    def feeds(self, frames: int | None = None) -> dict[str, np.ndarray]:
        """The decoder's inputs for the first ``frames`` speech frames (default: all)."""
        stop = self.stop if frames is None else self.start + frames
        return decoder_feeds(self.curves, self.start, stop) | {"style": self.style}


def log_mel_difference_db(audio: np.ndarray, reference: np.ndarray) -> float:
    ours = log_mel_frames(soxr.resample(audio.reshape(-1), SAMPLE_RATE, MEL_RATE))
    theirs = log_mel_frames(soxr.resample(reference.reshape(-1), SAMPLE_RATE, MEL_RATE))
    count = min(len(ours), len(theirs))
    ours, theirs = 10 * ours[:count], 10 * theirs[:count]  # log10 power -> dB
    loudness = theirs.mean(axis=1)
    speech = loudness > loudness.max() - SPEECH_RANGE_DB
    return float(np.abs(ours - theirs)[speech].mean())


def decoder_table(engine: KokoroEngine, folder: Path, runs: int) -> Table:
    frames = Frames.predicted(engine, SENTENCE)
    graphs = {"int8 (engine's)": engine.split_model()[1], "float": _float_decoder(engine, folder)}
    runtimes = {"onnxruntime": onnxruntime_decoder, "openvino": openvino_decoder}
    table = Table(
        title=f"Decoder: {frames.count} speech frames ({frames.count * FRAME_SECONDS:.1f} s)"
    )
    for column in ("runtime", "graph", "threads", f"first {FIRST_WINDOW} frames", "per frame"):
        table.add_column(column)
    for column in ("decoder RTF", "log-mel Δ vs onnxruntime float"):
        table.add_column(column, justify="right")
    reference = onnxruntime_decoder(graphs["float"], _cores())(frames.feeds())
    for runtime, make in runtimes.items():
        for graph, path in graphs.items():
            for threads in sorted({1, _cores()}):
                table.add_row(
                    runtime,
                    graph,
                    str(threads),
                    *_timed(make(path, threads), frames, reference, runs),
                )
    return table


def _timed(decode: Decode, frames: Frames, reference: np.ndarray, runs: int) -> list[str]:
    whole = median_seconds(lambda: decode(frames.feeds()), runs)
    first = median_seconds(lambda: decode(frames.feeds(FIRST_WINDOW)), runs)
    difference = log_mel_difference_db(decode(frames.feeds()), reference)
    return [
        f"{first * 1000:.0f} ms",
        f"{whole * 1000 / frames.count:.1f} ms",
        f"{whole / (frames.count * FRAME_SECONDS):.3f}",
        f"{difference:.2f} dB",
    ]


def _float_decoder(engine: KokoroEngine, folder: Path) -> Path:
    whole, predictor, decoder = (folder / f"float{part}.onnx" for part in ("", "-p", "-d"))
    optimize_kokoro(engine.paths.kokoro_model, whole, quantize=False)
    split_kokoro(whole, predictor, decoder)
    return decoder


def _streams(engine: KokoroEngine, count: int) -> tuple[float, list[float], list[float]]:
    """(audio seconds per second in all, each stream's RTF, each first chunk's seconds)."""
    voice = engine.stock_voice(VOICE)
    results: list[tuple[float, float, float]] = []

    def stream() -> None:
        start, first, audio = time.perf_counter(), 0.0, 0.0
        for chunk in engine.synthesize(PARAGRAPH, voice, "en-us"):
            first = first or time.perf_counter() - start
            audio += chunk.duration
        results.append((audio, time.perf_counter() - start, first))

    threads = [threading.Thread(target=stream) for _ in range(count)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    total = sum(audio for audio, _, _ in results)
    return total / wall, [t / a for a, t, _ in results], [f for _, _, f in results]


def engine_table(runs: int) -> Table:
    table = Table(title="Engine: concurrent streams of a 3-sentence paragraph")
    for column in (
        "layout",
        "streams at once",
        "audio s per s, all",
        "RTF per stream",
        "first chunk",
    ):
        table.add_column(column, justify="right" if column != "layout" else "left")
    cores = _cores()
    layouts = [  # (name, onnx_threads, engine_slots, streams)
        (f"one decoder on {cores} threads", cores, 1, 1),
        (f"one decoder on {cores} threads", cores, 1, cores),
        ("one decoder on 1 thread", 1, cores, 1),
        ("one decoder on 1 thread", 1, cores, cores),
        (f"default: {cores} threads alone, else 1 each", cores, cores, 1),
        (f"default: {cores} threads alone, else 1 each", cores, cores, cores),
    ]
    for name, threads, slots, streams in layouts:
        engine = KokoroEngine(settings=Settings(onnx_threads=threads, engine_slots=slots))
        engine.warm_up()
        _streams(engine, streams)  # warm up at these lengths
        measured = [_streams(engine, streams) for _ in range(runs)]
        rate, rtfs, firsts = sorted(measured, key=lambda m: m[0])[len(measured) // 2]
        table.add_row(
            name,
            str(streams),
            f"{rate:.2f}",
            " / ".join(f"{r:.2f}" for r in rtfs),
            " / ".join(f"{f * 1000:.0f} ms" for f in firsts),
        )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="timed runs per decoder row")
    args = parser.parse_args()
    console = Console(width=140)
    console.print(
        f"onnxruntime {ort.__version__}, OpenVINO {openvino.__version__}, {_cores()} cores"
    )
    engine = KokoroEngine()
    with tempfile.TemporaryDirectory(prefix="voiceclone-decoders-") as tmp:
        console.print(decoder_table(engine, Path(tmp), args.runs))
    del engine
    console.print(engine_table(args.runs))


if __name__ == "__main__":
    main()
