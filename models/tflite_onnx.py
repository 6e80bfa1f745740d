"""Rebuild MediaPipe's dense face-landmark network (``face_landmark.tflite``), its eye-region
network (``iris_landmark.tflite``) and two segments of its attention mesh
(``face_landmark_with_attention.tflite``, see models/lips.py) as ONNX, at install time.

The kiosk runs every model in onnxruntime; these models ship only as TFLite inside the mediapipe
wheel. Their graphs use eight operators (weights in float32 or float16 behind DEQUANTIZE, CONV_2D,
DEPTHWISE_CONV_2D, PRELU, ADD, MAX_POOL_2D, PAD, RESHAPE of a 1x1 map to a vector), each mapped here
one to one onto ONNX in NCHW:
kernels transposed (OHWI -> OIHW, 1HWC -> C1HW with group = C), TFLite's SAME padding made
explicit, PAD's NHWC pairs reordered. The file is read with the ``tflite`` flatbuffer schema package
(parsing only, no TensorFlow). Any other operator on the way to a requested output is refused with
its name; operators nothing requested depends on are left out.

Input ``input``: 1xCxHxW as the TFLite input (RGB in 0..1 for both). Outputs, flattened, named by
``output_names``: for face_landmark ``landmarks`` (1x1404 = 468 x (x, y, z) in input pixels) and
``face_flag`` (1x1, a logit: face present); for iris_landmark (64x64 input) ``eye`` (1x213 = 71 x
(x, y, z): eyelid contour first, then the brow) and ``iris`` (1x15 = 5 x (x, y, z)).
"""

from __future__ import annotations

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper

_ACT_NONE, _ACT_RELU = 0, 1
_MAPPED = {"CONV_2D", "DEPTHWISE_CONV_2D", "PRELU", "ADD", "MAX_POOL_2D", "PAD", "RESHAPE"}
_SAME = 0


class UnsupportedTfliteGraph(ValueError):
    pass


def _np(model: tflite.Model, tensor: tflite.Tensor) -> np.ndarray:
    raw = model.Buffers(tensor.Buffer()).DataAsNumpy()
    dtype = {0: np.float32, 1: np.float16, 2: np.int32}.get(tensor.Type())
    if dtype is None or isinstance(raw, int):
        raise UnsupportedTfliteGraph(f"tensor {tensor.Name()!r} has no constant data of a known type")
    return np.frombuffer(raw.tobytes(), dtype=dtype).reshape(tensor.ShapeAsNumpy())


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _needed(nodes: list[onnx.NodeProto], wanted: set[str]) -> list[onnx.NodeProto]:
    """The nodes the wanted outputs depend on, in order (a segment drops the rest of the graph)."""
    keep: list[onnx.NodeProto] = []
    for node in reversed(nodes):
        if wanted & set(node.output):
            keep.append(node)
            wanted |= set(node.input)
    return keep[::-1]


