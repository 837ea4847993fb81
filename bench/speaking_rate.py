"""Would matching a speaker's speaking rate bring clones nearer them? An upper bound first.

Each real speaker is cloned from the whole clip (``auto``, as the service ships), and the
clone speaks the English sentences of ``bench/quality.py`` at each ``--speeds`` factor.
The table gives, per speed, resemblyzer SIM against the clean clip, identification among
all real speakers (top-1, mean rank) and the clones' syllable rate; then the oracle row,
each speaker at the speed that gave that speaker the highest SIM, the most any per-voice
speed could give. Last, how well the rate gap (the clip's syllable rate over the clone's
at speed 1) predicts the speed the oracle picked: a rate-matching method can only win what
that gap foretells.

Syllable rate: peaks of the 300-3000 Hz loudness envelope (at least 4 dB prominent, 80 ms
apart) per second of frames within 35 dB of the loudest; rough, language-blind, and the
same for the clip and the clone.

    python bench/speaking_rate.py --split dev --every 3
"""

from __future__ import annotations

import argparse
import statistics
from dataclasses import dataclass

import numpy as np
import scipy.signal
from quality import EN_SENTENCES, SAMPLE_RATE, Judges, load_clip, rank_of
from rich.console import Console
from rich.table import Table
from splits import speakers_in

from voiceclone.assets.paths import require_eval_assets
from voiceclone.engines.base import VoiceSample
from voiceclone.engines.kokoro import KokoroEngine
from voiceclone.settings import Settings

BAND_HZ = (300, 3000)
FRAMES_PER_SECOND = 100
PEAK_PROMINENCE_DB = 4
PEAK_DISTANCE_FRAMES = 8
SPEECH_RANGE_DB = 35


@dataclass
class SpokenAt:
    sim: float
    rank: int
    syllable_rate: float


def syllable_rate(audio: np.ndarray, rate: int) -> float:
    """Loudness peaks in the speech band per second of speech (see the module's doc)."""
    sos = scipy.signal.butter(4, BAND_HZ, btype="band", fs=rate, output="sos")
    band = scipy.signal.sosfiltfilt(sos, audio)
    hop = rate // FRAMES_PER_SECOND
    frames = len(band) // hop
    envelope = np.sqrt(np.mean(band[: frames * hop].reshape(frames, hop) ** 2, axis=1))
    window = np.hanning(7)
    level_db = 20 * np.log10(np.convolve(envelope, window / window.sum(), mode="same") + 1e-6)
    speech = level_db > level_db.max() - SPEECH_RANGE_DB
    peaks, _ = scipy.signal.find_peaks(
        level_db, prominence=PEAK_PROMINENCE_DB, distance=PEAK_DISTANCE_FRAMES
    )
    return sum(bool(speech[p]) for p in peaks) / (speech.sum() / FRAMES_PER_SECOND)


def speak_at(
    engine: KokoroEngine,
    judges: Judges,
    voice,
    name: str,
    speed: float,
    sentences: tuple[str, ...],
    pool: dict[str, np.ndarray],
) -> SpokenAt:
    spoken = [engine.synthesize_all(s, voice, language="en-us", speed=speed) for s in sentences]
    embeddings = [judges.embed(audio, SAMPLE_RATE) for audio in spoken]
    mean = np.mean(embeddings, axis=0)
    mean /= np.linalg.norm(mean) + 1e-12
    return SpokenAt(
        sim=statistics.fmean(float(e @ pool[name]) for e in embeddings),
        rank=rank_of(mean, name, pool),
        syllable_rate=syllable_rate(np.concatenate(spoken), SAMPLE_RATE),
    )


def print_report(
    console: Console, speeds: tuple[float, ...], heard: dict[str, dict[float, SpokenAt]]
) -> None:
    table = Table(title=f"{len(heard)} speakers, cloned from the whole clip (auto)")
    for column in ("speed", "SIM", "top-1", "mean rank", "syllables/s"):
        table.add_column(column, justify="right")
    for speed in speeds:
        rows = [by_speed[speed] for by_speed in heard.values()]
        table.add_row(
            f"{speed:g}",
            f"{statistics.fmean(r.sim for r in rows):.3f}",
            f"{statistics.fmean(r.rank == 1 for r in rows):.2f}",
            f"{statistics.fmean(r.rank for r in rows):.2f}",
            f"{statistics.fmean(r.syllable_rate for r in rows):.2f}",
        )
    best = [max(by_speed.values(), key=lambda r: r.sim) for by_speed in heard.values()]
    table.add_row(
        "oracle",
        f"{statistics.fmean(r.sim for r in best):.3f}",
        f"{statistics.fmean(r.rank == 1 for r in best):.2f}",
        f"{statistics.fmean(r.rank for r in best):.2f}",
        "",
    )
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("held-out", "dev", "all"), default="dev")
    parser.add_argument("--every", type=int, default=1, help="Every Nth speaker of the split.")
    parser.add_argument("--speeds", default="0.85,1,1.15")
    parser.add_argument("--sentences", type=int, default=3, help=f"max {len(EN_SENTENCES)}")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    speeds = tuple(float(s) for s in args.speeds.split(","))
    if 1.0 not in speeds:
        parser.error("--speeds must include 1 (the clone as it speaks now)")

    console = Console(width=160)
    paths = require_eval_assets()
    engine = KokoroEngine(paths, Settings(onnx_threads=args.threads))
    judges = Judges(paths, args.threads)
    clips = {name: load_clip(paths, name) for name, _ in speakers_in(paths.refvoice_names())}
    pool = {name: judges.embed(audio, SAMPLE_RATE) for name, audio in clips.items()}
    names = [name for name, _ in speakers_in(paths.refvoice_names(), split=args.split)]
    sentences = EN_SENTENCES[: args.sentences]
    heard: dict[str, dict[float, SpokenAt]] = {}
    gaps: dict[str, float] = {}
    for name in names[:: args.every]:
        sample = VoiceSample(clips[name], SAMPLE_RATE, name=name)
        voice = engine.create_voice([sample], ["en-us"], method="auto")
        heard[name] = {
            speed: speak_at(engine, judges, voice, name, speed, sentences, pool) for speed in speeds
        }
        gaps[name] = syllable_rate(clips[name], SAMPLE_RATE) / heard[name][1.0].syllable_rate
        console.print(f"{name}: rate gap {gaps[name]:.2f}")
    print_report(console, speeds, heard)
    picked = [max(speeds, key=lambda s: heard[n][s].sim) for n in heard]
    correlation = float(np.corrcoef([gaps[n] for n in heard], picked)[0, 1])
    console.print(f"Correlation of the rate gap with the oracle's speed: {correlation:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
