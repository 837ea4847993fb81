"""Can Kokoro's decoder stream frame by frame? Windowed decodes against the one-shot decode.

The predictor gives every frame of a chunk at once; a streaming decoder would vocode them
in windows of ``W`` frames with ``C`` frames of context on each side and join the middles.
This measures how far the joined audio is from the same graph's one-shot decode (SNR in
dB; 35 dB would be indistinguishable), sharing progressively more with the whole
utterance:

1. nothing: each window is decoded on its own (its harmonic source's phase restarts);
2. the utterance's harmonic source (its STFT, sliced per window);
3. that source and every AdaIN norm's mean and variance over the whole utterance;
4. that source and the norms' statistics from *another* sentence in the same voice.

Row 3 needs the whole chunk decoded first, so it is an upper bound, not a method: it shows
whether anything but the statistics stands in the way. The graph rewrites here (inputs
for the source and for each norm's statistics) are for this measurement only.

A second table prices the one way to stream this decoder: statistics fixed before the
utterance, taken once per voice from the engine's calibration line. Windows then join to
the one-shot decode *with the same statistics* (SNR), and what is left to judge is how far
that rendering is from the model's own (each utterance normalised by itself), perceptually:
PESQ (wideband, 16 kHz; 4.64 is identical), the level difference per 100 ms of speech, the
speaker similarity (cosine) of our d-vectors, and whisper's word or character error rate
(``--no-asr`` skips it). Each "own, one-shot" row is the yardstick: the same maths in
another graph, with the utterance's own statistics (rounding only). "Audio starts" is the
predictor plus the whole decode for it, and the predictor, the harmonic source and the
first window (``FIRST_WINDOW`` frames and the right context) for the fixed statistics.

A third table prices the nearest thing to streaming that keeps each part normalised by
itself: a first chunk decoded in two parts, cut once at a word boundary at least
``SPLIT_AFTER_S`` in (the one with the lowest predicted energy among the next few), each
part with ``C`` frames of context beyond the cut and a 10 ms crossfade. Audio would start
when the first part is decoded; the scores are against the whole chunk decoded at once
(the engine's trimmed speech frames), and "step" is how far the level jumps at the cut
against the one-shot audio (the 100 ms before and after).

    python bench/streaming_decode.py [--no-asr]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

import numpy as np
import onnx
import onnxruntime as ort
import soxr
from onnx import helper, numpy_helper
from pesq import pesq
from rich.console import Console
from rich.table import Table
from timing import median_seconds

from voiceclone.audio.reference import frame_levels_db
from voiceclone.cloning.embedder import SAMPLE_RATE as EMBEDDER_RATE
from voiceclone.cloning.embedder import cosine
from voiceclone.engines.kokoro.engine import (
    ALIGNMENT_LEAD_FRAMES,
    CALIBRATION_TEXT,
    SECONDS_PER_FRAME,
    KokoroEngine,
    _word_spans,
)
from voiceclone.engines.kokoro.sessions import F0_CURVE, decoder_feeds, session_options
from voiceclone.text.compare import error_rate

SENTENCE = "The morning light came slowly over the hills, and the quiet village began to wake."
OTHER_SENTENCE = "She opened the window and looked out at the quiet street."
VOICE = "af_heart"
SAMPLES_PER_FRAME = 600
STFT_STEPS_PER_FRAME = 120  # the source's STFT hops 5 samples
SOURCE_STFT = "/decoder/decoder/generator/STFT_output_0"
WINDOWS = (12, 40)
CONTEXTS = (4, 8, 16, 32)
# Fixed statistics: sentences (language, text) spoken by each voice, and the windows.
FIXED_SENTENCES = {
    "en news": (
        "en-us",
        "Welcome to the evening news. Heavy rain is expected across the north tonight.",
    ),
    "en window": ("en-us", "She opened the window and looked out at the quiet street."),
    "ko news": ("ko", "안녕하세요, 저녁 뉴스입니다. 오늘 밤 북부 지역에는 많은 비가 예상됩니다."),
}
FIXED_VOICES = ("af_heart", "am_michael")
FIXED_WINDOW, FIXED_CONTEXT, FIRST_WINDOW = 40, 8, 8
# One cut in a first chunk: these first chunks (the bench's own first chunks and a longer
# clause), cut at a word boundary this far in at least, with these contexts.
SPLIT_TEXTS = {
    "en news": ("en-us", "Welcome to the evening news."),
    "ko news": ("ko", "안녕하세요, 저녁 뉴스입니다."),
    "en clause": ("en-us", "The morning light came slowly over the hills,"),
}
SPLIT_AFTER_S = 0.4
SPLIT_LOOKAHEAD_FRAMES = 16  # boundaries this far past the first candidate compete
SPLIT_MIN_REST_FRAMES = 8
SPLIT_CONTEXTS = (6, 32)
SPLIT_FADE = 240  # 10 ms
PESQ_RATE = WHISPER_RATE = 16000
LEVEL_FRAME = 2400  # 100 ms
TIMING_RUNS = 5

Feeds = dict[str, np.ndarray]


def _prune(graph: onnx.GraphProto) -> None:
    """Drop nodes and inputs that no longer lead to an output."""
    needed = {output.name for output in graph.output}
    alive = []
    for node in reversed(list(graph.node)):
        if any(name in needed for name in node.output):
            alive.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(alive))
    inputs = [value for value in graph.input if value.name in needed]
    del graph.input[:]
    graph.input.extend(inputs)


def _norm_tensors(graph: onnx.GraphProto) -> tuple[list[str], list[str]]:
    """Inputs of the fused InstanceNormalizations, outputs of the unfused ReduceMeans."""
    norms = [n.input[0] for n in graph.node if n.op_type == "InstanceNormalization"]
    means = [n.output[0] for n in graph.node if n.op_type == "ReduceMean"]
    return norms, means


def source_from_outside(decoder: onnx.ModelProto) -> onnx.ModelProto:
    """The decoder with its harmonic source's STFT as an input."""
    model = onnx.ModelProto()
    model.CopyFrom(decoder)
    graph = model.graph
    graph.input.append(
        helper.make_tensor_value_info(SOURCE_STFT, onnx.TensorProto.FLOAT, [1, None, 11, 2])
    )
    kept = [node for node in graph.node if SOURCE_STFT not in node.output]
    del graph.node[:]
    graph.node.extend(kept)
    _prune(graph)
    return model


