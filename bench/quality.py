"""Cloning quality on real voices, measured with models the cloning step never used.

For each reference speaker (the real human voices installed with the models: ``en_*``, 21
speakers, and ``de_*``, 47 speakers) the clip is validated and normalised like an upload,
then cut in two halves at the quietest point near its middle. Each method clones from each
kind of reference (``--references``, all four in one run by default):

- ``full``: the whole clip (4-19 s, 7.6 s on average for the held-out speakers);
- ``half``: half A (1.7-8.4 s, 3.7 s on average);
- ``cut3``: the clip's first 3 s;
- ``phone``: the whole clip through an 8 kHz band, mp3 at 32 kbit/s and noise 25 dB down
  (a phone call).

Methods: ``nearest`` (the stock voice whose d-vector is nearest), ``blend``
(stock-blend-v1, without timbre matching: the first cloning method as it shipped),
``encoder-v1`` (the style encoder trained on the engine's clean speech only) and
``encoder-v2`` (trained on short, phone-band, coded, echoing and noisy copies too); both
encoders as configured (refinement budget, timbre matching). ``auto`` is what the service
ships: v2 for a phone-band reference, v1 otherwise. ``encoder-mix`` is a candidate
the service does not ship: the mean of v1's and v2's style tables, then timbre matching (its
creation time is that of both encoders). A method may carry settings it creates voices with,
``+SETTING=VALUE`` (``encoder-v1+pitch_match_strength=0``), to compare them in one run.
Each voice speaks held-out sentences (never used to train or refine anything) and is scored
with

- SIM: cosine of resemblyzer utterance embeddings, generated sentence vs. the clean clip
  (half A for ``half``), averaged over sentences; resemblyzer is independent of the
  d-vector model cloning uses. The same-speaker ceiling is ``SIM(half B, half A)``, the
  only second clip there is; the different-speaker floor is the mean SIM between the
  speaker's clip and every other real speaker's. ``SIM norm`` places the mean SIM between
  the mean floor (0) and the mean ceiling (1).
- Identification: the clone's sentences (their mean embedding) against the clean clips of
  all real speakers of both sets; top-1 is the share of clones nearest their own speaker,
  top-3 the share with their own speaker among the three nearest.
- WER: faster-whisper "base", greedy decoding; DNSMOS overall (``speechmos``).
- |pitch gap|: semitones between the median pitch of the clone's sentences and of the clean
  clip, by pYIN (librosa), not the tracker the service matches pitch with.
- creation: wall-clock seconds of ``create_voice`` (everything the service does at creation).

Split (deterministic, never tune on held-out): within each set, speakers sorted by name,
every third one (positions 2, 5, 8, ...) is held out; the others are the dev set.

    python bench/quality.py                                  # held-out speakers of both sets
    python bench/quality.py --split dev --references cut3 --speakers 10
    python bench/quality.py --set en --methods blend,encoder-v2 --json out.json
    python bench/quality.py --methods encoder-v1+pitch_match_strength=0,encoder-v1
    python bench/quality.py --methods auto --baseline HEAD~3   # auto as shipped then, and now

``--baseline REV`` clones with ``voiceclone`` as it was at git revision ``REV`` (its ``src``
exported to a temporary folder, run in a child process), in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from judging import dnsmos
from pydantic import TypeAdapter
from revisions import run_at_revision
from rich.console import Console
from rich.table import Table
from splits import SPLIT_RULE, speakers_in

from voiceclone.assets.paths import require_eval_assets
from voiceclone.audio.degrade import phone_call
from voiceclone.audio.reference import prepare_reference
from voiceclone.engines.base import VoiceProfile, VoiceSample
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
METHODS = ("nearest", "blend", "encoder-v1", "encoder-v2", "encoder-mix", "auto")
ENCODER_METHODS = {"encoder-v1": "style-encoder-v1", "encoder-v2": "style-encoder-v2"}
REFERENCES = ("full", "half", "cut3", "phone")
JUDGE_RATE = 16_000
CUT_SECONDS = 3.0


@dataclass
class CloneResult:
    speaker: str
    reference: str
    method: str
    reference_seconds: float
    sim: float
    rank: int  # 1 = the clone is nearest its own speaker
    wer: float | None
    cer: float | None
    dnsmos: float
    create_seconds: float
    pitch_gap: float | None = None  # semitones between the clone's median pitch and the clip's
    details: dict = field(default_factory=dict)


@dataclass
class Speaker:
    name: str
    split: str
    audio: np.ndarray
    ceiling: float = 0.0
    floor: float = 0.0
    median_pitch: float | None = None  # Hz, of the clean clip


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


def halves(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut at the quietest 50 ms window between 40% and 60% of the clip."""
    window = int(0.05 * rate)
    energy = np.convolve(audio**2, np.ones(window), mode="same")
    low, high = int(0.4 * len(audio)), int(0.6 * len(audio))
    cut = low + int(np.argmin(energy[low:high]))
    return audio[:cut], audio[cut:]


