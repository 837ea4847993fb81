"""Cloning quality on real voices, measured with models the cloning step never used.

For each reference speaker (the real human voices installed with the models: ``en_*``, 21
speakers, and ``de_*``, 47 speakers) the clip is validated and normalised like an upload,
then cut in two halves at the quietest point near its middle:

- the reference every method clones from, and that SIM is measured against, is the whole
  clip (``--reference full``, the default: 3.5-6.5 s, as a user would upload; the service
  needs at least 3 s of speech) or half A (``--reference half``: 1.7-3.2 s, stricter);
- half B is a second real clip of the same speaker: ``SIM(B, A)`` is the ceiling (the
  only second clip there is, so it is half against half in both modes);
- ``--reference cut3`` clones from the clip's first 3 s and ``--reference phone`` from the
  whole clip through an 8 kHz band, mp3 at 32 kbit/s and noise 25 dB down (a phone call);
  SIM is against the clean clip.

Methods: ``nearest`` (the stock voice whose d-vector is nearest), ``blend``
(stock-blend-v1, without timbre matching: the first cloning method as it shipped),
``encoder`` (style-encoder-v1 as configured: the default refinement budget and timbre
matching strength).
Each voice speaks held-out sentences (never used to train or refine anything) and is
scored with

- SIM: cosine of resemblyzer utterance embeddings, generated sentence vs. reference, averaged
  over sentences (resemblyzer is independent of the d-vector model cloning uses);
- WER (English) and CER (Korean): faster-whisper "base", greedy decoding;
- creation: wall-clock seconds of ``create_voice`` (embedding and search included).

Split (deterministic, never tune on held-out): within each set, speakers sorted by name,
every third one (positions 2, 5, 8, ...) is held out; the others are the dev set.

    python bench/quality.py                         # English held-out speakers
    python bench/quality.py --split dev --speakers 5 --sentences 2 --ko-sentences 0
    python bench/quality.py --set de --split all --json out.json
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import av
import numpy as np
import soundfile as sf
import soxr
from rich.console import Console
from rich.table import Table

from voiceclone.assets.paths import require_eval_assets
from voiceclone.audio.reference import prepare_reference
from voiceclone.engines.base import VoiceSample
from voiceclone.engines.kokoro import SAMPLE_RATE, KokoroEngine
from voiceclone.settings import Settings
from voiceclone.text.compare import error_rate

EN_SENTENCES = (
    "The little boat drifted slowly toward the island as the sun went down.",
    "Please bring your passport and a warm coat for the journey north.",
    "My grandmother kept every letter she ever received in a wooden box.",
    "The new bridge will open to traffic at the end of the summer.",
    "He forgot his umbrella, so he ran all the way home in the rain.",
    "Most of the apples in the orchard were picked before the first frost.",
    "Do you know whether the pharmacy on the corner is still open?",
    "The band played their final song while the crowd sang along.",
)
KO_SENTENCES = (
    "오늘은 날씨가 맑고 바람이 시원합니다.",
    "도서관은 저녁 아홉 시까지 문을 엽니다.",
    "우리는 주말에 가족과 함께 바다에 갔습니다.",
    "이 길을 따라가면 기차역이 나옵니다.",
    "내일 아침에 회의가 있으니 일찍 오세요.",
    "어머니께서 맛있는 김치찌개를 만들어 주셨습니다.",
)
METHODS = ("nearest", "blend", "encoder")
SPLIT_RULE = "sorted by name within each set; every third speaker (index % 3 == 2) is held out"
RESEMBLYZER_RATE = 16_000


@dataclass
class MethodResult:
    sim: float
    wer: float | None
    cer: float | None
    create_seconds: float
    details: dict = field(default_factory=dict)


@dataclass
class SpeakerResult:
    name: str
    split: str
    reference_seconds: float
    ceiling: float
    methods: dict[str, MethodResult]


def split_of(names: list[str]) -> dict[str, str]:
    """``{name: "dev" | "held-out"}`` by :data:`SPLIT_RULE`."""
    return {name: ("held-out" if i % 3 == 2 else "dev") for i, name in enumerate(sorted(names))}


def speakers(paths, voice_set: str, split: str) -> list[tuple[str, str]]:
    chosen = []
    for prefix in ("en", "de") if voice_set == "all" else (voice_set,):
        names = [n for n in paths.refvoice_names() if n.startswith(f"{prefix}_")]
        for name, part in split_of(names).items():
            if split == "all" or part == split:
                chosen.append((name, part))
    return sorted(chosen)


PHONE_RATE = 8_000
PHONE_BITRATE = 32_000
PHONE_SNR_DB = 25.0
CUT_SECONDS = 3.0


def reference_clip(audio: np.ndarray, first_half: np.ndarray, reference: str) -> np.ndarray:
    """What is cloned from: the whole clip, its first half, its first 3 s, or the whole
    clip as a phone call would carry it."""
    if reference == "half":
        return first_half
    if reference == "cut3":
        return audio[: round(CUT_SECONDS * SAMPLE_RATE)]
    if reference == "phone":
        return prepare_reference(phone_call(audio, SAMPLE_RATE), SAMPLE_RATE)
    return audio


def phone_call(audio: np.ndarray, rate: int) -> np.ndarray:
    """``audio`` through an 8 kHz band, mp3 at 32 kbit/s, with noise 25 dB below it."""
    narrow = soxr.resample(audio, rate, PHONE_RATE)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as sink:
        stream = sink.add_stream("libmp3lame", rate=PHONE_RATE)
        stream.bit_rate = PHONE_BITRATE
        stream.layout = "mono"
        pcm = (np.clip(narrow, -1, 1) * 32767).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate = PHONE_RATE
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            sink.mux(packet)
    buffer.seek(0)
    with av.open(buffer) as source:
        decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in source.decode(audio=0)])
    carried = soxr.resample(decoded.astype(np.float32), PHONE_RATE, rate)
    level = np.sqrt(np.mean(carried**2)) / 10 ** (PHONE_SNR_DB / 20)
    noise = np.random.default_rng(0).normal(0, level, len(carried))
    return (carried + noise).astype(np.float32)


def halves(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut at the quietest 50 ms window between 40% and 60% of the clip."""
    window = int(0.05 * rate)
    energy = np.convolve(audio**2, np.ones(window), mode="same")
    low, high = int(0.4 * len(audio)), int(0.6 * len(audio))
    cut = low + int(np.argmin(energy[low:high]))
    return audio[:cut], audio[cut:]


