"""Kokoro-82M (ONNX) engine: 24 kHz speech from phonemes and a 256-d style vector.

Voices are style tables (one 256-d row per input length). Cloning predicts a style from
the reference recording (the learned style encoder, or the nearest blend of stock voices),
then equalises the voice's timbre toward the reference.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from itertools import chain
from pathlib import Path

import numpy as np
import onnxruntime as ort
import soxr

from voiceclone.assets.paths import AssetPaths, require_engine_assets
from voiceclone.audio.chunk import AudioChunk
from voiceclone.audio.equalize import apply_equalizer, equalizer_taps, matching_gains_db
from voiceclone.audio.reference import bandwidth_hz, is_narrow_band
from voiceclone.cloning.embedder import SAMPLE_RATE as EMBEDDER_RATE
from voiceclone.cloning.embedder import SpeakerEmbedder
from voiceclone.engines.base import VoiceProfile, VoiceSample
from voiceclone.engines.kokoro import NAME, SAMPLE_RATE, VERSION
from voiceclone.engines.kokoro.blend import best_blend
from voiceclone.engines.kokoro.sessions import (
    DECODER_INPUTS,
    DECODER_STEPS_PER_FRAME,
    F0_CURVE,
    decoder_feeds,
    onnx_providers,
    session_options,
)
from voiceclone.engines.kokoro.style_encoder import METHOD as STYLE_ENCODER_METHOD
from voiceclone.engines.kokoro.style_encoder import (
    METHOD_V1,
    WEIGHTS_FILES,
    PitchSummary,
    load_encoder,
    pooled_features,
    recording_features,
    summarize_pitch,
    with_mean_row,
)
from voiceclone.errors import InvalidRequest, InvalidText
from voiceclone.settings import Settings, get_settings
from voiceclone.text.language import LANGUAGES, get_language, resolve_language
from voiceclone.text.normalize import normalize_text
from voiceclone.text.phonemize import Phonemizer
from voiceclone.text.split import iter_text_chunks
from voiceclone.text.words import align_words, spread_words

MAX_TOKENS = 510
# The duration predictor counts frames of 600 samples (25 ms at 24 kHz).
SECONDS_PER_FRAME = 600 / SAMPLE_RATE
TIMBRE_DIMS = 128
"""A style row's first half conditions the decoder (timbre), the second the prosody."""
F0_INDEX = DECODER_INPUTS.index(F0_CURVE)
F0_STEPS_PER_FRAME = DECODER_STEPS_PER_FRAME[F0_INDEX]
QUESTION_RISE_SECONDS = 0.3
"""A question's rise spans about its last syllable."""
VOICED_F0_HZ = 40.0
"""The predictor writes a few Hz where nothing is voiced."""
QUESTION_MARKS = ("?", "？")
CLOSING_QUOTES = "\"'”’)」』"
# The decoder's sound runs about four frames ahead of the predictor's alignment (words
# start and end ~100 ms before it says, in English and Korean alike: bench/captions.py).
ALIGNMENT_LEAD_FRAMES = 4
# Phoneme marks that are pauses, not part of a word's sound.
PAUSE_MARKS = frozenset('.,!?;:—…"“”()«»¡¿-')
# Frames kept around the predicted speech when its silence is dropped before decoding
# (beyond ALIGNMENT_LEAD_FRAMES), so no onset or decay is clipped.
SPEECH_MARGIN_FRAMES = 2
STYLE_DIM = 256
# Bump when optimize_kokoro changes, so installed copies are derived again.
OPTIMIZATION_REVISION = 3
DETECTION_PEEK_CHARS = 200
SILENCE_THRESHOLD = 0.01
EDGE_MARGIN_SECONDS = 0.03
CLAUSE_PAUSE_FACTOR = 0.4
SENTENCE_ENDINGS = tuple(".!?。！？…")
# Stock voices are embedded once from these lines; the result is cached on disk.
CALIBRATION_TEXT = (
    "The morning light came slowly over the hills, and the quiet village began to wake."
)
# Stock voices whose accent suits each language; Kokoro has no Korean voices, so Korean
# (and any language without its own voices) borrows the American English ones.
FALLBACK_VOICE_PREFIXES = ("a",)
BLEND_METHOD = "stock-blend-v1"
# Spoken by each synthesize-and-embed refinement step (short: each step costs a synthesis).
REFINE_TEXT = "She opened the window and looked out at the quiet street."
REFINE_SIGMA = 0.3


