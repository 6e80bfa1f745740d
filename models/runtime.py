"""onnxruntime sessions the kiosk's way: a small thread count and spinning off.

Spinning threads would busy-wait on the cores the UI and the camera need (ARCHITECTURE.md, Threads).
"""

from __future__ import annotations

import onnxruntime as ort


def session_options(threads: int = 1) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads))
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    options.log_severity_level = 3
    # No arena: it keeps each session's peak activations (SFace ~20 MB) for the process's life;
    # plain allocation per run measured no slower on these small models (issue 19, bench/ui_startup_memory.py).
    options.enable_cpu_mem_arena = False
    return options


def make_session(model: bytes, threads: int = 1) -> ort.InferenceSession:
    """A CPU session over verified model bytes (never a path: see models.manifest)."""
    return ort.InferenceSession(model, session_options(threads), providers=["CPUExecutionProvider"])