class Judges:
    """The independent models: resemblyzer for similarity, faster-whisper for ASR."""

    def __init__(self, paths, threads: int) -> None:
        from faster_whisper import WhisperModel
        from resemblyzer import VoiceEncoder

        self.encoder = VoiceEncoder(
            weights_fpath=paths.resemblyzer_weights, device="cpu", verbose=False
        )
        self.whisper = WhisperModel(
            str(paths.whisper_dir), device="cpu", compute_type="int8", cpu_threads=threads
        )

    def embed(self, audio: np.ndarray, rate: int) -> np.ndarray:
        from resemblyzer import preprocess_wav

        wav = preprocess_wav(soxr.resample(audio, rate, RESEMBLYZER_RATE), RESEMBLYZER_RATE)
        return self.encoder.embed_utterance(wav)

    def transcribe(self, audio: np.ndarray, rate: int, language: str) -> str:
        audio16 = soxr.resample(audio, rate, RESEMBLYZER_RATE).astype(np.float32)
        segments, _ = self.whisper.transcribe(
            audio16, language=language, beam_size=1, vad_filter=False, without_timestamps=True
        )
        return " ".join(segment.text for segment in segments)


def nearest_stock_voice(engine: KokoroEngine, sample: VoiceSample, languages: list[str]):
    reference = engine.embed_samples([sample])
    names = [
        n for n in engine.stock_voice_names() if n.startswith(engine._candidate_prefixes(languages))
    ]
    embeddings = engine.stock_embeddings(names)
    best = names[int(np.argmax(embeddings @ reference))]
    return engine.stock_voice(best)


