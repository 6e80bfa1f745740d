"""OpenVINO (Apache-2.0, PyPI ``openvino``) CPU runner; imported only when the runtime is OpenVINO.

Settings, each for a reason: ``INFERENCE_NUM_THREADS`` = the kiosk's thread count (the UI and the
camera need the other core); ``ENABLE_CPU_PINNING`` off (pinned workers would crowd the UI's core);
one stream, latency hint; ``INFERENCE_PRECISION_HINT`` always set, because on a CPU with AMX
OpenVINO's default is bfloat16: float32 unless bf16 is asked for (SFace only, measured) and the CPU
reports native bf16. Inputs are shared with the runtime, outputs copied (the request reuses them).
"""

from __future__ import annotations

import functools
import threading

import numpy as np
import openvino as ov


@functools.cache
def core() -> ov.Core:
    return ov.Core()


def cpu_has_bf16() -> bool:
    return "BF16" in core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


class OpenVinoRunner:
    runtime = "openvino"

    def __init__(self, model: bytes, threads: int = 1, precision: str = "f32",
                 input_shape: tuple[int, ...] | None = None) -> None:
        self.precision = "bf16" if precision == "bf16" and cpu_has_bf16() else "f32"
        graph = core().read_model(model=model)      # ONNX bytes, already checked against the manifest
        if input_shape is not None:
            graph.reshape({0: ov.PartialShape(list(input_shape))})
        config = {"INFERENCE_NUM_THREADS": max(1, int(threads)), "INFERENCE_PRECISION_HINT": self.precision,
                  "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1, "ENABLE_CPU_PINNING": False}
        self._compiled = core().compile_model(graph, "CPU", config)
        self._request = self._compiled.create_infer_request()
        self._lock = threading.Lock()      # one request: not re-entrant

    def run(self, blob: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            out = self._request.infer(np.ascontiguousarray(blob, dtype=np.float32), share_inputs=True)
            return [np.array(v, copy=True) for v in out.to_tuple()]
