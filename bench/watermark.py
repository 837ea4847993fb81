"""The watermark's robustness, false positives, quality and cost, on real outputs.

Corpus: each voice (stock voices and voices cloned from real recordings) speaks the English
and the Korean bench sentences through the service's own pipeline
(``services.speech.synthesize``: engine chunks, marked chunk by chunk); the same text is
also kept unmarked. Then:

- detection: ``--excerpts`` three-second excerpts of the marked outputs at random offsets,
  each passed through every transform (codecs at the stated bit rates, resampling, the
  8 kHz telephone band 300-3400 Hz, gain with clipping, white noise at 20 dB SNR): the
  share detected and the share whose 16-bit payload decodes exactly;
- false positives: three-second excerpts (0.5 s apart) of every real reference recording
  (all sets) and of the unmarked outputs;
- quality: PESQ (ITU-T P.862.2, wide band) of marked vs unmarked, per output;
- cost: marking time against synthesis time, and the time added to the first chunk.

    python bench/watermark.py                 # the table (about 5 minutes on 2 cores)
    python bench/watermark.py --excerpts 50   # quicker
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import soundfile as sf
import soxr
from pesq import pesq
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from quality import EN_SENTENCES, KO_SENTENCES

from voiceclone.assets.paths import require_eval_assets
from voiceclone.engines.kokoro import SAMPLE_RATE, KokoroEngine
from voiceclone.instance import server_id
from voiceclone.safety.marks import detect_watermark
from voiceclone.safety.watermark import (
    Embedder,
    payload_for,
)
from voiceclone.services.pipeline import SpeechPipeline, SpeechRequest
from voiceclone.services.speech import clone_voice
from voiceclone.settings import get_settings

EXCERPT_SECONDS = 3.0
STOCK_VOICES = ("af_heart", "am_michael", "bf_emma", "am_adam")
CLONED_FROM = ("en_karen", "en_james")
PESQ_RATE = 16_000
NEGATIVE_STEP_SECONDS = 0.5
Audio = tuple[np.ndarray, int]


def _codec(samples: np.ndarray, rate: int, container: str, codec: str, bit_rate: int) -> Audio:
    """Encode with PyAV at ``bit_rate`` and decode again (at 16 kHz)."""
    sink = io.BytesIO()
    codec_rate = 48_000 if codec == "libopus" else rate
    audio = soxr.resample(samples, rate, codec_rate) if codec_rate != rate else samples
    with av.open(sink, "w", format=container) as output:
        stream = output.add_stream(codec, rate=codec_rate, layout="mono")
        stream.bit_rate = bit_rate
        frame = av.AudioFrame.from_ndarray(
            audio.astype(np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate, frame.pts, frame.time_base = codec_rate, 0, Fraction(1, codec_rate)
        for packet in stream.encode(frame):
            output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    sink.seek(0)
    with av.open(sink) as source:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=PESQ_RATE)
        pieces = [
            converted.to_ndarray().reshape(-1)
            for frame in source.decode(source.streams.audio[0])
            for converted in resampler.resample(frame)
        ]
    return np.concatenate(pieces), PESQ_RATE


def _telephone(samples: np.ndarray, rate: int) -> Audio:
    narrow = soxr.resample(samples, rate, 8_000)
    spectrum = np.fft.rfft(narrow)
    frequencies = np.fft.rfftfreq(len(narrow), 1 / 8_000)
    spectrum[(frequencies < 300) | (frequencies > 3_400)] = 0
    return np.fft.irfft(spectrum, n=len(narrow)).astype(np.float32), 8_000


def _noise(samples: np.ndarray, rate: int, snr_db: float = 20.0) -> Audio:
    rng = np.random.default_rng(len(samples))
    level = np.sqrt(np.mean(samples**2) / 10 ** (snr_db / 10))
    return (samples + rng.normal(0, level, len(samples))).astype(np.float32), rate


TRANSFORMS: dict[str, Callable[[np.ndarray, int], Audio]] = {
    "none": lambda x, r: (x, r),
    "mp3 64 kbit/s": lambda x, r: _codec(x, r, "mp3", "libmp3lame", 64_000),
    "opus 24 kbit/s": lambda x, r: _codec(x, r, "ogg", "libopus", 24_000),
    "aac 64 kbit/s": lambda x, r: _codec(x, r, "adts", "aac", 64_000),
    "resampled to 16 kHz": lambda x, r: (soxr.resample(x, r, 16_000), 16_000),
    "8 kHz telephone band": _telephone,
    "gain -6 dB": lambda x, r: (x * 10 ** (-6 / 20), r),
    "gain +6 dB (clipped)": lambda x, r: (np.clip(x * 10 ** (6 / 20), -1, 1), r),
    "white noise, 20 dB SNR": _noise,
}


def build_corpus(engine: KokoroEngine) -> tuple[dict[str, Audio], dict[str, Audio], dict]:
    """Marked and unmarked outputs per voice and language, and the timing of each."""
    paths = require_eval_assets()
    voices = {name: engine.stock_voice(name) for name in STOCK_VOICES}
    for speaker in CLONED_FROM:
        voices[f"clone_{speaker}"] = clone_voice(engine, [paths.refvoice_file(speaker)])
    marked, unmarked, costs = {}, {}, {"synthesis_s": 0.0, "marking_s": 0.0, "first_chunk": []}
    pipeline = SpeechPipeline([engine])
    for name, voice in voices.items():
        for language, sentences in (("en-us", EN_SENTENCES), ("ko", KO_SENTENCES)):
            text = " ".join(sentences)
            start = time.perf_counter()
            chunks = list(engine.synthesize(text, voice, language))
            costs["synthesis_s"] += time.perf_counter() - start
            plain = np.concatenate([chunk.samples for chunk in chunks])
            unmarked[f"{name} {language}"] = (plain, SAMPLE_RATE)
            start = time.perf_counter()
            embedder = Embedder(SAMPLE_RATE, "bench", 0, get_settings().watermark_strength_db)
            first = time.perf_counter()
            embedder.push(chunks[0].samples)
            costs["first_chunk"].append(time.perf_counter() - first)
            for chunk in chunks[1:]:
                embedder.push(chunk.samples)
            embedder.finish()
            costs["marking_s"] += time.perf_counter() - start
            subject = f"bench:{name}:{language}"
            request = SpeechRequest(
                text=text, voice=voice, engine=engine.name, language=language, subject=subject
            )
            marked[f"{name} {language}"] = (
                np.concatenate([chunk.samples for chunk in pipeline.speak(request)]),
                SAMPLE_RATE,
            )
    return marked, unmarked, costs


def excerpts(audio: np.ndarray, rate: int, count: int, rng: np.random.Generator) -> list:
    length = round(EXCERPT_SECONDS * rate)
    starts = rng.integers(0, len(audio) - length, size=count)
    return [audio[start : start + length] for start in starts]


def sliding_excerpts(audio: np.ndarray, rate: int) -> list[np.ndarray]:
    length, step = round(EXCERPT_SECONDS * rate), round(NEGATIVE_STEP_SECONDS * rate)
    return [audio[s : s + length] for s in range(0, len(audio) - length + 1, step)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--excerpts", type=int, default=216, help="marked excerpts (>= 200)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    console = Console()
    settings = get_settings()
    engine = KokoroEngine()
    console.print("Synthesizing the corpus ...")
    marked, unmarked, costs = build_corpus(engine)
    rng = np.random.default_rng(args.seed)
    per_output = -(-args.excerpts // len(marked))
    samples = [
        (excerpt, rate, payload_for(server_id(settings), f"bench:{name.replace(' ', ':')}"))
        for name, (audio, rate) in marked.items()
        for excerpt in excerpts(audio, rate, per_output, rng)
    ]

    detection = Table(title=f"Detection on {len(samples)} three-second excerpts of marked output")
    for column in ("transform", "detected", "payload exact", "min score", "median score"):
        detection.add_column(column)
    for name, transform in TRANSFORMS.items():
        found = [
            (detect_watermark(*transform(excerpt, rate), settings), payload)
            for excerpt, rate, payload in samples
        ]
        scores = [result.score for result, _ in found]
        detection.add_row(
            name,
            f"{np.mean([result.detected for result, _ in found]):.1%}",
            f"{np.mean([result.payload == payload for result, payload in found]):.1%}",
            f"{min(scores):.1f}",
            f"{statistics.median(scores):.1f}",
        )
    console.print(detection)

    paths = require_eval_assets()
    real = []
    for path in sorted(paths.refvoices_dir.glob("*.wav")):
        audio, rate = sf.read(path, dtype="float32")
        real.extend((excerpt, rate) for excerpt in sliding_excerpts(audio, rate))
    engine_plain = [
        (excerpt, rate)
        for audio, rate in unmarked.values()
        for excerpt in sliding_excerpts(audio, rate)
    ]
    negatives = Table(title="False positives (unmarked three-second excerpts)")
    for column in ("source", "excerpts", "detected", "max score"):
        negatives.add_column(column)
    groups = (("real speech, all reference sets", real), ("engine output", engine_plain))
    for label, group in groups:
        results = [detect_watermark(excerpt, rate, settings) for excerpt, rate in group]
        negatives.add_row(
            label,
            str(len(group)),
            f"{sum(r.detected for r in results)} ({np.mean([r.detected for r in results]):.2%})",
            f"{max(r.score for r in results):.2f}",
        )
    console.print(negatives)

    scores = [
        pesq(
            PESQ_RATE,
            soxr.resample(unmarked[name][0], SAMPLE_RATE, PESQ_RATE),
            soxr.resample(marked[name][0], SAMPLE_RATE, PESQ_RATE),
            "wb",
        )
        for name in marked
    ]
    quality = Table(title="Quality and cost")
    quality.add_column("measure")
    quality.add_column("value")
    quality.add_row("PESQ wide band, marked vs unmarked: min", f"{min(scores):.2f}")
    quality.add_row("PESQ wide band: mean", f"{statistics.mean(scores):.2f}")
    quality.add_row(
        "marking time / synthesis time", f"{costs['marking_s'] / costs['synthesis_s']:.2%}"
    )
    quality.add_row(
        "added to the first chunk (median, max)",
        f"{statistics.median(costs['first_chunk']) * 1000:.1f} ms, "
        f"{max(costs['first_chunk']) * 1000:.1f} ms",
    )
    quality.add_row(
        "settings",
        f"strength {settings.watermark_strength_db} dB, threshold {settings.watermark_threshold}",
    )
    console.print(quality)


if __name__ == "__main__":
    main()
