"""How the engine runs its ONNX graphs: session options, execution providers, and the
hand-over from the duration predictor to the decoder (the graphs themselves are derived once
at install by :mod:`voiceclone.engines.kokoro.offline.graph`)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import onnxruntime

#: The predictor's frames per input token (one row per token, boundary tokens included).
DURATIONS_OUTPUT = "durations"

# The predictor's hand-over to the decoder: the text features aligned to frames (1, 512, F),
# the F0 and energy curves (1, 2F), where one frame is 600 samples of audio.
ALIGNED_FEATURES = "/encoder/MatMul_1_output_0"
F0_CURVE = "/encoder/Reshape_output_0"
ENERGY_CURVE = "/encoder/Reshape_1_output_0"
DECODER_INPUTS = (ALIGNED_FEATURES, F0_CURVE, ENERGY_CURVE)
DECODER_STEPS_PER_FRAME = (1, 2, 2)  # values per frame of each of DECODER_INPUTS


def decoder_feeds(curves: Sequence[np.ndarray], start: int, stop: int) -> dict[str, np.ndarray]:
    """The decoder's inputs for frames [start, stop) of the predictor's hand-over
    (``curves`` in the order of :data:`DECODER_INPUTS`)."""
    return {
        name: np.ascontiguousarray(curve[..., steps * start : steps * stop])
        for name, curve, steps in zip(DECODER_INPUTS, curves, DECODER_STEPS_PER_FRAME, strict=True)
    }


@cache
def _register_shared_cpu_arena() -> None:
    memory = onnxruntime.OrtMemoryInfo(
        "Cpu", onnxruntime.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, onnxruntime.OrtMemType.DEFAULT
    )
    onnxruntime.create_and_register_allocator(memory, onnxruntime.OrtArenaCfg(0, -1, -1, -1))


def session_options(threads: int, *, side_by_side: bool = False) -> onnxruntime.SessionOptions:
    """Session options for the optimised model on a small x86 CPU (measured: see the
    performance page of the docs).

    Full graph optimisation is required (it performs the QDQ -> QLinearConv fusion and the
    NHWC layout transform for the int8 convs). Sequential execution, spinning worker threads
    and the memory arena (ORT defaults) were each faster than the alternatives for one
    chunk at a time. All sessions draw on one process-wide arena rather than one each:
    less memory at the same speed, and without any arena glibc kept freed buffers.

    ``side_by_side``: sessions that run chunks at the same time, whose spinning workers
    would take the cores the other chunks need.
    """
    _register_shared_cpu_arena()
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = True
    options.add_session_config_entry("session.use_env_allocators", "1")
    options.log_severity_level = 3  # the QDQ model logs harmless warnings at load
    if side_by_side:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


CUDA_PROVIDER = "CUDAExecutionProvider"
CPU_PROVIDER = "CPUExecutionProvider"


def onnx_providers(device: str) -> list[str]:
    """onnxruntime execution providers for ``VOICECLONE_DEVICE``: ``cuda`` insists on CUDA
    (onnxruntime-gpu, as in the GPU image), ``auto`` takes it when this onnxruntime has it."""
    available = onnxruntime.get_available_providers()
    if device == "cuda":
        if CUDA_PROVIDER not in available:
            raise RuntimeError(
                "VOICECLONE_DEVICE=cuda, but this onnxruntime has no CUDA provider: install "
                "onnxruntime-gpu (the GPU image has it) or set VOICECLONE_DEVICE=cpu."
            )
        return [CUDA_PROVIDER, CPU_PROVIDER]
    if device == "auto" and CUDA_PROVIDER in available:
        return [CUDA_PROVIDER, CPU_PROVIDER]
    return [CPU_PROVIDER]