def load_clip(paths, name: str) -> np.ndarray:
    """A real speaker's clip, validated and normalised as an upload would be."""
    raw, rate = sf.read(paths.refvoice_file(name), dtype="float32", always_2d=True)
    return prepare_reference(soxr.resample(raw.mean(axis=1), rate, SAMPLE_RATE), SAMPLE_RATE)


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

        wav = preprocess_wav(soxr.resample(audio, rate, JUDGE_RATE), JUDGE_RATE)
        return self.encoder.embed_utterance(wav)

    def transcribe(self, audio: np.ndarray, rate: int, language: str) -> str:
        audio16 = soxr.resample(audio, rate, JUDGE_RATE).astype(np.float32)
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


@contextmanager
def changed_settings(engine: KokoroEngine, **overrides: object) -> Iterator[None]:
    """The engine with some settings changed, for what runs inside the block."""
    configured = engine.settings
    engine.settings = configured.model_copy(update=overrides)
    try:
        yield
    finally:
        engine.settings = configured


def timbre_matching_off(engine: KokoroEngine) -> AbstractContextManager[None]:
    return changed_settings(engine, timbre_match_strength=0.0)


def method_and_settings(spec: str) -> tuple[str, dict[str, object]]:
    """``encoder-v1+pitch_match_strength=1`` -> the method and the settings it runs with."""
    method, *changes = spec.split("+")
    overrides: dict[str, object] = {}
    for change in changes:
        name, _, value = change.partition("=")
        if name not in Settings.model_fields or not value:
            raise ValueError(f"{change!r} is not SETTING=VALUE with a known setting")
        overrides[name] = TypeAdapter(Settings.model_fields[name].annotation).validate_python(value)
    return method, overrides


def create_without_timbre_match(engine: KokoroEngine, sample: VoiceSample, languages: list[str]):
    with timbre_matching_off(engine):
        return engine.create_voice([sample], languages, method="stock-blend-v1")


def create_with_both_encoders(engine: KokoroEngine, sample: VoiceSample, languages: list[str]):
    # Each encoder's own equaliser would be thrown away: only the mixed voice is matched.
    with timbre_matching_off(engine):
        tables = [
            engine.create_voice([sample], languages, method=method).style
            for method in ENCODER_METHODS.values()
        ]
    voice = VoiceProfile(
        engine=engine.name, engine_version=engine.version, style=np.mean(tables, axis=0)
    )
    engine._match_reference(voice, [sample])
    return voice


def clone(engine: KokoroEngine, method: str, sample: VoiceSample) -> VoiceProfile:
    languages = ["en-us"]
    if method == "nearest":
        return nearest_stock_voice(engine, sample, languages)
    if method == "blend":
        return create_without_timbre_match(engine, sample, languages)
    if method == "encoder-mix":
        return create_with_both_encoders(engine, sample, languages)
    return engine.create_voice([sample], languages, method=ENCODER_METHODS.get(method, method))


def describe_speakers(judges: Judges, chosen: list[Speaker], pool: dict[str, np.ndarray]) -> None:
    """Each chosen speaker's same-speaker ceiling and different-speaker floor."""
    for speaker in chosen:
        first, second = halves(speaker.audio, SAMPLE_RATE)
        speaker.ceiling = float(
            judges.embed(second, SAMPLE_RATE) @ judges.embed(first, SAMPLE_RATE)
        )
        others = [vector for name, vector in pool.items() if name != speaker.name]
        speaker.floor = float(np.mean(np.stack(others) @ pool[speaker.name]))
        speaker.median_pitch = median_pitch(speaker.audio, SAMPLE_RATE)


def median_pitch(audio: np.ndarray, rate: int) -> float | None:
    """Median F0 (Hz) of the voiced frames by pYIN, a tracker the service does not use."""
    import librosa

    audio16 = soxr.resample(audio, rate, JUDGE_RATE)
    f0, voiced, _ = librosa.pyin(
        audio16, fmin=60, fmax=400, sr=JUDGE_RATE, frame_length=1024, hop_length=320
    )
    voiced_f0 = f0[voiced & ~np.isnan(f0)]
    return float(np.median(voiced_f0)) if len(voiced_f0) else None


def rank_of(embedding: np.ndarray, name: str, pool: dict[str, np.ndarray]) -> int:
    """1 + how many real speakers' clips are nearer ``embedding`` than ``name``'s own."""
    own = float(pool[name] @ embedding)
    return 1 + sum(float(v @ embedding) > own for n, v in pool.items() if n != name)


