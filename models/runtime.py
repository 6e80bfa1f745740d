"""Model runners the kiosk's way: a small thread count, no busy-waiting threads, one verified byte
buffer per model (never a path: see models.manifest).

Two CPU runtimes (docs/face.md, "Runtime choices"): OpenVINO where it is installed and loads (oneDNN
kernels with AVX-512 / AMX; measured 2-3x faster than onnxruntime on these models, and SFace in
bfloat16 on a CPU with native bf16 another 3x at cosine >= 0.999 to float), onnxruntime as the
fallback everywhere else. Every model is behind the same tiny interface, :class:`Runner`: one input
array in, the graph's outputs (in graph order) out.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:       # onnxruntime is imported only when it runs a model (OpenVINO may do all)
    import onnxruntime as ort

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "openvino", "onnxruntime")
PRECISIONS = ("f32", "bf16")


class Runner(Protocol):
    runtime: str          # "openvino" or "onnxruntime"
    precision: str        # what it really computes in: "f32", or "bf16" where asked and the CPU has it

    def run(self, blob: np.ndarray) -> list[np.ndarray]: ...


def session_options(threads: int = 1) -> ort.SessionOptions:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Spinning threads would busy-wait on the cores the UI and the camera need (ARCHITECTURE.md, Threads).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3
    # No arena: it keeps each session's peak activations (SFace ~20 MB) for the process's life;
    # plain allocation per run measured no slower on these small models (issue 19, bench/ui_startup_memory.py).
    options.enable_cpu_mem_arena = False
    return options


def make_session(model: bytes, threads: int = 1) -> ort.InferenceSession:
    """An onnxruntime CPU session over verified model bytes."""
    import onnxruntime as ort

    return ort.InferenceSession(model, session_options(threads), providers=["CPUExecutionProvider"])


class OrtRunner:
    runtime = "onnxruntime"
    precision = "f32"

    def __init__(self, model: bytes, threads: int = 1) -> None:
        self._session = make_session(model, threads)
        self._input = self._session.get_inputs()[0].name

    def run(self, blob: np.ndarray) -> list[np.ndarray]:
        return list(self._session.run(None, {self._input: blob}))


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except Exception:  # not installed, or its libraries do not load on this machine
        return False
    return True


def resolve_runtime(requested: str) -> str:
    """"auto": OpenVINO when it imports here, else onnxruntime. Asking for OpenVINO where it does not
    load falls back to onnxruntime with a warning: the face check must work on any CPU."""
    if requested not in RUNTIMES:
        raise ValueError(f"face runtime {requested!r}: expected one of {', '.join(RUNTIMES)}")
    if requested == "onnxruntime":
        return "onnxruntime"
    if openvino_available():
        return "openvino"
    if requested == "openvino":
        log.warning("face runtime: OpenVINO does not load here; using onnxruntime")
    return "onnxruntime"


def make_runner(model: bytes, threads: int = 1, runtime: str = "onnxruntime", precision: str = "f32",
                input_shape: tuple[int, ...] | None = None) -> Runner:
    """A runner over verified model bytes. ``runtime`` as resolved by :func:`resolve_runtime`;
    ``precision`` "bf16" is a hint OpenVINO follows only where the CPU computes bf16 natively
    (AVX512-BF16 / AMX), onnxruntime always runs float32. ``input_shape`` fixes a graph's input
    dimensions (OpenVINO compiles for one shape; a dynamic one ran 1.7x slower)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r}: expected one of {', '.join(PRECISIONS)}")
    if runtime == "openvino":
        from models.openvino_runtime import OpenVinoRunner

        return OpenVinoRunner(model, threads, precision, input_shape)
    return OrtRunner(model, threads)