def statistics_from_outside(decoder: onnx.ModelProto) -> onnx.ModelProto:
    """The decoder with every norm's mean and variance as inputs (``stat{k}_mean/_var``,
    and each unfused ReduceMean's output under its own name)."""
    model = onnx.ModelProto()
    model.CopyFrom(decoder)
    graph = model.graph
    graph.initializer.append(numpy_helper.from_array(np.array([1, -1, 1], np.int64), "stat_shape"))
    nodes: list[onnx.NodeProto] = []
    k = 0
    for node in graph.node:
        if node.op_type == "ReduceMean":
            info = helper.make_tensor_value_info(node.output[0], onnx.TensorProto.FLOAT, None)
            graph.input.append(info)
            continue
        if node.op_type != "InstanceNormalization":
            nodes.append(node)
            continue
        x, scale, bias = node.input
        eps = next(a.f for a in node.attribute if a.name == "epsilon")
        p = f"stat{k}"
        k += 1
        graph.initializer.append(numpy_helper.from_array(np.array(eps, np.float32), f"{p}_eps"))
        for suffix in ("mean", "var"):
            graph.input.append(
                helper.make_tensor_value_info(f"{p}_{suffix}", onnx.TensorProto.FLOAT, None)
            )
        nodes += [
            helper.make_node("Sub", [x, f"{p}_mean"], [f"{p}_centred"]),
            helper.make_node("Add", [f"{p}_var", f"{p}_eps"], [f"{p}_var_eps"]),
            helper.make_node("Sqrt", [f"{p}_var_eps"], [f"{p}_std"]),
            helper.make_node("Div", [f"{p}_centred", f"{p}_std"], [f"{p}_normed"]),
            helper.make_node("Reshape", [scale, "stat_shape"], [f"{p}_scale"]),
            helper.make_node("Reshape", [bias, "stat_shape"], [f"{p}_bias"]),
            helper.make_node("Mul", [f"{p}_normed", f"{p}_scale"], [f"{p}_scaled"]),
            helper.make_node("Add", [f"{p}_scaled", f"{p}_bias"], list(node.output)),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    return source_from_outside(model)


def probe(decoder: onnx.ModelProto) -> onnx.ModelProto:
    """The decoder, also giving its source's STFT and what each norm normalises."""
    model = onnx.ModelProto()
    model.CopyFrom(decoder)
    norms, means = _norm_tensors(model.graph)
    for name in [SOURCE_STFT, *norms, *means]:
        model.graph.output.append(helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return model


def snr_db(signal: np.ndarray, reference: np.ndarray) -> float:
    error = np.sum((signal - reference) ** 2)
    return float(10 * np.log10(np.sum(reference**2) / max(error, 1e-30)))


class Utterance:
    """One sentence's predicted frames, and what a one-shot decode of it computes."""

    def __init__(
        self,
        engine: KokoroEngine,
        text: str,
        probe_session: ort.InferenceSession,
        norm_tensors: tuple[list[str], list[str]],
        language: str = "en-us",
        voice: str = VOICE,
    ) -> None:
        self.text = text
        tokens = engine._tokens(engine._phonemizer.phonemize(text, language))
        self.style = engine._style_row(engine.stock_style(voice), len(tokens)).astype(np.float32)
        self.predictor_inputs = engine._predictor_inputs(tokens, self.style, 1.0)
        *self.curves, _ = engine._predictor.run(None, self.predictor_inputs)
        self.frames = self.curves[0].shape[-1]
        names = [output.name for output in probe_session.get_outputs()]
        values = dict(zip(names, probe_session.run(None, self.inputs(0, self.frames)), strict=True))
        self.source = values[SOURCE_STFT]
        norms, means = norm_tensors
        self.statistics: Feeds = {name: values[name] for name in means}
        for k, name in enumerate(norms):
            self.statistics[f"stat{k}_mean"] = values[name].mean(axis=2, keepdims=True)
            self.statistics[f"stat{k}_var"] = values[name].var(axis=2, keepdims=True)

    def inputs(self, lo: int, hi: int) -> Feeds:
        return {**decoder_feeds(self.curves, lo, hi), "style": self.style}

    def source_slice(self, lo: int, hi: int) -> Feeds:
        steps = slice(STFT_STEPS_PER_FRAME * lo, STFT_STEPS_PER_FRAME * hi + 1)
        return {SOURCE_STFT: self.source[:, steps]}


def windowed(
    decode: Callable[[int, int], np.ndarray], frames: int, window: int, context: int
) -> np.ndarray:
    """Decode [a - C, b + C) for each window [a, b) and join the windows' own samples."""
    parts = []
    for a in range(0, frames, window):
        b = min(frames, a + window)
        lo, hi = max(0, a - context), min(frames, b + context)
        parts.append(decode(lo, hi)[(a - lo) * SAMPLES_PER_FRAME : (b - lo) * SAMPLES_PER_FRAME])
    return np.concatenate(parts)


def source_model(decoder: onnx.ModelProto) -> onnx.ModelProto:
    """The decoder's harmonic source alone: the F0 curve in, the source's STFT out."""
    return onnx.utils.Extractor(decoder).extract_model([F0_CURVE], [SOURCE_STFT])


def level_difference_db(signal: np.ndarray, reference: np.ndarray) -> float:
    """Mean absolute level difference per 100 ms, over the reference's speech (within 40
    dB of its loudest frame)."""
    length = min(len(signal), len(reference)) // LEVEL_FRAME * LEVEL_FRAME
    ours = frame_levels_db(signal[:length], LEVEL_FRAME)
    theirs = frame_levels_db(reference[:length], LEVEL_FRAME)
    speech = theirs > theirs.max() - 40
    return float(np.abs(ours - theirs)[speech].mean())


def median_ms(action: Callable[[], object]) -> float:
    return 1000 * median_seconds(action, TIMING_RUNS)


class Decoders:
    """The sessions both tables use, and a runner that feeds each only what it takes."""

    def __init__(self, engine: KokoroEngine, threads: int) -> None:
        self.engine = engine
        decoder = onnx.load(str(engine.split_model()[1]))
        options = session_options(threads)

        def session(model: onnx.ModelProto) -> ort.InferenceSession:
            return ort.InferenceSession(model.SerializeToString(), options)

        self.plain = session(decoder)
        self.with_source = session(source_from_outside(decoder))
        self.with_statistics = session(statistics_from_outside(decoder))
        self.source = session(source_model(decoder))
        self.probe = session(probe(decoder))
        self.norm_tensors = _norm_tensors(decoder.graph)

    def utterance(self, text: str, language: str = "en-us", voice: str = VOICE) -> Utterance:
        return Utterance(self.engine, text, self.probe, self.norm_tensors, language, voice)

    @staticmethod
    def run(sess: ort.InferenceSession, feeds: Feeds) -> np.ndarray:
        wanted = {value.name for value in sess.get_inputs()}
        return sess.run(None, {k: v for k, v in feeds.items() if k in wanted})[0].reshape(-1)


def windows_table(decoders: Decoders) -> Table:
    run = decoders.run
    utterance = decoders.utterance(SENTENCE)
    other = decoders.utterance(OTHER_SENTENCE)
    rows: list[tuple[str, ort.InferenceSession, Callable[[int, int], Feeds]]] = [
        ("1. nothing", decoders.plain, utterance.inputs),
        (
            "2. its harmonic source",
            decoders.with_source,
            lambda lo, hi: {**utterance.inputs(lo, hi), **utterance.source_slice(lo, hi)},
        ),
        (
            "3. + its norm statistics",
            decoders.with_statistics,
            lambda lo, hi: {
                **utterance.inputs(lo, hi),
                **utterance.source_slice(lo, hi),
                **utterance.statistics,
            },
        ),
        (
            "4. + another's statistics",
            decoders.with_statistics,
            lambda lo, hi: {
                **utterance.inputs(lo, hi),
                **utterance.source_slice(lo, hi),
                **other.statistics,
            },
        ),
    ]
    columns = [(w, c) for w in WINDOWS for c in CONTEXTS]
    table = Table(
        title=f"Windowed vs one-shot decode, SNR in dB ({utterance.frames} frames, "
        f"{utterance.frames * SAMPLES_PER_FRAME / decoders.engine.sample_rate:.1f} s)"
    )
    table.add_column("shared (see doc)")
    for w, c in columns:
        table.add_column(f"W={w} C={c}", justify="right")
    for label, sess, feeds in rows:
        # Against the same graph's one-shot decode with the utterance's own statistics
        # (graphs that differ only in kernel fusion already differ by about 16 dB).
        one_shot = run(sess, {**feeds(0, utterance.frames), **utterance.statistics})
        cells = []
        for w, c in columns:
            decode = partial(lambda sess, feeds, lo, hi: run(sess, feeds(lo, hi)), sess, feeds)
            joined = windowed(decode, utterance.frames, w, c)
            cells.append(f"{snr_db(joined, one_shot):.1f}")
        table.add_row(label, *cells)
    return table


class Listener:
    """What a listener would notice: perceptual and recognition scores of one rendering
    against the model's own (the plain one-shot decode)."""

    def __init__(self, engine: KokoroEngine, asr: bool) -> None:
        self.engine = engine
        self.whisper = None
        if asr:
            from faster_whisper import WhisperModel

            from voiceclone.assets.paths import require_asr_assets

            model_dir = str(require_asr_assets().whisper_dir)
            self.whisper = WhisperModel(model_dir, device="cpu", compute_type="int8")

    def _at(self, audio: np.ndarray, rate: int) -> np.ndarray:
        return soxr.resample(audio, self.engine.sample_rate, rate)

    def _embed(self, audio: np.ndarray) -> np.ndarray:
        return self.engine.embedder.embed(self._at(audio, EMBEDDER_RATE))

    def heard(self, audio: np.ndarray, language: str) -> str:
        assert self.whisper is not None
        code = language.split("-")[0]
        segments, _ = self.whisper.transcribe(
            self._at(audio, WHISPER_RATE), language=code, beam_size=1
        )
        return " ".join(segment.text for segment in segments)

    def scores(self, audio: np.ndarray, own: np.ndarray, text: str, language: str) -> list[str]:
        cells = [
            f"{pesq(PESQ_RATE, self._at(own, PESQ_RATE), self._at(audio, PESQ_RATE), 'wb'):.2f}",
            f"{level_difference_db(audio, own):.2f}",
            f"{cosine(self._embed(audio), self._embed(own)):.3f}",
        ]
        if self.whisper is not None:
            unit = "char" if language == "ko" else "word"
            cells.append(f"{100 * error_rate([(text, self.heard(audio, language))], unit):.0f} %")
        return cells


def _fixed_rows(
    decoders: Decoders,
    listener: Listener,
    calibration: Utterance,
    utterance: Utterance,
    language: str,
) -> list[list[str]]:
    """The yardstick row and the fixed-statistics row for one sentence in one voice."""
    run = decoders.run
    frames = utterance.frames

    def fixed(lo: int, hi: int) -> Feeds:
        return {
            **utterance.inputs(lo, hi),
            **utterance.source_slice(lo, hi),
            **calibration.statistics,
        }

    own = run(decoders.plain, utterance.inputs(0, frames))
    same_maths = run(
        decoders.with_statistics,
        {**utterance.inputs(0, frames), **utterance.source_slice(0, frames)} | utterance.statistics,
    )
    one_shot = run(decoders.with_statistics, fixed(0, frames))
    joined = windowed(
        lambda lo, hi: run(decoders.with_statistics, fixed(lo, hi)),
        frames,
        FIXED_WINDOW,
        FIXED_CONTEXT,
    )
    f0 = {F0_CURVE: utterance.curves[1]}
    predictor_ms = median_ms(
        lambda: decoders.engine._predictor.run(None, utterance.predictor_inputs)
    )
    whole_ms = median_ms(lambda: run(decoders.plain, utterance.inputs(0, frames)))
    first_window_ms = median_ms(
        lambda: (
            decoders.source.run(None, f0),
            run(decoders.with_statistics, fixed(0, FIRST_WINDOW + FIXED_CONTEXT)),
        )
    )
    text = utterance.text
    return [
        [
            "own, one-shot",
            "",
            *listener.scores(same_maths, own, text, language),
            f"{predictor_ms + whole_ms:.0f} ms",
        ],
        [
            "fixed, windows",
            f"{snr_db(joined, one_shot):.1f}",
            *listener.scores(joined, own, text, language),
            f"{predictor_ms + first_window_ms:.0f} ms",
        ],
    ]


def fixed_statistics_table(decoders: Decoders, listener: Listener) -> Table:
    table = Table(
        title=f"Statistics fixed per voice (from the calibration line), W={FIXED_WINDOW} "
        f"C={FIXED_CONTEXT}: scored against the model's own rendering"
    )
    columns = ["voice", "text", "statistics", "SNR", "PESQ", "level Δ", "speaker"]
    if listener.whisper is not None:
        columns.append("WER/CER")
    for column in [*columns, "audio starts"]:
        table.add_column(column, justify="right")
    for voice in FIXED_VOICES:
        calibration = decoders.utterance(CALIBRATION_TEXT, voice=voice)
        for key, (language, text) in FIXED_SENTENCES.items():
            utterance = decoders.utterance(text, language, voice)
            for row in _fixed_rows(decoders, listener, calibration, utterance, language):
                table.add_row(voice, key, *row)
    return table


class FirstChunk:
    """A first chunk's predicted frames, the engine's speech range and its cut."""

    def __init__(self, engine: KokoroEngine, text: str, language: str) -> None:
        tokens, word_of_token = engine._tokens_by_word(engine._phonemizer.phonemize(text, language))
        self.style = engine._style_row(engine.stock_style(VOICE), len(tokens)).astype(np.float32)
        self.predictor_inputs = engine._predictor_inputs(tokens, self.style, 1.0)
        *self.curves, durations = engine._predictor.run(None, self.predictor_inputs)
        self.start, self.stop = engine._speech_range(tokens, durations)
        words = _word_spans(word_of_token, durations)
        boundaries = [
            round(begin / SECONDS_PER_FRAME) + ALIGNMENT_LEAD_FRAMES for begin, _ in words[1:]
        ]
        earliest = self.start + SPLIT_AFTER_S / SECONDS_PER_FRAME
        candidates = [
            k for k in boundaries if k >= earliest and self.stop - k >= SPLIT_MIN_REST_FRAMES
        ]
        energy = self.curves[2].reshape(-1)[::2]
        near = [k for k in candidates if k <= candidates[0] + SPLIT_LOOKAHEAD_FRAMES]
        self.cut = min(near, key=lambda k: float(energy[k - 1 : k + 2].mean()))

    def inputs(self, lo: int, hi: int) -> Feeds:
        return {**decoder_feeds(self.curves, lo, hi), "style": self.style}

    def first_part(self, context: int) -> tuple[int, int]:
        return self.start, min(self.stop, self.cut + context)

    def second_part(self, context: int) -> tuple[int, int]:
        return max(self.start, self.cut - context), self.stop


def joined_at_cut(first: np.ndarray, second: np.ndarray, cut: int, second_from: int) -> np.ndarray:
    """``first`` up to sample ``cut``, ``second`` (which starts at sample ``second_from``
    of the chunk) after it, crossfaded over SPLIT_FADE samples either side."""
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, 2 * SPLIT_FADE, dtype=np.float32))
    head = first[: cut + SPLIT_FADE]
    tail = second[cut - second_from - SPLIT_FADE :]
    fade = head[-2 * SPLIT_FADE :] * (1 - ramp) + tail[: 2 * SPLIT_FADE] * ramp
    return np.concatenate([head[: -2 * SPLIT_FADE], fade, tail[2 * SPLIT_FADE :]])