def _load_vocab() -> dict[str, int]:
    text = resources.files("voiceclone.engines.kokoro").joinpath("vocab.json").read_text("utf-8")
    result: dict[str, int] = json.loads(text)["vocab"]
    return result


def _speech_bounds(audio: np.ndarray, sample_rate: int) -> tuple[int, int]:
    """Where the model's leading/trailing near-silence ends and begins, with a margin."""
    loud = np.nonzero(np.abs(audio) > SILENCE_THRESHOLD)[0]
    if len(loud) == 0:
        return 0, 0
    margin = int(EDGE_MARGIN_SECONDS * sample_rate)
    return max(0, int(loud[0]) - margin), min(len(audio), int(loud[-1]) + margin)


@dataclass(frozen=True)
class _Inferred:
    """One decoded token sequence: its audio, the predicted frames per token (boundary
    tokens included; None when the model does not report them) and the predicted frame
    at which the audio starts (frames of silence before it were not decoded)."""

    audio: np.ndarray
    durations: np.ndarray | None
    first_frame: int = 0


def _speech_frames(spoken: Sequence[bool], durations: np.ndarray) -> tuple[int, int]:
    """The predicted frames worth decoding: from just before the first spoken token to
    just after the last (``spoken`` has one flag per token, boundary tokens excluded)."""
    frames = durations.reshape(-1)
    ends = np.cumsum(frames)
    total = int(ends[-1])
    rows = [row + 1 for row, flag in enumerate(spoken) if flag]
    if not rows:
        return 0, total
    margin = ALIGNMENT_LEAD_FRAMES + SPEECH_MARGIN_FRAMES
    start = int(ends[rows[0] - 1]) - margin
    stop = int(ends[rows[-1]]) - ALIGNMENT_LEAD_FRAMES + SPEECH_MARGIN_FRAMES
    return max(0, start), min(total, max(stop, start + 1))


@dataclass(frozen=True)
class _Spoken:
    """A span's audio, and where its spoken (phoneme) words are in it, in seconds."""

    audio: np.ndarray
    words: list[tuple[float, float]]


def _word_spans(
    word_of_token: Sequence[int | None], durations: np.ndarray | None, first_frame: int = 0
) -> list[tuple[float, float]]:
    """(start, end) seconds of each phoneme word in audio that starts at predicted frame
    ``first_frame``, from the predicted frames per token (the first and last rows are the
    boundary tokens around the text)."""
    if durations is None:
        return []
    frames = durations.reshape(-1)
    token_starts = frames[0] + np.concatenate([[0], np.cumsum(frames[1:-1])])
    token_starts = np.maximum(token_starts - ALIGNMENT_LEAD_FRAMES - first_frame, 0)
    spans: dict[int, tuple[float, float]] = {}
    for token, word in enumerate(word_of_token):
        if word is None:
            continue
        start = float(token_starts[token]) * SECONDS_PER_FRAME
        end = float(token_starts[token + 1]) * SECONDS_PER_FRAME
        spans[word] = (spans[word][0], end) if word in spans else (start, end)
    return [spans[word] for word in sorted(spans)]


def _fade_edges(audio: np.ndarray, fade_samples: int) -> np.ndarray:
    """Raised-cosine fade in and out so consecutive chunks join without clicks."""
    n = min(fade_samples, len(audio) // 2)
    if n == 0:
        return audio
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n, dtype=np.float32))
    faded = audio.copy()
    faded[:n] *= ramp
    faded[-n:] *= ramp[::-1]
    return faded


def _split_phonemes(phonemes: str, limit: int) -> list[str]:
    """Cut a phoneme string longer than the model's context at word boundaries."""
    pieces, current = [], ""
    for word in phonemes.split(" "):
        while len(word) > limit:
            pieces.append(word[:limit])
            word = word[limit:]
        if current and len(current) + 1 + len(word) > limit:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*pieces, current] if current else pieces


def _with_peek(pieces: Iterable[str], enough_chars: int) -> tuple[str, Iterator[str]]:
    """The start of a text stream (at least ``enough_chars`` of non-blank text, or all of
    it), and the whole stream again. Reads no further than needed, so streamed text
    (a socket, a pipe) is not held back."""
    iterator = iter(pieces)
    head: list[str] = []
    size = 0
    for piece in iterator:
        head.append(piece)
        size += len(piece.strip())
        if size >= enough_chars:
            break
    return "".join(head), chain(head, iterator)


