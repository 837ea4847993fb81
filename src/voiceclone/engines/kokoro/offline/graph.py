"""Offline graph rewrites that make the Kokoro-82M ONNX model fast on x86 CPUs.

The published ``kokoro.onnx`` is a *dynamically* quantised export: every convolution is a
``DynamicQuantizeLinear -> ConvInteger(u8, u8) -> Cast -> Mul`` chain. On x86 onnxruntime runs
u8×u8 ``ConvInteger`` through a slow generic GEMM (it is slower than a float ``Conv``), and the
iSTFTNet generator — 48 dilated 1-D convolutions over 128 or 256 channels at up to 32 k frames
— is about 60 % of the compute. :func:`optimize_kokoro` rewrites the graph in five steps:

1. ``ConvInteger`` chains become float ``Conv`` nodes with dequantised weights (also drops the
   per-call activation min/max pass).
2. AdaIN's hand-written instance norm (``ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Div,
   Mul, Add``: nine passes over a large tensor) becomes one ``InstanceNormalization`` whose
   scale/bias are the style-dependent ``1 + gamma`` / ``beta``.
3. ``Pow(x, 2)`` in the Snake activations becomes ``Mul(x, x)``.
4. The generator's resblock convolutions get static QDQ quantisation (int8 activations with
   calibrated ranges, per-channel symmetric int8 weights, int32 bias). onnxruntime fuses each
   ``DQ -> Conv -> Q`` group into ``QLinearConv``, whose u8×s8 kernels use AVX-512 VNNI and run
   3-4× faster than the float ``Conv``. Step 2 is a prerequisite: ORT does not fuse a conv
   whose output ``DQ`` feeds two nodes (the old ``ReduceMean`` + ``Sub``).
5. The harmonic source's ``STFT`` becomes a strided ``Conv`` whose kernels are the windowed
   DFT: the same spectrum to float rounding, 5 % less decoder time. (The source's phase is
   ``atan2`` of that spectrum, so where a bin sits on the branch cut rounding flips it:
   the float graph with either STFT renders PESQ 3.8-4.0 from the other.)

A sixth change adds an output rather than speed: ``durations``, the predictor's frames per
input token (int64, one row per token including the two boundary tokens), from which word
timings are read without any extra model.

:func:`split_kokoro` then cuts the optimised graph in two where the predictor hands over to
the decoder (aligned features, F0 and energy curves per frame), so the engine can drop the
predicted silence around the speech before paying for its decoding.

The output is a plain ONNX model (no ORT-specific fused kernels), so it is portable and its
bytes depend only on the input bytes; pin it by sha256.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnx.utils
from onnx import helper, numpy_helper

from voiceclone.engines.kokoro.sessions import DECODER_INPUTS, DURATIONS_OUTPUT

__all__ = ["optimize_kokoro", "split_kokoro"]

_GENERATOR = "/decoder/decoder/generator/"
# Resblock / noise_res convolutions of the generator: the only convs worth quantising.
_QUANT_CONV = re.compile(r"generator/(resblocks|noise_res)\.\d+/convs[12]\.\d+/")
_INT8_MAX = 127.0
# Clip ranges are the calibrated 99.999th percentile of |x| scaled by these margins. Outputs
# are clipped harder: rounding noise on a conv output is worse than clipping rare peaks
# (measured on log-mel distance to the float model; 0.7 beat 0.5, 0.85 and 1.2).
_INPUT_MARGIN = 1.0
_OUTPUT_MARGIN = 0.7

# 99.999th percentile of |activation| of each quantised conv's input and output, keyed by
# tensor name without the generator prefix and the "_output_0" suffix. Measured with the float
# model (step 1) on 10 utterances: 5 English sentences x 8 voices, speed 0.8/1.0/1.2.
_CALIBRATED_ABSMAX: dict[str, float] = {
    "noise_res.0/Add_1": 4.002,
    "noise_res.0/Add_3": 21.617,
    "noise_res.0/Add_4": 4.642,
    "noise_res.0/Add_6": 14.992,
    "noise_res.0/Add_7": 3.465,
    "noise_res.0/Add": 20.928,
    "noise_res.0/convs1.0/Conv": 16.499,
    "noise_res.0/convs1.1/Conv": 20.451,
    "noise_res.0/convs1.2/Conv": 9.983,
    "noise_res.0/convs2.0/Conv": 0.916,
    "noise_res.0/convs2.1/Conv": 2.201,
    "noise_res.0/convs2.2/Conv": 3.077,
    "noise_res.1/Add_1": 6.089,
    "noise_res.1/Add_3": 12.471,
    "noise_res.1/Add_4": 3.177,
    "noise_res.1/Add_6": 10.722,
    "noise_res.1/Add_7": 2.132,
    "noise_res.1/Add": 23.641,
    "noise_res.1/convs1.0/Conv": 26.499,
    "noise_res.1/convs1.1/Conv": 8.150,
    "noise_res.1/convs1.2/Conv": 6.246,
    "noise_res.1/convs2.0/Conv": 1.291,
    "noise_res.1/convs2.1/Conv": 0.808,
    "noise_res.1/convs2.2/Conv": 1.920,
    "resblocks.0/Add_1": 10.150,
    "resblocks.0/Add_3": 9.244,
    "resblocks.0/Add_4": 11.452,
    "resblocks.0/Add_6": 10.823,
    "resblocks.0/Add_7": 21.008,
    "resblocks.0/Add": 10.715,
    "resblocks.0/convs1.0/Conv": 5.599,
    "resblocks.0/convs1.1/Conv": 5.014,
    "resblocks.0/convs1.2/Conv": 7.263,
    "resblocks.0/convs2.0/Conv": 10.904,
    "resblocks.0/convs2.1/Conv": 11.784,
    "resblocks.0/convs2.2/Conv": 35.160,
    "resblocks.1/Add_1": 11.162,
    "resblocks.1/Add_3": 16.599,
    "resblocks.1/Add_4": 18.033,
    "resblocks.1/Add_6": 22.743,
    "resblocks.1/Add_7": 49.913,
    "resblocks.1/Add": 14.275,
    "resblocks.1/convs1.0/Conv": 11.393,
    "resblocks.1/convs1.1/Conv": 10.731,
    "resblocks.1/convs1.2/Conv": 18.209,
    "resblocks.1/convs2.0/Conv": 11.273,
    "resblocks.1/convs2.1/Conv": 32.083,
    "resblocks.1/convs2.2/Conv": 221.358,
    "resblocks.2/Add_1": 9.877,
    "resblocks.2/Add_3": 12.732,
    "resblocks.2/Add_4": 10.326,
    "resblocks.2/Add_6": 12.228,
    "resblocks.2/Add_7": 23.491,
    "resblocks.2/Add": 11.720,
    "resblocks.2/convs1.0/Conv": 8.739,
    "resblocks.2/convs1.1/Conv": 10.220,
    "resblocks.2/convs1.2/Conv": 10.340,
    "resblocks.2/convs2.0/Conv": 8.682,
    "resblocks.2/convs2.1/Conv": 9.963,
    "resblocks.2/convs2.2/Conv": 47.468,
    "resblocks.3/Add_1": 15.441,
    "resblocks.3/Add_3": 22.277,
    "resblocks.3/Add_4": 14.029,
    "resblocks.3/Add_6": 21.207,
    "resblocks.3/Add_7": 19.253,
    "resblocks.3/Add": 17.823,
    "resblocks.3/convs1.0/Conv": 9.414,
    "resblocks.3/convs1.1/Conv": 11.890,
    "resblocks.3/convs1.2/Conv": 13.712,
    "resblocks.3/convs2.0/Conv": 20.674,
    "resblocks.3/convs2.1/Conv": 37.989,
    "resblocks.3/convs2.2/Conv": 97.937,
    "resblocks.4/Add_1": 16.624,
    "resblocks.4/Add_3": 22.757,
    "resblocks.4/Add_4": 17.370,
    "resblocks.4/Add_6": 20.889,
    "resblocks.4/Add_7": 23.456,
    "resblocks.4/Add": 44.310,
    "resblocks.4/convs1.0/Conv": 19.295,
    "resblocks.4/convs1.1/Conv": 11.534,
    "resblocks.4/convs1.2/Conv": 26.024,
    "resblocks.4/convs2.0/Conv": 17.516,
    "resblocks.4/convs2.1/Conv": 24.399,
    "resblocks.4/convs2.2/Conv": 82.007,
    "resblocks.5/Add_1": 15.394,
    "resblocks.5/Add_3": 21.440,
    "resblocks.5/Add_4": 14.102,
    "resblocks.5/Add_6": 18.256,
    "resblocks.5/Add_7": 18.192,
    "resblocks.5/Add": 42.952,
    "resblocks.5/convs1.0/Conv": 19.519,
    "resblocks.5/convs1.1/Conv": 12.376,
    "resblocks.5/convs1.2/Conv": 14.115,
    "resblocks.5/convs2.0/Conv": 12.613,
    "resblocks.5/convs2.1/Conv": 17.262,
    "resblocks.5/convs2.2/Conv": 54.231,
}


@dataclass
class _Graph:
    """Index over an ``onnx.GraphProto`` for pattern matching and node replacement."""

    graph: onnx.GraphProto
    inits: dict[str, onnx.TensorProto] = field(init=False)
    producer: dict[str, onnx.NodeProto] = field(init=False)
    consumers: dict[str, list[onnx.NodeProto]] = field(init=False)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self.inits = {t.name: t for t in self.graph.initializer}
        self.producer = {o: n for n in self.graph.node for o in n.output}
        self.consumers = {}
        for node in self.graph.node:
            for name in dict.fromkeys(node.input):  # a node listed once even if x is used twice
                self.consumers.setdefault(name, []).append(node)

    def const(self, name: str) -> np.ndarray | None:
        tensor = self.inits.get(name)
        return None if tensor is None else numpy_helper.to_array(tensor)

    def sole_consumer(self, name: str, op_type: str) -> onnx.NodeProto | None:
        users = self.consumers.get(name, [])
        return users[0] if len(users) == 1 and users[0].op_type == op_type else None

    def rewrite(
        self,
        replace: dict[int, list[onnx.NodeProto]],
        drop: set[int],
        new_inits: Iterable[onnx.TensorProto] = (),
    ) -> None:
        """Insert ``replace[id(n)]`` in place of node ``n``, drop ``drop``, prune dead code."""
        nodes: list[onnx.NodeProto] = []
        for node in self.graph.node:
            if id(node) in replace:
                nodes.extend(replace[id(node)])
            elif id(node) not in drop:
                nodes.append(node)
        self.graph.initializer.extend(new_inits)
        needed = {o.name for o in self.graph.output}
        alive: list[onnx.NodeProto] = []
        for node in reversed(nodes):
            if any(o in needed for o in node.output):
                alive.append(node)
                needed.update(node.input)
        alive.reverse()
        del self.graph.node[:]
        self.graph.node.extend(alive)
        kept = [t for t in self.graph.initializer if t.name in needed]
        del self.graph.initializer[:]
        self.graph.initializer.extend(kept)
        self.reindex()


def _conv_integer_to_conv(g: _Graph) -> int:
    """Replace ``DynamicQuantizeLinear -> ConvInteger [-> Add bias] -> Cast -> Mul`` by ``Conv``.

    The onnxruntime dynamic quantiser emits the bias as ``round(b / (x_scale * w_scale))``
    added in the integer domain; the float bias is the first input of the ``Div`` at the root
    of that side chain. Weights become ``(w_q - w_zp) * w_scale`` in float32.
    """
    replace: dict[int, list[onnx.NodeProto]] = {}
    drop: set[int] = set()
    new_inits: list[onnx.TensorProto] = []
    for conv in [n for n in g.graph.node if n.op_type == "ConvInteger"]:
        quantize = g.producer[conv.input[0]]
        if quantize.op_type != "DynamicQuantizeLinear":
            raise ValueError(f"{conv.name}: input is not dynamically quantised")
        w_name = conv.input[1]
        w_q = g.const(w_name)
        w_zp = g.const(conv.input[3])
        w_scale = g.const(w_name.removesuffix("_quantized") + "_scale")
        if w_q is None or w_zp is None or w_scale is None:
            raise ValueError(f"{conv.name}: weight, zero point or scale is not constant")
        weight = (w_q.astype(np.float32) - w_zp.astype(np.float32)) * w_scale.astype(np.float32)

        chain = [conv]
        bias: str | None = None
        nxt = g.consumers[conv.output[0]][0]
        if nxt.op_type == "Add":
            other = next(i for i in nxt.input if i != conv.output[0])
            root = g.producer[other]
            while root.op_type != "Div":
                root = g.producer[root.input[0]]
            bias = root.input[0]
            chain.append(nxt)
            nxt = g.consumers[nxt.output[0]][0]
        cast = nxt
        mul = g.consumers[cast.output[0]][0]
        if cast.op_type != "Cast" or mul.op_type != "Mul":
            raise ValueError(f"{conv.name}: unexpected requantisation chain")
        chain.append(cast)

        w_float = f"{conv.name}_float_weight"
        new_inits.append(numpy_helper.from_array(weight, w_float))
        inputs = [quantize.input[0], w_float] + ([bias] if bias else [])
        node = helper.make_node("Conv", inputs, [mul.output[0]], name=f"{conv.name}_float")
        node.attribute.extend(conv.attribute)
        replace[id(mul)] = [node]
        drop.update(id(n) for n in chain)
    g.rewrite(replace, drop, new_inits)
    return len(replace)


def _instance_norms(g: _Graph) -> int:
    """Fuse AdaIN's ``(x - mean) / sqrt(var + eps) * gamma + beta`` into InstanceNormalization.

    ``gamma``/``beta`` are ``[1, C, 1]`` tensors computed from the style vector; the model runs
    with batch 1, so reshaping them to ``[C]`` gives InstanceNormalization's scale and bias.
    """
    flat = "kokoro_opt/shape_flat"
    replace: dict[int, list[onnx.NodeProto]] = {}
    drop: set[int] = set()
    for mean in [n for n in g.graph.node if n.op_type == "ReduceMean"]:
        matched = _match_instance_norm(g, mean)
        if matched is None:
            continue
        x, eps, gamma, beta, nodes = matched
        out = nodes[-1].output[0]
        base = mean.name.rsplit("/", 1)[0] + "/InstanceNormalization"
        replace[id(nodes[-1])] = [
            helper.make_node("Reshape", [gamma, flat], [f"{base}_scale"], name=f"{base}_scale"),
            helper.make_node("Reshape", [beta, flat], [f"{base}_bias"], name=f"{base}_bias"),
            helper.make_node(
                "InstanceNormalization",
                [x, f"{base}_scale", f"{base}_bias"],
                [out],
                name=base,
                epsilon=eps,
            ),
        ]
        drop.update(id(n) for n in nodes[:-1])
    if replace:
        g.rewrite(replace, drop, [numpy_helper.from_array(np.array([-1], np.int64), flat)])
    return len(replace)


def _match_instance_norm(
    g: _Graph, mean: onnx.NodeProto
) -> tuple[str, float, str, str, list[onnx.NodeProto]] | None:
    """Match the AdaIN chain rooted at ``mean``; return (x, eps, gamma, beta, nodes)."""
    axes = g.const(mean.input[1]) if len(mean.input) > 1 else None
    if axes is None or axes.ravel().tolist() != [2]:
        return None
    x = mean.input[0]
    sub = g.sole_consumer(mean.output[0], "Sub")
    if sub is None or list(sub.input) != [x, mean.output[0]]:
        return None
    centred = sub.output[0]
    users = g.consumers.get(centred, [])
    square = next((n for n in users if n.op_type == "Mul" and list(n.input) == [centred] * 2), None)
    div = next((n for n in users if n.op_type == "Div" and n.input[0] == centred), None)
    if len(users) != 2 or square is None or div is None:
        return None
    var = g.sole_consumer(square.output[0], "ReduceMean")
    if var is None:
        return None
    add_eps = g.sole_consumer(var.output[0], "Add")
    if add_eps is None:
        return None
    eps = g.const(add_eps.input[1])
    sqrt = g.sole_consumer(add_eps.output[0], "Sqrt")
    if eps is None or eps.size != 1 or sqrt is None or div.input[1] != sqrt.output[0]:
        return None
    scale = g.sole_consumer(div.output[0], "Mul")
    if scale is None:
        return None
    shift = g.sole_consumer(scale.output[0], "Add")
    if shift is None:
        return None
    gamma = next(i for i in scale.input if i != div.output[0])
    beta = next(i for i in shift.input if i != scale.output[0])
    nodes = [mean, sub, square, var, add_eps, sqrt, div, scale, shift]
    return x, float(eps.ravel()[0]), gamma, beta, nodes


def _square_pows(g: _Graph) -> int:
    """``Pow(x, 2)`` -> ``Mul(x, x)``: same result, cheaper kernel (Snake activations)."""
    replace: dict[int, list[onnx.NodeProto]] = {}
    for node in g.graph.node:
        if node.op_type != "Pow":
            continue
        exponent = g.const(node.input[1])
        if exponent is not None and exponent.size == 1 and float(exponent.ravel()[0]) == 2.0:
            mul = helper.make_node("Mul", [node.input[0]] * 2, list(node.output), name=node.name)
            replace[id(node)] = [mul]
    g.rewrite(replace, set())
    return len(replace)


def _stft_as_conv(g: _Graph) -> int:
    """``STFT`` -> a strided ``Conv`` with the windowed DFT as its kernels (onnxruntime's
    STFT kernel took 7 % of the decoder's time; the convolution almost nothing). The output
    keeps STFT's layout, ``[1, frames, bins, 2]``; batch 1, as the engine runs."""
    replace: dict[int, list[onnx.NodeProto]] = {}
    new_inits: list[onnx.TensorProto] = []
    for stft in [n for n in g.graph.node if n.op_type == "STFT"]:
        signal, step, window, length = (list(stft.input) + [""] * 4)[:4]
        hop, taps, size = g.const(step), g.const(window), g.const(length)
        onesided = next((a.i for a in stft.attribute if a.name == "onesided"), 1)
        if hop is None or taps is None or size is None or onesided != 1:
            raise ValueError(f"{stft.name}: expected a constant one-sided STFT")
        frame = int(size)
        bins = frame // 2 + 1
        angle = 2 * np.pi * np.outer(np.arange(bins), np.arange(frame)) / frame
        kernel = np.concatenate([np.cos(angle), -np.sin(angle)]) * taps.astype(np.float64)
        base = stft.name
        new_inits += [
            numpy_helper.from_array(kernel.astype(np.float32)[:, None, :], f"{base}_dft"),
            numpy_helper.from_array(np.array([1, 1, -1], np.int64), f"{base}_signal_shape"),
            numpy_helper.from_array(np.array([1, 2, bins, -1], np.int64), f"{base}_parts_shape"),
        ]
        replace[id(stft)] = [
            helper.make_node(
                "Reshape", [signal, f"{base}_signal_shape"], [f"{base}_signal"], name=f"{base}_in"
            ),
            helper.make_node(
                "Conv",
                [f"{base}_signal", f"{base}_dft"],
                [f"{base}_conv"],
                name=f"{base}_conv",
                kernel_shape=[frame],
                strides=[int(hop)],
            ),
            helper.make_node(
                "Reshape", [f"{base}_conv", f"{base}_parts_shape"], [f"{base}_parts"], name=base
            ),
            helper.make_node(
                "Transpose",
                [f"{base}_parts"],
                list(stft.output),
                name=f"{base}_out",
                perm=[0, 3, 2, 1],
            ),
        ]
    g.rewrite(replace, set(), new_inits)
    return len(replace)


def _absmax(tensor: str, margin: float) -> np.float32:
    key = tensor.removeprefix(_GENERATOR).removesuffix("_output_0")
    if key not in _CALIBRATED_ABSMAX:
        raise KeyError(f"no calibration range for {tensor}: is this the pinned kokoro.onnx?")
    return np.float32(_CALIBRATED_ABSMAX[key] * margin / _INT8_MAX)


def _quantize_generator_convs(g: _Graph) -> int:
    """Wrap each generator resblock conv in QDQ nodes so ORT runs it as int8 QLinearConv.

    Activations: symmetric int8 (zero point 0) with static calibrated scales. Weights:
    per-output-channel symmetric int8. Bias: int32 at scale ``x_scale * w_scale``, the form
    ORT's QDQ->QLinearConv fusion expects.
    """
    zero = "kokoro_opt/zero_point_s8"
    new_inits = [numpy_helper.from_array(np.array(0, np.int8), zero)]
    replace: dict[int, list[onnx.NodeProto]] = {}
    quantized_inputs: dict[str, str] = {}
    for conv in [n for n in g.graph.node if n.op_type == "Conv" and _QUANT_CONV.search(n.name)]:
        x, w_name, b_name = conv.input
        y = conv.output[0]
        base = conv.name
        weight, bias = g.const(w_name), g.const(b_name)
        if weight is None or bias is None:
            raise ValueError(f"{base}: weight or bias is not constant")
        nodes: list[onnx.NodeProto] = []

        x_scale = _absmax(x, _INPUT_MARGIN)
        if x not in quantized_inputs:
            new_inits.append(numpy_helper.from_array(np.array(x_scale), f"{x}_scale"))
            nodes += _qdq(x, f"{x}_scale", zero, f"{x}_dequantized")
            quantized_inputs[x] = f"{x}_dequantized"

        w_scale = (np.abs(weight).max(axis=(1, 2)) / _INT8_MAX).astype(np.float32)
        w_scale[w_scale == 0] = 1.0
        w_q = np.clip(np.round(weight / w_scale[:, None, None]), -127, 127).astype(np.int8)
        b_scale = (x_scale * w_scale).astype(np.float32)
        b_q = np.round(bias / b_scale).astype(np.int32)
        channels = len(w_scale)
        new_inits += [
            numpy_helper.from_array(w_q, f"{base}_w_q"),
            numpy_helper.from_array(w_scale, f"{base}_w_scale"),
            numpy_helper.from_array(np.zeros(channels, np.int8), f"{base}_w_zero"),
            numpy_helper.from_array(b_q, f"{base}_b_q"),
            numpy_helper.from_array(b_scale, f"{base}_b_scale"),
            numpy_helper.from_array(np.zeros(channels, np.int32), f"{base}_b_zero"),
            numpy_helper.from_array(np.array(_absmax(y, _OUTPUT_MARGIN)), f"{base}_y_scale"),
        ]
        for part in ("w", "b"):
            nodes.append(
                helper.make_node(
                    "DequantizeLinear",
                    [f"{base}_{part}_q", f"{base}_{part}_scale", f"{base}_{part}_zero"],
                    [f"{base}_{part}_dequantized"],
                    name=f"{base}_{part}_dequantize",
                    axis=0,
                )
            )
        inputs = [quantized_inputs[x], f"{base}_w_dequantized", f"{base}_b_dequantized"]
        new_conv = helper.make_node("Conv", inputs, [f"{y}_float"], name=base)
        new_conv.attribute.extend(conv.attribute)
        nodes.append(new_conv)
        nodes += _qdq(f"{y}_float", f"{base}_y_scale", zero, y)
        replace[id(conv)] = nodes
    g.rewrite(replace, set(), new_inits)
    return len(replace)


def _qdq(src: str, scale: str, zero: str, dst: str) -> list[onnx.NodeProto]:
    return [
        helper.make_node("QuantizeLinear", [src, scale, zero], [f"{src}_q"], name=f"{src}_q"),
        helper.make_node("DequantizeLinear", [f"{src}_q", scale, zero], [dst], name=f"{dst}_dq"),
    ]


READABLE_BY_ALL = 0o644


def _expose_durations(g: _Graph) -> None:
    """Add the predicted frames per token (``Round -> Clip -> Cast``) as an output."""
    (rounded,) = [node for node in g.graph.node if node.op_type == "Round"]
    clip = g.sole_consumer(rounded.output[0], "Clip")
    cast = clip and g.sole_consumer(clip.output[0], "Cast")
    if cast is None:
        raise ValueError("the duration predictor's Round -> Clip -> Cast chain was not found")
    g.graph.node.append(helper.make_node("Identity", [cast.output[0]], [DURATIONS_OUTPUT]))
    g.graph.output.append(
        helper.make_tensor_value_info(DURATIONS_OUTPUT, onnx.TensorProto.INT64, [1, "tokens"])
    )
    g.reindex()


def optimize_kokoro(src: Path, dst: Path, *, quantize: bool = True) -> None:
    """Write a ~2x faster copy of the int8 ``kokoro.onnx`` (``src``) to ``dst``.

    ``quantize=False`` stops before step 4 and leaves every convolution in float, for
    comparing runtimes and CPUs (``bench/decoder_runtimes.py``); the engine always quantises.

    Quality: log-mel distance to a float-conv reference is equal or lower than the original
    int8 model's in speech regions; the noise floor in near-silent frames is a little higher.

    Deterministic: the same ``src`` bytes always give the same ``dst`` bytes. Raises
    ``ValueError``/``KeyError`` if ``src`` is not the expected dynamically quantised export.
    """
    model = onnx.load(str(src))
    g = _Graph(model.graph)
    if _conv_integer_to_conv(g) == 0:
        raise ValueError(f"{src}: no ConvInteger nodes; expected the int8 kokoro.onnx export")
    _instance_norms(g)
    _square_pows(g)
    _stft_as_conv(g)
    if quantize and _quantize_generator_convs(g) != 48:
        raise ValueError(f"{src}: expected 48 generator resblock convolutions")
    _expose_durations(g)
    _write_model(model, dst)


def split_kokoro(src: Path, predictor_dst: Path, decoder_dst: Path) -> None:
    """Cut the optimised model (``src``) into its predictor (tokens, style, speed ->
    :data:`DECODER_INPUTS` and ``durations``) and its decoder (those inputs and the style ->
    audio). Decoding all the predicted frames gives exactly the whole model's audio;
    decoding a range of frames speaks only that part. Deterministic, like the optimisation.
    """
    extractor = onnx.utils.Extractor(onnx.load(str(src)))
    predictor = extractor.extract_model(
        ["tokens", "style", "speed"], [*DECODER_INPUTS, DURATIONS_OUTPUT]
    )
    decoder = extractor.extract_model([*DECODER_INPUTS, "style"], ["audio"])
    _write_model(predictor, predictor_dst)
    _write_model(decoder, decoder_dst)


def _write_model(model: onnx.ModelProto, dst: Path) -> None:
    onnx.checker.check_model(model)
    dst.parent.mkdir(parents=True, exist_ok=True)
    # A unique temp name: two processes may optimise at once; each replace is atomic.
    with tempfile.NamedTemporaryFile(dir=dst.parent, suffix=".partial", delete=False) as tmp:
        tmp.write(model.SerializeToString(deterministic=True))
    # Temp files are private (0600); a derived model is as readable as the downloaded one,
    # so other users (a container's service user) can load it.
    Path(tmp.name).chmod(READABLE_BY_ALL)
    Path(tmp.name).replace(dst)