def level_db(audio: np.ndarray) -> float:
    return float(frame_levels_db(audio, len(audio))[0])


def split_once_table(decoders: Decoders, listener: Listener) -> Table:
    run, engine = decoders.run, decoders.engine
    table = Table(
        title=f"A first chunk cut once at a word boundary ≥ {SPLIT_AFTER_S} s in, each part "
        "normalised by itself: scored against the chunk decoded whole"
    )
    columns = ["text", "C", "cut at", "first part level", "step", "PESQ", "level Δ", "speaker"]
    # "whole" rows: the chunk against itself, so WER/CER there is whisper's own error.
    if listener.whisper is not None:
        columns.append("WER/CER")
    for column in [*columns, "audio starts"]:
        table.add_column(column, justify="right")
    for key, (language, text) in SPLIT_TEXTS.items():
        chunk = FirstChunk(engine, text, language)
        whole = run(decoders.plain, chunk.inputs(chunk.start, chunk.stop))
        predictor_ms = median_ms(
            lambda chunk=chunk: engine._predictor.run(None, chunk.predictor_inputs)
        )
        whole_ms = median_ms(
            lambda chunk=chunk: run(decoders.plain, chunk.inputs(chunk.start, chunk.stop))
        )
        cut = (chunk.cut - chunk.start) * SAMPLES_PER_FRAME
        length = f"{(chunk.stop - chunk.start) * SECONDS_PER_FRAME:.2f} s"
        yardstick = listener.scores(whole, whole, text, language)
        table.add_row(key, "whole", length, "", "", *yardstick, f"{predictor_ms + whole_ms:.0f} ms")
        for context in SPLIT_CONTEXTS:
            first_range, second_range = chunk.first_part(context), chunk.second_part(context)
            first = run(decoders.plain, chunk.inputs(*first_range))
            second = run(decoders.plain, chunk.inputs(*second_range))
            second_from = (second_range[0] - chunk.start) * SAMPLES_PER_FRAME
            joined = joined_at_cut(first, second, cut, second_from)[: len(whole)]
            before = level_db(joined[cut - LEVEL_FRAME : cut]) - level_db(
                whole[cut - LEVEL_FRAME : cut]
            )
            after = level_db(joined[cut : cut + LEVEL_FRAME]) - level_db(
                whole[cut : cut + LEVEL_FRAME]
            )
            first_ms = median_ms(lambda r=first_range, c=chunk: run(decoders.plain, c.inputs(*r)))
            table.add_row(
                key,
                str(context),
                f"{(chunk.cut - chunk.start) * SECONDS_PER_FRAME:.2f} of {length}",
                f"{level_db(joined[:cut]) - level_db(whole[:cut]):+.1f} dB",
                f"{after - before:+.1f} dB",
                *listener.scores(joined, whole, text, language),
                f"{predictor_ms + first_ms:.0f} ms",
            )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: all)")
    parser.add_argument("--no-asr", action="store_true", help="skip whisper's word error rate")
    args = parser.parse_args()
    engine = KokoroEngine()
    decoders = Decoders(engine, args.threads or 0)
    console = Console()
    console.print(windows_table(decoders))
    listener = Listener(engine, not args.no_asr)
    console.print(fixed_statistics_table(decoders, listener))
    console.print(split_once_table(decoders, listener))


if __name__ == "__main__":
    main()