def pitch_of(audio: np.ndarray) -> PitchSummary:
    """The median pitch of ``audio`` (at the engine's rate) and the voicing behind it."""
    return summarize_pitch(soxr.resample(audio, SAMPLE_RATE, EMBEDDER_RATE))


def semitones_between(audio: PitchSummary, target: PitchSummary) -> float:
    """How many semitones ``target``'s median pitch lies above ``audio``'s, within half an
    octave either way: a pitch tracker's octave error is likelier than a voice that far
    off. 0 when either has too little voicing to tell."""
    if audio.median_log2 is None or target.median_log2 is None:
        return 0.0
    gap = 12.0 * (target.median_log2 - audio.median_log2)
    return gap - 12.0 * round(gap / 12.0)


def raise_final_pitch(f0: np.ndarray, stop: int, semitones: float) -> np.ndarray:
    """``f0`` (the predictor's curve in Hz, :data:`F0_STEPS_PER_FRAME` values a frame) with
    its last QUESTION_RISE_SECONDS of voicing before frame ``stop`` replaced by a glide up
    ``semitones`` from where that stretch starts; unvoiced values stay as they are."""
    values = f0.reshape(-1)
    voiced = np.flatnonzero(values[: stop * F0_STEPS_PER_FRAME] > VOICED_F0_HZ)
    if voiced.size == 0:
        return f0
    end = int(voiced[-1]) + 1
    length = min(end, round(QUESTION_RISE_SECONDS / SECONDS_PER_FRAME * F0_STEPS_PER_FRAME))
    window = slice(end - length, end)
    glide = values[end - length] * np.exp2(np.linspace(0.0, semitones, length) / 12)
    raised = values.copy()
    raised[window] = np.where(values[window] > VOICED_F0_HZ, glide, values[window])
    return raised.reshape(f0.shape).astype(f0.dtype)


def _remove_other_revisions(model: Path) -> None:
    """Delete what earlier revisions of the optimisation derived (the graphs and the stock
    voices' embeddings made with them): hundreds of MB that nothing reads any more."""
    family = model.stem.rsplit(".opt", 1)[0] + ".opt"
    for path in model.parent.glob(f"*{family}*"):
        if f"{model.stem}." not in path.name and f"{model.stem}-" not in path.name:
            path.unlink(missing_ok=True)


