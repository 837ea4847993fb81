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

    python bench/streaming_decode.py
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper
from rich.console import Console
from rich.table import Table

from voiceclone.engines.kokoro.engine import KokoroEngine
from voiceclone.engines.kokoro.optimize import DECODER_INPUTS, session_options

SENTENCE = "The morning light came slowly over the hills, and the quiet village began to wake."
OTHER_SENTENCE = "She opened the window and looked out at the quiet street."
VOICE = "af_heart"
SAMPLES_PER_FRAME = 600
CURVE_STEPS_PER_FRAME = 2  # F0 and energy have two values per frame
STFT_STEPS_PER_FRAME = 120  # the source's STFT hops 5 samples
SOURCE_STFT = "/decoder/decoder/generator/STFT_output_0"
WINDOWS = (12, 40)
CONTEXTS = (4, 8, 16, 32)

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
    ) -> None:
        tokens = engine._tokens(engine._phonemizer.phonemize(text, "en-us"))
        self.style = engine._style_row(engine.stock_style(VOICE), len(tokens)).astype(np.float32)
        inputs = {
            "tokens": np.array([[0, *tokens, 0]], np.int64),
            "style": self.style,
            "speed": np.array([1.0], np.float32),
        }
        *self.curves, _ = engine._predictor.run(None, inputs)
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
        steps = (1, CURVE_STEPS_PER_FRAME, CURVE_STEPS_PER_FRAME)
        feeds = {
            name: np.ascontiguousarray(curve[..., per * lo : per * hi])
            for name, curve, per in zip(DECODER_INPUTS, self.curves, steps, strict=True)
        }
        return {**feeds, "style": self.style}

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0: all)")
    args = parser.parse_args()
    engine = KokoroEngine()
    decoder = onnx.load(str(engine.split_model()[1]))
    options = session_options(args.threads or 0)

    def session(model: onnx.ModelProto) -> ort.InferenceSession:
        return ort.InferenceSession(model.SerializeToString(), options)

    plain = session(decoder)
    with_source = session(source_from_outside(decoder))
    with_statistics = session(statistics_from_outside(decoder))
    probe_session = session(probe(decoder))
    norm_tensors = _norm_tensors(decoder.graph)
    utterance = Utterance(engine, SENTENCE, probe_session, norm_tensors)
    other = Utterance(engine, OTHER_SENTENCE, probe_session, norm_tensors)

    def run(sess: ort.InferenceSession, feeds: Feeds) -> np.ndarray:
        wanted = {value.name for value in sess.get_inputs()}
        return sess.run(None, {k: v for k, v in feeds.items() if k in wanted})[0].reshape(-1)

    rows: list[tuple[str, ort.InferenceSession, Callable[[int, int], Feeds]]] = [
        ("1. nothing", plain, utterance.inputs),
        (
            "2. its harmonic source",
            with_source,
            lambda lo, hi: {**utterance.inputs(lo, hi), **utterance.source_slice(lo, hi)},
        ),
        (
            "3. + its norm statistics",
            with_statistics,
            lambda lo, hi: {
                **utterance.inputs(lo, hi),
                **utterance.source_slice(lo, hi),
                **utterance.statistics,
            },
        ),
        (
            "4. + another's statistics",
            with_statistics,
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
        f"{utterance.frames * SAMPLES_PER_FRAME / engine.sample_rate:.1f} s)"
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
    Console().print(table)


if __name__ == "__main__":
    main()