def convert(data: bytes, output_names: tuple[str, ...] = ("landmarks", "face_flag"),
            graph_name: str = "face_landmark", inputs: dict[str, str] | None = None,
            outputs: dict[str, str] | None = None) -> onnx.ModelProto:
    """The whole graph (its input as ``input``, its outputs flattened and named ``output_names``),
    or a segment of it: ``inputs`` / ``outputs`` map TFLite tensor names to ONNX names. Operators
    outside the segment may be of any kind (the attention model's custom ones run in numpy between
    two segments, models/lips.py); an output an unsupported operator feeds is refused by name. An
    output with a 1x1 map is flattened, any other keeps its NCHW shape."""
    model = tflite.Model.GetRootAsModel(data, 0)
    graph = model.Subgraphs(0)
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    names = {i: graph.Tensors(i).Name().decode() for i in range(graph.TensorsLength())}
    shapes = {i: list(graph.Tensors(i).ShapeAsNumpy()) if graph.Tensors(i).ShapeLength() else []
              for i in range(graph.TensorsLength())}
    consts: dict[str, np.ndarray] = {}
    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def constant_of(index: int) -> np.ndarray:
        """A constant: the output of a DEQUANTIZE, or a tensor stored with its data (float32)."""
        name = names[index]
        if name not in consts:
            consts[name] = _np(model, graph.Tensors(index)).astype(np.float32)
        return consts[name]

    def is_constant(index: int) -> bool:
        """A DEQUANTIZE output or a tensor stored with its data: a weight, not an activation."""
        return names[index] in consts or model.Buffers(graph.Tensors(index).Buffer()).DataLength() > 0

    def activation(out: str, act: int) -> None:
        if act == _ACT_RELU:
            nodes.append(helper.make_node("Relu", [out + "_pre"], [out]))
        elif act != _ACT_NONE:
            raise UnsupportedTfliteGraph(f"fused activation {act} on {out}")

    graph_input = int(graph.InputsAsNumpy()[0])
    inputs = inputs or {names[graph_input]: "input"}
    outputs = outputs or dict(zip((names[int(i)] for i in graph.OutputsAsNumpy()), output_names, strict=True))
    by_name = {name: i for i, name in names.items()}
    available = set(inputs)                 # tensors the segment computes or takes as an input
    skipped: dict[str, frozenset[str]] = {}  # tensor -> the unsupported operator kinds on its way
    for k in range(graph.OperatorsLength()):
        op = graph.Operators(k)
        code = codes[op.OpcodeIndex()]
        kind = tflite.opcode2name(code.BuiltinCode())
        if kind == "CUSTOM":
            kind = "CUSTOM " + code.CustomCode().decode()
        ins = [int(i) for i in op.InputsAsNumpy() if i >= 0]
        out = names[int(op.OutputsAsNumpy()[0])]
        if out in inputs:
            continue
        if kind == "DEQUANTIZE":
            consts[out] = _np(model, graph.Tensors(ins[0])).astype(np.float32)
            continue
        x = names[ins[0]]
        outside = [names[i] for i in ins if not is_constant(i) and names[i] not in available]
        if outside:                         # fed by an operator outside the segment
            own = frozenset() if kind in _MAPPED else frozenset({kind})
            skipped[out] = own.union(*(skipped.get(name, frozenset()) for name in outside))
            continue
        available.add(out)
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            opts_cls = tflite.Conv2DOptions if kind == "CONV_2D" else tflite.DepthwiseConv2DOptions
            opts = opts_cls()
            table = op.BuiltinOptions()
            opts.Init(table.Bytes, table.Pos)
            w = constant_of(ins[1])
            if kind == "CONV_2D":
                weight, group = w.transpose(0, 3, 1, 2), 1
            else:
                weight, group = w.transpose(3, 0, 1, 2), w.shape[3]
            kh, kw = weight.shape[2], weight.shape[3]
            h, wd = int(shapes[ins[0]][1]), int(shapes[ins[0]][2])
            sh, sw = opts.StrideH(), opts.StrideW()
            if opts.Padding() == _SAME:
                (pt, pb), (pl, pr) = _same_pads(h, kh, sh), _same_pads(wd, kw, sw)
            else:
                pt = pb = pl = pr = 0
            act = opts.FusedActivationFunction()
            conv_inputs = [x, const(out + "_w", weight)]
            if len(ins) > 2:
                conv_inputs.append(const(out + "_b", constant_of(ins[2])))
            nodes.append(helper.make_node("Conv", conv_inputs, [out + "_pre" if act else out], strides=[sh, sw],
                                          pads=[pt, pl, pb, pr], group=int(group), kernel_shape=[kh, kw]))
            activation(out, act)
        elif kind == "PRELU":
            alpha = constant_of(ins[1]).reshape(-1)[:, None, None]
            nodes.append(helper.make_node("PRelu", [x, const(out + "_alpha", alpha)], [out]))
        elif kind == "ADD" and is_constant(ins[1]):
            available.discard(out)          # an NHWC constant would broadcast on the wrong axis in NCHW
            skipped[out] = frozenset({"ADD of a constant"})
        elif kind == "ADD":
            opts = tflite.AddOptions()
            table = op.BuiltinOptions()
            opts.Init(table.Bytes, table.Pos)
            act = opts.FusedActivationFunction()
            nodes.append(helper.make_node("Add", [x, names[ins[1]]], [out + "_pre" if act else out]))
            activation(out, act)
        elif kind == "MAX_POOL_2D":
            opts = tflite.Pool2DOptions()
            table = op.BuiltinOptions()
            opts.Init(table.Bytes, table.Pos)
            kh, kw, sh, sw = opts.FilterHeight(), opts.FilterWidth(), opts.StrideH(), opts.StrideW()
            h, wd = int(shapes[ins[0]][1]), int(shapes[ins[0]][2])
            if opts.Padding() == _SAME:
                (pt, pb), (pl, pr) = _same_pads(h, kh, sh), _same_pads(wd, kw, sw)
            else:
                pt = pb = pl = pr = 0
            act = opts.FusedActivationFunction()
            nodes.append(helper.make_node("MaxPool", [x], [out + "_pre" if act else out], kernel_shape=[kh, kw],
                                          strides=[sh, sw], pads=[pt, pl, pb, pr]))
            activation(out, act)
        elif kind == "PAD":
            pads = _np(model, graph.Tensors(ins[1])).astype(np.int64)    # NHWC pairs
            order = [0, 3, 1, 2]
            onnx_pads = [pads[a][0] for a in order] + [pads[a][1] for a in order]
            nodes.append(helper.make_node("Pad", [x, const(out + "_pads", np.array(onnx_pads, np.int64))], [out]))
        elif kind == "RESHAPE" and shapes[ins[0]][1:3] == [1, 1] and len(shapes[int(op.OutputsAsNumpy()[0])]) == 2:
            # a 1x1 map to a vector: the same values in NCHW, whose own flatten follows at the output
            nodes.append(helper.make_node("Identity", [x], [out]))
        else:
            available.discard(out)
            skipped[out] = frozenset({kind})

    for tensor in outputs:
        if tensor not in available:
            kinds = ", ".join(sorted(skipped.get(tensor, frozenset({"none"}))))
            raise UnsupportedTfliteGraph(f"output {tensor!r} needs operators that models/tflite_onnx.py does not "
                                         f"support: {kinds}")
    graph_inputs = []
    for tensor, name in inputs.items():
        _, h, w, c = (int(v) for v in shapes[by_name[tensor]])
        nodes.insert(0, helper.make_node("Identity", [name], [tensor]))
        graph_inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, c, h, w]))

    def flat(tensor: str) -> bool:          # a vector, or a 1x1 map: flattened
        shape = shapes[by_name[tensor]]
        return len(shape) == 2 or shape[1:3] == [1, 1]

    for tensor, name in outputs.items():
        nodes.append(helper.make_node("Flatten" if flat(tensor) else "Identity", [tensor], [name]))
    nodes = _needed(nodes, set(outputs.values()))
    used = {i for node in nodes for i in node.input}
    inits = [t for t in inits if t.name in used]
    g = helper.make_graph(nodes, graph_name, graph_inputs,
                          [helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                         [1, None] if flat(tensor) else [1, None, None, None])
                           for tensor, name in outputs.items()],
                          inits)
    onnx_model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="kiosk-models")
    onnx_model.ir_version = 8
    onnx.checker.check_model(onnx_model)
    return onnx_model
