"""Make the shipped YuNet and SFace int8 graphs runnable and fast (install time only).

* ``DequantizeLinear`` nodes whose inputs are all constants (the weights) are evaluated here, once,
  and replaced by float32 initializers. This removes the ``block_size`` attribute onnxruntime
  rejects on scalar-scale nodes and the slow block-quantized kernels; the activations were float
  all along, so the numbers are those of the int8 weights, exactly.
* Graph inputs that no node reads, or that merely shadow an initializer, are dropped: OpenCV 5's
  importer refuses SFace's 29 such inputs.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper


def _dequantize(x: np.ndarray, scale: np.ndarray, zero: np.ndarray | None, axis: int, block: int) -> np.ndarray:
    xf = x.astype(np.float32)
    zf = np.zeros_like(scale, dtype=np.float32) if zero is None else zero.astype(np.float32)
    scale = scale.astype(np.float32)
    if scale.size == 1:
        return (xf - zf.reshape(())) * scale.reshape(())
    axis = axis % x.ndim
    if block > 0:  # blocked: each scale covers `block` consecutive elements along `axis`
        scale = np.repeat(scale, block, axis=axis).take(range(x.shape[axis]), axis=axis)
        zf = np.repeat(zf, block, axis=axis).take(range(x.shape[axis]), axis=axis)
        return (xf - zf) * scale
    shape = [1] * x.ndim
    shape[axis] = -1
    return (xf - zf.reshape(shape)) * scale.reshape(shape)


def fold_constant_dequantize(model: onnx.ModelProto) -> int:
    """Replace weight-only DequantizeLinear nodes by float32 initializers; returns how many."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    keep, folded = [], 0
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or not all(i in inits for i in node.input if i):
            keep.append(node)
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        arrays = [numpy_helper.to_array(inits[i]) for i in node.input if i]
        zero = arrays[2] if len(arrays) > 2 else None
        value = _dequantize(arrays[0], arrays[1], zero, int(attrs.get("axis", 1)), int(attrs.get("block_size", 0)))
        graph.initializer.append(numpy_helper.from_array(value.astype(np.float32), node.output[0]))
        folded += 1
    del graph.node[:]
    graph.node.extend(keep)
    _drop_unused_initializers(model)
    return folded


def _drop_unused_initializers(model: onnx.ModelProto) -> None:
    graph = model.graph
    used = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    kept = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)


def drop_unused_inputs(model: onnx.ModelProto) -> list[str]:
    """Remove graph inputs that no node reads or that an initializer already provides."""
    graph = model.graph
    used = {i for n in graph.node for i in n.input}
    inits = {t.name for t in graph.initializer}
    dropped = [i.name for i in graph.input if i.name not in used or i.name in inits]
    kept = [i for i in graph.input if i.name not in dropped]
    del graph.input[:]
    graph.input.extend(kept)
    return dropped


def prepare(model: onnx.ModelProto) -> onnx.ModelProto:
    fold_constant_dequantize(model)
    drop_unused_inputs(model)
    onnx.checker.check_model(model)
    return model