def evaluate(
    engine: KokoroEngine,
    judges: Judges,
    speaker: Speaker,
    reference: str,
    method: str,
    pool: dict[str, np.ndarray],
    en_sentences: tuple[str, ...],
    ko_sentences: tuple[str, ...],
) -> CloneResult:
    first, _ = halves(speaker.audio, SAMPLE_RATE)
    prompt = reference_clip(speaker.audio, first, reference)
    # SIM is against the clean clip: the voice should sound like the person, not the line.
    anchor = judges.embed(first, SAMPLE_RATE) if reference == "half" else pool[speaker.name]
    sample = VoiceSample(prompt, SAMPLE_RATE, name=speaker.name)
    method_name, overrides = method_and_settings(method)
    with changed_settings(engine, **overrides):
        started = time.perf_counter()
        voice = clone(engine, method_name, sample)
        create_seconds = time.perf_counter() - started
    embeddings, en_pairs, ko_pairs, scores, spoken = [], [], [], [], []
    for sentence in en_sentences:
        speech = engine.synthesize_all(sentence, voice, language="en-us")
        spoken.append(speech)
        embeddings.append(judges.embed(speech, SAMPLE_RATE))
        en_pairs.append((sentence, judges.transcribe(speech, SAMPLE_RATE, "en")))
        scores.append(dnsmos(speech, SAMPLE_RATE))
    for sentence in ko_sentences:
        speech = engine.synthesize_all(sentence, voice, language="ko")
        ko_pairs.append((sentence, judges.transcribe(speech, SAMPLE_RATE, "ko")))
    mean_embedding = np.mean(embeddings, axis=0)
    mean_embedding /= np.linalg.norm(mean_embedding) + 1e-12
    clone_pitch = median_pitch(np.concatenate(spoken), SAMPLE_RATE)
    pitch_gap = None
    if clone_pitch and speaker.median_pitch:
        pitch_gap = 12 * float(np.log2(clone_pitch / speaker.median_pitch))
    return CloneResult(
        speaker=speaker.name,
        reference=reference,
        method=method,
        reference_seconds=len(prompt) / SAMPLE_RATE,
        sim=statistics.fmean(float(e @ anchor) for e in embeddings),
        rank=rank_of(mean_embedding, speaker.name, pool),
        wer=error_rate(en_pairs, "word") if en_pairs else None,
        cer=error_rate(ko_pairs, "char") if ko_pairs else None,
        dnsmos=statistics.fmean(scores),
        create_seconds=create_seconds,
        pitch_gap=pitch_gap,
        details={**voice.details, "transcripts": [h for _, h in en_pairs + ko_pairs]},
    )


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.1f}%" if percent else f"{value:.3f}"


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def print_summary(
    console: Console,
    results: list[CloneResult],
    chosen: list[Speaker],
    references: tuple[str, ...],
    methods: tuple[str, ...],
) -> None:
    ceiling = statistics.fmean(s.ceiling for s in chosen)
    floor = statistics.fmean(s.floor for s in chosen)
    table = Table(
        title=f"Cloning quality, {len(chosen)} speakers (SIM: resemblyzer; floor {floor:.3f}, "
        f"ceiling {ceiling:.3f})"
    )
    for column in ("reference", "method", "ref s", "SIM", "SIM norm", "top-1", "top-3"):
        table.add_column(column, justify="left" if column in ("reference", "method") else "right")
    for column in ("WER", "CER-ko", "DNSMOS", "|pitch gap| st", "create s mean/max"):
        table.add_column(column, justify="right")
    for reference in references:
        for method in methods:
            rows = [r for r in results if r.reference == reference and r.method == method]
            if not rows:
                continue
            sim = statistics.fmean(r.sim for r in rows)
            seconds = [r.create_seconds for r in rows]
            table.add_row(
                reference,
                method,
                f"{statistics.fmean(r.reference_seconds for r in rows):.1f}",
                _fmt(sim),
                _fmt((sim - floor) / (ceiling - floor)),
                _fmt(sum(r.rank == 1 for r in rows) / len(rows)),
                _fmt(sum(r.rank <= 3 for r in rows) / len(rows)),
                _fmt(_mean(r.wer for r in rows), True),
                _fmt(_mean(r.cer for r in rows), True),
                _fmt(statistics.fmean(r.dnsmos for r in rows)),
                _fmt(_mean(abs(r.pitch_gap) if r.pitch_gap is not None else None for r in rows)),
                f"{statistics.fmean(seconds):.2f} / {max(seconds):.2f}",
            )
        table.add_section()
    console.print(table)