def create_without_timbre_match(engine: KokoroEngine, sample: VoiceSample, languages: list[str]):
    configured = engine.settings
    engine.settings = configured.model_copy(update={"timbre_match_strength": 0.0})
    try:
        return engine.create_voice([sample], languages, method="stock-blend-v1")
    finally:
        engine.settings = configured


def evaluate_speaker(
    engine: KokoroEngine,
    judges: Judges,
    name: str,
    part: str,
    audio: np.ndarray,
    methods: tuple[str, ...],
    en_sentences: tuple[str, ...],
    ko_sentences: tuple[str, ...],
    reference: str = "full",
) -> SpeakerResult:
    first, second = halves(audio, SAMPLE_RATE)
    ceiling = float(judges.embed(second, SAMPLE_RATE) @ judges.embed(first, SAMPLE_RATE))
    prompt = reference_clip(audio, first, reference)
    # SIM is against the clean clip: the voice should sound like the person, not the line.
    anchor = judges.embed(first if reference == "half" else audio, SAMPLE_RATE)
    sample = VoiceSample(prompt, SAMPLE_RATE, name=name)
    languages = ["en-us"]
    results = {}
    for method in methods:
        started = time.perf_counter()
        if method == "nearest":
            voice = nearest_stock_voice(engine, sample, languages)
        elif method == "blend":
            voice = create_without_timbre_match(engine, sample, languages)
        else:
            voice = engine.create_voice([sample], languages, method="style-encoder-v1")
        create_seconds = time.perf_counter() - started
        sims, en_pairs, ko_pairs = [], [], []
        for sentence in en_sentences:
            speech = engine.synthesize_all(sentence, voice, language="en-us")
            sims.append(float(judges.embed(speech, SAMPLE_RATE) @ anchor))
            en_pairs.append((sentence, judges.transcribe(speech, SAMPLE_RATE, "en")))
        for sentence in ko_sentences:
            speech = engine.synthesize_all(sentence, voice, language="ko")
            ko_pairs.append((sentence, judges.transcribe(speech, SAMPLE_RATE, "ko")))
        results[method] = MethodResult(
            sim=statistics.fmean(sims),
            wer=error_rate(en_pairs, "word") if en_pairs else None,
            cer=error_rate(ko_pairs, "char") if ko_pairs else None,
            create_seconds=create_seconds,
            details={
                **voice.details,
                "transcripts": [h for _, h in en_pairs + ko_pairs],
            },
        )
    return SpeakerResult(name, part, len(prompt) / SAMPLE_RATE, ceiling, results)


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.1f}%" if percent else f"{value:.3f}"


