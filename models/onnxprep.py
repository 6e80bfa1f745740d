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



def _constant_value(graph: onnx.GraphProto, name: str) -> np.ndarray | None:
    """The value of ``name`` when it is an initializer or a Reshape/Constant chain ending in one."""
    inits = {t.name: t for t in graph.initializer}
    producers = {o: n for n in graph.node for o in n.output}
    for _ in range(4):
        if name in inits:
            return numpy_helper.to_array(inits[name])
        node = producers.get(name)
        if node is None:
            return None
        if node.op_type == "Constant":
            return numpy_helper.to_array(node.attribute[0].t)
        if node.op_type not in ("Reshape", "Unsqueeze", "Identity"):
            return None
        name = node.input[0]            # a reshape keeps the values; only their range matters here
    return None


def rewrite_prelu(model: onnx.ModelProto) -> int:
    """Replace every ``PRelu(x, slope)`` by an exact equivalent of cheap element-wise ops; returns how many.

    onnxruntime's CPU PRelu is a slow broadcasting kernel (SFace: 27 nodes, half its run time),
    while Max/Mul/Relu/Sub are vectorised. For slopes all <= 1, ``PRelu(x) = Max(x, slope * x)``
    (2 ops); otherwise ``Relu(x) - slope * Relu(-x)`` (5 ops; SFace has slopes up to 1.12). Both are
    exact in float32 (the same products, no other rounding); install checks the result against the
    original graph (cosine 1.0).
    """
    graph = model.graph
    nodes, count = [], 0
    for node in graph.node:
        if node.op_type != "PRelu":
            nodes.append(node)
            continue
        x, slope = node.input
        out = node.output[0]
        base = f"{node.name or out}_prelu"
        value = _constant_value(graph, slope)
        if value is not None and float(value.max()) <= 1.0:
            nodes += [
                onnx.helper.make_node("Mul", [slope, x], [f"{base}_ax"], name=f"{base}_mul"),
                onnx.helper.make_node("Max", [x, f"{base}_ax"], [out], name=f"{base}_max"),
            ]
        else:
            nodes += [
                onnx.helper.make_node("Relu", [x], [f"{base}_pos"], name=f"{base}_relu_pos"),
                onnx.helper.make_node("Neg", [x], [f"{base}_negx"], name=f"{base}_neg"),
                onnx.helper.make_node("Relu", [f"{base}_negx"], [f"{base}_negpart"], name=f"{base}_relu_neg"),
                onnx.helper.make_node("Mul", [slope, f"{base}_negpart"], [f"{base}_scaled"], name=f"{base}_mul"),
                onnx.helper.make_node("Sub", [f"{base}_pos", f"{base}_scaled"], [out], name=f"{base}_sub"),
            ]
        count += 1
    del graph.node[:]
    graph.node.extend(nodes)
    return count