def run_baseline(revision: str, args: argparse.Namespace) -> list[CloneResult]:
    """This benchmark's clones made by voiceclone as it was at git ``revision``, each
    method named ``METHOD @REVISION``."""
    arguments = ["--set", args.voice_set]
    for flag in ("split", "speakers", "only", "sentences", "ko_sentences"):
        arguments += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    arguments += ["--methods", args.methods, "--references", args.references]
    arguments += ["--threads", str(args.threads)]
    rows = run_at_revision(revision, __file__, arguments, "--json")["results"]
    return [CloneResult(**{**row, "method": f"{row['method']} @{revision}"}) for row in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("en", "de", "all"), default="all", dest="voice_set")
    parser.add_argument("--split", choices=("held-out", "dev", "all"), default="held-out")
    parser.add_argument("--speakers", type=int, default=0, help="Only the first N (0 = all).")
    parser.add_argument("--only", default="", help="Only these speakers (comma-separated).")
    parser.add_argument(
        "--sentences", type=int, default=3, help=f"English, max {len(EN_SENTENCES)}"
    )
    parser.add_argument("--ko-sentences", type=int, default=0, help=f"max {len(KO_SENTENCES)}")
    parser.add_argument("--methods", default="encoder-v1,encoder-v2")
    parser.add_argument(
        "--references",
        default=",".join(REFERENCES),
        help="Which references to clone from: full, half, cut3, phone (SIM is always "
        "against the clean clip).",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, help="Also write every number here.")
    parser.add_argument(
        "--baseline", help="Also run the methods on voiceclone as it was at this git revision."
    )
    args = parser.parse_args(argv)

    console = Console(width=200)
    methods = tuple(m for m in args.methods.split(",") if m)
    references = tuple(r for r in args.references.split(",") if r)
    try:
        method_names = {method_and_settings(m)[0] for m in methods}
    except ValueError as error:
        parser.error(str(error))
    for given, known, what in (
        (method_names, METHODS, "methods"),
        (references, REFERENCES, "refs"),
    ):
        unknown = set(given) - set(known)
        if unknown:
            parser.error(f"unknown {what}: {', '.join(sorted(unknown))}")
    paths = require_eval_assets()
    engine = KokoroEngine(paths, Settings(onnx_threads=args.threads))
    judges = Judges(paths, args.threads)
    named = speakers_in(paths.refvoice_names(), args.voice_set, args.split)
    if args.only:
        wanted = set(args.only.split(","))
        named = [(name, part) for name, part in named if name in wanted]
        if missing := wanted - {name for name, _ in named}:
            parser.error(f"not in split {args.split!r}: {', '.join(sorted(missing))}")
    if args.speakers:
        named = named[: args.speakers]
    en = EN_SENTENCES[: args.sentences]
    ko = KO_SENTENCES[: args.ko_sentences]
    console.print(
        f"[bold]Split[/]: {SPLIT_RULE}. {len(named)} {args.split} speaker(s) of set "
        f"{args.voice_set!r}; {len(en)} English + {len(ko)} Korean held-out sentences; "
        f"methods {', '.join(methods)}; references {', '.join(references)}; refinement "
        f"budget {engine.settings.blend_search_steps} step(s); timbre match strength "
        f"{engine.settings.timbre_match_strength}."
    )
    clips = {name: load_clip(paths, name) for name, _ in speakers_in(paths.refvoice_names())}
    pool = {name: judges.embed(audio, SAMPLE_RATE) for name, audio in clips.items()}
    chosen = [Speaker(name, part, clips[name]) for name, part in named]
    describe_speakers(judges, chosen, pool)
    console.print(f"Identification among {len(pool)} real speakers.")
    results = run_baseline(args.baseline, args) if args.baseline else []
    shown = methods
    if args.baseline:
        shown = tuple(m for method in methods for m in (f"{method} @{args.baseline}", method))
    engine.warm_up()
    for speaker in chosen:
        for reference in references:
            for method in methods:
                result = evaluate(engine, judges, speaker, reference, method, pool, en, ko)
                results.append(result)
                console.print(
                    f"  {speaker.name:24s} {reference:6s} {method:11s} sim={result.sim:.3f} "
                    f"rank={result.rank:2d} wer={_fmt(result.wer, True)} "
                    f"create={result.create_seconds:.2f}s",
                    highlight=False,
                )
    print_summary(console, results, chosen, references, shown)
    console.print(
        "Command: python bench/quality.py " + " ".join(sys.argv[1:] if argv is None else argv)
    )
    if args.json:
        speakers_out = [
            {"name": s.name, "split": s.split, "ceiling": s.ceiling, "floor": s.floor}
            for s in chosen
        ]
        payload = {"speakers": speakers_out, "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