class KokoroEngine:
    name = NAME
    version = VERSION
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        paths: AssetPaths | None = None,
        settings: Settings | None = None,
        phonemizer: Phonemizer | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.paths = paths or require_engine_assets(self.settings.models_home)
        self._vocab = _load_vocab()
        self._phonemizer = phonemizer or Phonemizer()
        # Spaces and pause marks: tokens that are not part of a word's sound.
        self._pause_tokens = frozenset(
            self._vocab[mark] for mark in (*PAUSE_MARKS, " ") if mark in self._vocab
        )
        self._session: ort.InferenceSession | None = None
        self._predictor: ort.InferenceSession | None = None
        self._decoder: ort.InferenceSession | None = None
        self._shared_decoder: ort.InferenceSession | None = None
        self._decoding = 0  # chunks being decoded now
        self._speaking = 0  # syntheses under way (streams and jobs), decoding or not
        self._decoding_lock = threading.Lock()
        if self.settings.optimize_model:
            # Predictor and decoder apart: predicted silence is dropped before decoding.
            self.model_path = self.optimized_model()
            predictor_path, decoder_path = self.split_model()
            self._predictor = self._open_session(predictor_path)
            self._decoder = self._open_session(decoder_path)
            if self.settings.engine_slots > 1 and self._threads() > 1:
                shared_threads = max(1, self._threads() // self.settings.engine_slots)
                self._shared_decoder = self._open_session(decoder_path, shared_threads)
        else:
            self.model_path = self.paths.kokoro_model
            self._session = self._open_session(self.model_path)
        self._stock_lock = threading.Lock()

    # -- model -----------------------------------------------------------------------------

    def _threads(self) -> int:
        return self.settings.onnx_threads or os.cpu_count() or 1

    def _open_session(self, path: Path, threads: int | None = None) -> ort.InferenceSession:
        side_by_side = self.settings.engine_slots > 1
        options = session_options(threads or self._threads(), side_by_side=side_by_side)
        return ort.InferenceSession(
            str(path), options, providers=onnx_providers(self.settings.device)
        )

    def optimized_model(self) -> Path:
        """The CPU-optimised model, derived once from the verified download."""
        target = self.paths.home / "derived" / f"kokoro-v1.0.opt{OPTIMIZATION_REVISION}.onnx"
        if not target.is_file():
            from voiceclone.engines.kokoro.offline.graph import optimize_kokoro

            optimize_kokoro(self.paths.kokoro_model, target)
            _remove_other_revisions(target)
        return target

    def split_model(self) -> tuple[Path, Path]:
        """The optimised model's predictor and decoder, derived once from it."""
        whole = self.optimized_model()
        predictor = whole.with_name(f"{whole.stem}-predictor.onnx")
        decoder = whole.with_name(f"{whole.stem}-decoder.onnx")
        if not (predictor.is_file() and decoder.is_file()):
            from voiceclone.engines.kokoro.offline.graph import split_kokoro

            split_kokoro(whole, predictor, decoder)
        return predictor, decoder

    def _tokens(self, phonemes: str) -> list[int]:
        return self._tokens_by_word(phonemes)[0]

    def _tokens_by_word(self, phonemes: str) -> tuple[list[int], list[int | None]]:
        """The tokens, and for each the index of its phoneme word (None: a space or a
        pause mark)."""
        tokens: list[int] = []
        word_of_token: list[int | None] = []
        word, in_word = 0, False
        for mark in phonemes:
            if mark not in self._vocab:
                continue
            token = self._vocab[mark]
            tokens.append(token)
            if token in self._pause_tokens:
                word_of_token.append(None)
                if in_word:
                    word, in_word = word + 1, False
            else:
                word_of_token.append(word)
                in_word = True
        return tokens, word_of_token

    @staticmethod
    def _style_row(style: np.ndarray, token_count: int) -> np.ndarray:
        table = style.reshape(-1, STYLE_DIM)
        result: np.ndarray = table[min(token_count, len(table)) - 1][None, :]
        return result

    def _infer(self, tokens: list[int], style: np.ndarray, speed: float) -> np.ndarray:
        return self._infer_timed(tokens, style, speed).audio

    @staticmethod
    def _predictor_inputs(
        tokens: list[int], style_row: np.ndarray, speed: float
    ) -> dict[str, np.ndarray]:
        """The model's inputs: ``tokens`` between the boundary tokens, one style row."""
        return {
            "tokens": np.array([[0, *tokens, 0]], dtype=np.int64),
            "style": style_row,
            "speed": np.array([speed], dtype=np.float32),
        }

    def _infer_timed(
        self,
        tokens: list[int],
        style: np.ndarray,
        speed: float,
        final_rise: float = 0.0,
        pitch_shift: float = 0.0,
    ) -> _Inferred:
        """Speak ``tokens``; with the split model, only the frames around the speech, the
        pitch raised by ``final_rise`` semitones over the end of the speech and all of it
        moved by ``pitch_shift`` semitones."""
        style_row = self._style_row(style, len(tokens)).astype(np.float32)
        inputs = self._predictor_inputs(tokens, style_row, speed)
        if self._session is not None:
            outputs = self._session.run(None, inputs)
            durations = outputs[1] if len(outputs) > 1 else None
            return _Inferred(outputs[0].reshape(-1).astype(np.float32), durations)
        assert self._predictor is not None and self._decoder is not None
        *curves, durations = self._predictor.run(None, inputs)
        start, stop = self._speech_range(tokens, durations)
        if final_rise:
            curves[F0_INDEX] = raise_final_pitch(curves[F0_INDEX], stop, final_rise)
        if pitch_shift:
            curves[F0_INDEX] = curves[F0_INDEX] * np.float32(2 ** (pitch_shift / 12))
        feeds = decoder_feeds(curves, start, stop)
        with self._decoder_now() as decoder:
            (audio,) = decoder.run(None, {**feeds, "style": style_row})
        return _Inferred(audio.reshape(-1).astype(np.float32), durations, start)

    @contextmanager
    def _decoder_now(self) -> Iterator[ort.InferenceSession]:
        """The decoder on all threads while one synthesis is under way and nothing else is
        being decoded; else the one whose few threads per call let ``engine_slots`` chunks
        run side by side.

        onnxruntime runs some kernels (Sin, the Snake activations' core) on one thread, so
        one chunk on all cores leaves cores idle: on 2 cores, two at once on one thread each
        made 8.0 s of audio per second against 6.0 on one decoder with both threads, but a
        lone chunk on one thread took 1.35x as long (bench/decoder_runtimes.py)."""
        assert self._decoder is not None
        with self._decoding_lock:
            alone = self._decoding == 0 and self._speaking <= 1
            self._decoding += 1
        try:
            yield self._decoder if alone or self._shared_decoder is None else self._shared_decoder
        finally:
            with self._decoding_lock:
                self._decoding -= 1

    @contextmanager
    def _synthesis_under_way(self) -> Iterator[None]:
        with self._decoding_lock:
            self._speaking += 1
        try:
            yield
        finally:
            with self._decoding_lock:
                self._speaking -= 1

    def _speech_range(self, tokens: list[int], durations: np.ndarray) -> tuple[int, int]:
        """The frames from just before the first spoken token to just after the last."""
        return _speech_frames([token not in self._pause_tokens for token in tokens], durations)

    def warm_up(self) -> None:
        """Run one tiny synthesis so the first real request does not pay for lazy setup."""
        self._phonemizer.warm_up("en-us")
        tokens, style = self._tokens("hɛlˈoʊ."), self.stock_style(self.stock_voice_names()[0])
        self._infer(tokens, style, 1.0)
        if self._shared_decoder is not None:
            with self._decoder_now():  # one chunk "in hand": the next takes the other decoder
                self._infer(tokens, style, 1.0)

    # -- stock voices ----------------------------------------------------------------------

    def stock_voice_names(self) -> list[str]:
        return list(self.paths.stock_voice_names())

    def stock_style(self, name: str) -> np.ndarray:
        path = self.paths.voice_file(name)
        if not path.is_file():
            raise InvalidText(
                f"Unknown stock voice {name!r}. Available: {', '.join(self.stock_voice_names())}",
                code="unknown_voice",
            )
        return np.fromfile(path, dtype="<f4").reshape(-1, STYLE_DIM)

    def stock_voice(self, name: str) -> VoiceProfile:
        prefix_language = {lang.stock_voice_prefix: code for code, lang in LANGUAGES.items()}
        language = prefix_language.get(name[:1])
        return VoiceProfile(
            engine=self.name,
            engine_version=self.version,
            style=self.stock_style(name),
            languages=[language] if language else [],
            method="stock",
            details={"stock_voice": name},
        )

    @cached_property
    def embedder(self) -> SpeakerEmbedder:
        return SpeakerEmbedder(self.paths.embedder)

    def _stock_embeddings_path(self) -> Path:
        # Embeddings depend on the model variant that made the audio (and its trimming).
        variant = self.model_path.stem + ("-trimmed" if self._decoder is not None else "")
        return self.paths.home / "derived" / f"stock-dvectors-{variant}.npz"

    def stock_embeddings(
        self, names: Sequence[str] | None = None, progress: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        """Speaker embeddings of stock voices, computed on first use and cached on disk."""
        wanted = list(names) if names is not None else self.stock_voice_names()
        with self._stock_lock:
            path = self._stock_embeddings_path()
            cache = dict(np.load(path)) if path.is_file() else {}
            missing = [name for name in wanted if name not in cache]
            for done, name in enumerate(missing):
                if progress:
                    progress(done, len(missing))
                cache[name] = self._embed_stock_voice(name)
            if missing:
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(path.stem + ".partial.npz")
                np.savez(partial, **cache)
                os.replace(partial, path)
            return np.stack([cache[name] for name in wanted])

    def _embed_stock_voice(self, name: str) -> np.ndarray:
        voice = self.stock_voice(name)
        audio = self.synthesize_all(CALIBRATION_TEXT, voice, language="en-us")
        return self.embedder.embed(soxr.resample(audio, SAMPLE_RATE, EMBEDDER_RATE))

    # -- cloning ---------------------------------------------------------------------------

    def embed_samples(self, samples: Sequence[VoiceSample]) -> np.ndarray:
        """One d-vector for all samples, each weighted by its length."""
        vectors, weights = [], []
        for sample in samples:
            audio = soxr.resample(sample.samples, sample.sample_rate, EMBEDDER_RATE)
            vectors.append(self.embedder.embed(audio))
            weights.append(len(sample.samples) / sample.sample_rate)
        pooled = np.average(np.stack(vectors), axis=0, weights=weights)
        result: np.ndarray = (pooled / (np.linalg.norm(pooled) + 1e-12)).astype(np.float32)
        return result

    def _candidate_prefixes(self, languages: Sequence[str]) -> tuple[str, ...]:
        prefixes = tuple(
            prefix
            for code in languages
            if code in LANGUAGES and (prefix := LANGUAGES[code].stock_voice_prefix)
        )
        return prefixes or FALLBACK_VOICE_PREFIXES

    def create_voice(
        self,
        samples: Sequence[VoiceSample],
        languages: Sequence[str] = (),
        *,
        method: str | None = None,
    ) -> VoiceProfile:
        """A voice from reference samples.

        ``method`` (default: the ``cloning_method`` setting) is a learned style encoder
        (``style-encoder-v2``, or ``style-encoder-v1``, trained on clean speech only), then
        ``blend_search_steps`` synthesize-and-embed refinement steps; or ``stock-blend-v1``
        (the nearest blend of stock voices). ``auto`` takes v2 for a phone-band reference
        and v1 for a full-band one, when their weights are installed.
        """
        if not samples:
            raise ValueError("create_voice needs at least one sample")
        chosen = method or self.settings.cloning_method
        narrow_band = any(is_narrow_band(s.samples, s.sample_rate) for s in samples)
        encoder = None
        if chosen == "auto" or chosen in WEIGHTS_FILES:
            encoder_method = chosen
            if chosen == "auto":
                # v2 reads a phone line right; on full-band clips v1's voices were heard
                # better in Korean (the docs' performance page).
                encoder_method = STYLE_ENCODER_METHOD if narrow_band else METHOD_V1
            encoder = load_encoder(method=encoder_method)
            if encoder is None and chosen != "auto":
                raise ValueError(f"The weights of {chosen} are not installed.")
        elif chosen != BLEND_METHOD:
            raise ValueError(f"Unknown cloning method {chosen!r}")

        reference = self.embed_samples(samples)
        prefixes = self._candidate_prefixes(languages)
        names = [name for name in self.stock_voice_names() if name.startswith(prefixes)]
        blend = best_blend(
            reference, names, self.stock_embeddings(names), self.settings.blend_top_k
        )
        style = sum(
            weight * self.stock_style(name)
            for name, weight in zip(blend.names, blend.weights, strict=True)
        )
        details: dict = {
            "blend": {
                n: round(float(w), 4) for n, w in zip(blend.names, blend.weights, strict=True)
            },
            "predicted_similarity": round(blend.predicted_similarity, 4),
        }
        if narrow_band:
            details["narrow_band"] = True
        if encoder is None:
            table = np.asarray(style, dtype=np.float32)
            return self._cloned(table, samples, reference, languages, BLEND_METHOD, details)

        row = encoder.predict(
            self.sample_features(samples),
            real_speech_gain=self.settings.style_encoder_real_speech_gain,
        )
        table = with_mean_row(style, row)
        if narrow_band and not encoder.degraded_views:
            # An encoder that never heard a phone line reads its missing highs as another
            # voice, whose timbre then garbles words: keep the nearest blend's timbre instead.
            table[..., :TIMBRE_DIMS] = np.asarray(style, dtype=np.float32)[..., :TIMBRE_DIMS]
        steps = self.settings.blend_search_steps
        if steps > 0:
            table, similarity = self._refine_style(table, reference, steps)
            details["refined_similarity"] = round(similarity, 4)
            details["refine_steps"] = steps
        return self._cloned(table, samples, reference, languages, encoder_method, details)

    def _cloned(
        self,
        style: np.ndarray,
        samples: Sequence[VoiceSample],
        reference: np.ndarray,
        languages: Sequence[str],
        method: str,
        details: dict,
    ) -> VoiceProfile:
        profile = VoiceProfile(
            engine=self.name,
            engine_version=self.version,
            style=style,
            speaker_embedding=reference,
            languages=list(languages),
            method=method,
            details=details,
        )
        self._match_reference(profile, samples)
        details["similarity"] = round(self.own_similarity(profile, reference), 4)
        return profile

    def own_similarity(self, profile: VoiceProfile, reference: np.ndarray) -> float:
        """Cosine of the d-vectors of the voice speaking a line and of its references."""
        spoken = self.synthesize_all(REFINE_TEXT, profile, language="en-us")
        return float(self.embed_samples([VoiceSample(spoken, SAMPLE_RATE)]) @ reference)

    def _match_reference(self, profile: VoiceProfile, samples: Sequence[VoiceSample]) -> None:
        """Move the voice's timbre (band gains) and pitch toward the references', as far as
        the settings say, from one calibration sentence spoken in the voice."""
        details = profile.details
        timbre = self.settings.timbre_match_strength
        up_to_hz = None
        if details.get("narrow_band"):
            # Only the band the line carried tells of the voice; its top edge is the line's.
            share = self.settings.timbre_match_phone_band_share
            up_to_hz = share * min(bandwidth_hz(s.samples, s.sample_rate) for s in samples)
            timbre = timbre if share > 0 else 0.0
        # Only the split model lets the predicted pitch be moved before decoding.
        pitch = self.settings.pitch_match_strength if self._predictor is not None else 0.0
        if timbre <= 0 and pitch <= 0:
            return
        rendered = self.synthesize_all(CALIBRATION_TEXT, profile, language="en-us")
        reference = np.concatenate(
            [soxr.resample(s.samples, s.sample_rate, SAMPLE_RATE) for s in samples]
        )
        if timbre > 0:
            profile.equalizer_db = matching_gains_db(
                reference, rendered, SAMPLE_RATE, timbre, up_to_hz
            )
            details["timbre_match_strength"] = timbre
            if up_to_hz is not None:
                details["timbre_match_up_to_hz"] = round(up_to_hz)
        if pitch > 0:
            heard = pitch_of(reference)
            # Shrink toward the model's own pitch when the references hold little voicing:
            # the median of a few seconds follows that clip's intonation.
            prior = self.settings.pitch_match_prior_seconds
            evidence = heard.voiced_seconds / (heard.voiced_seconds + prior) if prior else 1.0
            gap = semitones_between(pitch_of(rendered), heard)
            profile.pitch_shift_semitones = pitch * evidence * gap
            details["pitch_shift_semitones"] = round(profile.pitch_shift_semitones, 2)

    def sample_features(self, samples: Sequence[VoiceSample]) -> np.ndarray:
        """The style encoder's input features, pooled over the samples by length."""
        features, weights = [], []
        for sample in samples:
            audio = soxr.resample(sample.samples, sample.sample_rate, EMBEDDER_RATE)
            features.append(recording_features(audio, self.embedder))
            weights.append(len(sample.samples) / sample.sample_rate)
        return pooled_features(features, weights)

    @cached_property
    def _stock_pca(self) -> tuple[np.ndarray, np.ndarray]:
        """Principal directions (k, 256) and their spreads (k,) of the stock voices' rows."""
        rows = np.stack([self.stock_style(n).mean(axis=0) for n in self.stock_voice_names()])
        _, singular, vt = np.linalg.svd(rows - rows.mean(axis=0), full_matrices=False)
        keep = singular > singular[0] * 1e-3
        return vt[keep], singular[keep] / np.sqrt(len(rows) - 1)

    def _refine_style(
        self, table: np.ndarray, reference: np.ndarray, steps: int
    ) -> tuple[np.ndarray, float]:
        """(1+1) evolution strategy on the mean row within the stock voices' PCA space.

        Each step speaks a short line and keeps the candidate whose d-vector is nearer the
        reference. Deterministic (fixed seed), so the same reference gives the same voice.
        """
        components, scales = self._stock_pca
        rng = np.random.default_rng(0)

        def score(candidate: np.ndarray) -> float:
            voice = VoiceProfile(engine=self.name, engine_version=self.version, style=candidate)
            audio = self.synthesize_all(REFINE_TEXT, voice, language="en-us")
            embedding = self.embedder.embed(soxr.resample(audio, SAMPLE_RATE, EMBEDDER_RATE))
            return float(embedding @ reference)

        best, best_score = table, score(table)
        sigma = REFINE_SIGMA
        for _ in range(steps - 1):
            offset = (rng.standard_normal(len(scales)) * scales * sigma) @ components
            candidate = (best + offset[None, :]).astype(np.float32)
            candidate_score = score(candidate)
            if candidate_score > best_score:
                best, best_score = candidate, candidate_score
                sigma *= 1.5
            else:
                sigma *= 0.8
        return best, best_score

    # -- synthesis -------------------------------------------------------------------------

    def synthesize(
        self,
        text: str | Iterable[str],
        voice: VoiceProfile,
        language: str | None = None,
        speed: float = 1.0,
    ) -> Iterator[AudioChunk]:
        """Yield one chunk per text span: a short first clause, then whole sentences."""
        settings = self.settings
        if not settings.min_speed <= speed <= settings.max_speed:
            raise InvalidRequest(
                f"Speed must be between {settings.min_speed} and {settings.max_speed}; "
                f"got {speed}.",
                code="invalid_speed",
            )
        if voice.style is None:
            raise ValueError("This voice profile has no Kokoro style.")
        pieces = [text] if isinstance(text, str) else text
        # Detecting the language needs a little text; checking for emptiness, one character.
        enough = 1 if language else DETECTION_PEEK_CHARS
        head, pieces = _with_peek(pieces, enough)
        if not head.strip():
            raise InvalidText("There is no text to speak.", code="empty_text")
        code = resolve_language(head, language)
        return self._synthesize_spans(pieces, voice, code, speed)

    def _synthesize_spans(
        self, pieces: Iterable[str], voice: VoiceProfile, language: str, speed: float
    ) -> Iterator[AudioChunk]:
        settings = self.settings
        style = voice.style
        if style is None:
            raise ValueError("This voice profile has no Kokoro style.")
        taps = None
        if voice.equalizer_db is not None:
            taps = equalizer_taps(voice.equalizer_db, SAMPLE_RATE)
        fade = int(settings.crossfade_ms / 1000 * SAMPLE_RATE)
        sentence_pause = int(settings.sentence_pause_ms / 1000 * SAMPLE_RATE)
        index, previous_span = 0, ""
        spans = iter_text_chunks(pieces, settings.first_chunk_max_chars, settings.chunk_max_chars)
        with self._synthesis_under_way():
            for span in spans:
                spoken = self._speak_span(span, style, language, speed, voice.pitch_shift_semitones)
                audio = spoken.audio
                if len(audio) == 0:
                    continue
                words = (
                    align_words(span, spoken.words)
                    if spoken.words
                    else spread_words(span, 0.0, len(audio) / SAMPLE_RATE)
                )
                if taps is not None:
                    audio = apply_equalizer(audio, taps)
                audio = _fade_edges(audio, fade)
                if index > 0:
                    ends_sentence = previous_span.rstrip().endswith(SENTENCE_ENDINGS)
                    pause = (
                        sentence_pause
                        if ends_sentence
                        else int(sentence_pause * CLAUSE_PAUSE_FACTOR)
                    )
                    audio = np.concatenate([np.zeros(pause, dtype=np.float32), audio])
                    words = tuple(word.shifted(pause / SAMPLE_RATE) for word in words)
                yield AudioChunk(audio, SAMPLE_RATE, span, index, words)
                index += 1
                previous_span = span

    def _speak_span(
        self, span: str, style: np.ndarray, language: str, speed: float, pitch_shift: float = 0.0
    ) -> _Spoken:
        phonemes = self._phonemizer.phonemize(normalize_text(span, language), language)
        parts: list[np.ndarray] = []
        words: list[tuple[float, float]] = []
        offset = 0.0
        pieces = _split_phonemes(phonemes, MAX_TOKENS)
        rise = self._question_rise(span, language)
        for number, piece in enumerate(pieces, start=1):
            tokens, word_of_token = self._tokens_by_word(piece)
            if not tokens:
                continue
            final_rise = rise if number == len(pieces) else 0.0
            inferred = self._infer_timed(tokens, style, speed, final_rise, pitch_shift)
            audio = inferred.audio
            start, stop = _speech_bounds(audio, SAMPLE_RATE)
            kept = stop - start
            lead = start / SAMPLE_RATE
            for word_start, word_end in _word_spans(
                word_of_token, inferred.durations, inferred.first_frame
            ):
                begin = min(max(word_start - lead, 0.0), kept / SAMPLE_RATE)
                end = min(max(word_end - lead, begin), kept / SAMPLE_RATE)
                words.append((offset + begin, offset + end))
            parts.append(audio[start:stop])
            offset += kept / SAMPLE_RATE
        audio = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        return _Spoken(audio, words)

    def _question_rise(self, span: str, language: str) -> float:
        """Semitones to raise the end of ``span`` by: a question in a language whose
        questions rise."""
        question = span.rstrip().rstrip(CLOSING_QUOTES).endswith(QUESTION_MARKS)
        if question and get_language(language).rising_questions:
            return self.settings.question_rise_semitones
        return 0.0

    def synthesize_all(
        self,
        text: str | Iterable[str],
        voice: VoiceProfile,
        language: str | None = None,
        speed: float = 1.0,
    ) -> np.ndarray:
        """The whole utterance as one array: exactly the streamed chunks joined."""
        chunks = [chunk.samples for chunk in self.synthesize(text, voice, language, speed)]
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