def print_table(console: Console, results: list[SpeakerResult], methods: tuple[str, ...]) -> None:
    table = Table(title="Cloning quality (SIM: resemblyzer cosine vs. the reference)")
    table.add_column("speaker")
    table.add_column("split")
    table.add_column("ref s", justify="right")
    for method in methods:
        table.add_column(f"SIM {method}", justify="right")
    table.add_column("SIM ceiling", justify="right")
    for method in methods:
        table.add_column(f"WER {method}", justify="right")
    for method in methods:
        table.add_column(f"CER-ko {method}", justify="right")
    table.add_column("create s (enc)", justify="right")
    create_key = "encoder" if "encoder" in methods else methods[-1]

    def row(label, part, seconds, values):
        table.add_row(label, part, seconds, *values)

    for r in results:
        row(
            r.name,
            r.split,
            f"{r.reference_seconds:.1f}",
            [_fmt(r.methods[m].sim) for m in methods]
            + [_fmt(r.ceiling)]
            + [_fmt(r.methods[m].wer, True) for m in methods]
            + [_fmt(r.methods[m].cer, True) for m in methods]
            + [f"{r.methods[create_key].create_seconds:.2f}"],
        )

    def mean(values):
        values = [v for v in values if v is not None]
        return statistics.fmean(values) if values else None

    table.add_section()
    row(
        "MEAN",
        f"n={len(results)}",
        f"{mean([r.reference_seconds for r in results]):.1f}",
        [_fmt(mean([r.methods[m].sim for r in results])) for m in methods]
        + [_fmt(mean([r.ceiling for r in results]))]
        + [_fmt(mean([r.methods[m].wer for r in results]), True) for m in methods]
        + [_fmt(mean([r.methods[m].cer for r in results]), True) for m in methods]
        + [f"{mean([r.methods[create_key].create_seconds for r in results]):.2f}"],
    )
    row(
        "MIN",
        "",
        "",
        [_fmt(min(r.methods[m].sim for r in results)) for m in methods]
        + [_fmt(min(r.ceiling for r in results))]
        + ["" for _ in methods] * 2
        + [f"{max(r.methods[create_key].create_seconds for r in results):.2f} max"],
    )
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("en", "de", "all"), default="en", dest="voice_set")
    parser.add_argument("--split", choices=("held-out", "dev", "all"), default="held-out")
    parser.add_argument("--speakers", type=int, default=0, help="Only the first N (0 = all).")
    parser.add_argument(
        "--sentences", type=int, default=4, help=f"English, max {len(EN_SENTENCES)}"
    )
    parser.add_argument("--ko-sentences", type=int, default=2, help=f"max {len(KO_SENTENCES)}")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument(
        "--reference",
        choices=("half", "full", "cut3", "phone"),
        default="full",
        help="Clone from the whole clip (as a user would upload), half A, its first 3 s, or "
        "the whole clip as a phone call carries it (SIM is always against the clean clip).",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="Also write every number here.")
    args = parser.parse_args(argv)

    console = Console(width=220)
    methods = tuple(m for m in args.methods.split(",") if m)
    unknown = set(methods) - set(METHODS)
    if unknown:
        parser.error(f"unknown methods: {', '.join(sorted(unknown))}")
    paths = require_eval_assets()
    engine = KokoroEngine(paths, Settings(onnx_threads=args.threads))
    judges = Judges(paths, args.threads)
    chosen = speakers(paths, args.voice_set, args.split)
    if args.speakers:
        chosen = chosen[: args.speakers]
    en = EN_SENTENCES[: args.sentences]
    ko = KO_SENTENCES[: args.ko_sentences]
    console.print(
        f"[bold]Split[/]: {SPLIT_RULE}. Evaluating {len(chosen)} {args.split} speaker(s) of "
        f"set {args.voice_set!r}; {len(en)} English + {len(ko)} Korean held-out sentences; "
        f"methods {', '.join(methods)}; reference {args.reference}; refinement budget "
        f"{engine.settings.blend_search_steps} step(s); timbre match strength "
        f"{engine.settings.timbre_match_strength}."
    )
    engine.warm_up()
    results = []
    for name, part in chosen:
        raw, rate = sf.read(paths.refvoice_file(name), dtype="float32", always_2d=True)
        audio = soxr.resample(raw.mean(axis=1), rate, SAMPLE_RATE)
        audio = prepare_reference(audio, SAMPLE_RATE)
        result = evaluate_speaker(
            engine, judges, name, part, audio, methods, en, ko, args.reference
        )
        results.append(result)
        sims = " ".join(f"{m}={result.methods[m].sim:.3f}" for m in methods)
        console.print(f"  {name:28s} {sims} ceiling={result.ceiling:.3f}", highlight=False)
    print_table(console, results, methods)
    console.print(
        "Command: python bench/quality.py " + " ".join(sys.argv[1:] if argv is None else argv)
    )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
