"""Rebuild MiniFASNetV2 / MiniFASNetV1SE as an ONNX graph from a numpy state dict (no torch).

The layer order and block shapes follow ``../shared/models/minifasnet/README.md``; channel widths
and groups are read from the weight shapes. Every BatchNorm that follows a convolution (or the
512->128 linear layer) is folded into that layer's weights and bias, so the graph is only Conv,
PRelu, Add, the SE units' pool/ReLU/Sigmoid/Mul, Gemm and Softmax.

Output ``probs``: softmax over 3 classes, index 1 = real face.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BN_EPS = 1e-5
OPSET = 17
INPUT_NAME = "input"          # 1x3x80x80, BGR, float 0..255
OUTPUT_NAME = "probs"         # 1x3 softmax, index 1 = real

# stride-2 depth-wise units between stages; everything else runs at stride 1
_STAGES = ("conv_23", "conv_3", "conv_34", "conv_4", "conv_45", "conv_5")


class _Builder:
    def __init__(self, weights: dict[str, np.ndarray], prefix: str) -> None:
        self.w = weights
        self.prefix = prefix
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def get(self, key: str) -> np.ndarray:
        full = self.prefix + key
        if full not in self.w:
            raise KeyError(f"weight {full!r} missing: not a MiniFASNet state dict")
        return self.w[full].astype(np.float32)

    def has(self, key: str) -> bool:
        return self.prefix + key in self.w

    def name(self, hint: str) -> str:
        self._n += 1
        return f"{hint}_{self._n}"

    def init(self, hint: str, array: np.ndarray) -> str:
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, **attrs: Any) -> str:
        out = self.name(hint)
        self.nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def bn_scale_shift(self, bn: str) -> tuple[np.ndarray, np.ndarray]:
        gamma, beta = self.get(f"{bn}.weight"), self.get(f"{bn}.bias")
        mean, var = self.get(f"{bn}.running_mean"), self.get(f"{bn}.running_var")
        scale = gamma / np.sqrt(var + BN_EPS)
        return scale, beta - mean * scale

    def conv_bn(self, x: str, channels: int, conv: str, bn: str, stride: int, pad: int | None = None) -> tuple[str, int]:
        """Conv (no bias) followed by BatchNorm, folded into one Conv with bias."""
        weight = self.get(f"{conv}.weight")
        out_ch, in_per_group, kh, kw = weight.shape
        groups = channels // in_per_group
        scale, shift = self.bn_scale_shift(bn)
        folded = weight * scale[:, None, None, None]
        p = kh // 2 if pad is None else pad
        y = self.node("Conv", [x, self.init(f"{conv}.w", folded), self.init(f"{conv}.b", shift)], conv,
                      kernel_shape=[kh, kw], strides=[stride, stride], pads=[p, p, p, p], group=groups)
        return y, out_ch

    def prelu(self, x: str, key: str) -> str:
        slope = self.get(f"{key}.weight").reshape(-1, 1, 1)
        return self.node("PRelu", [x, self.init(f"{key}.slope", slope)], key)

    def conv_block(self, x: str, ch: int, key: str, stride: int = 1, pad: int | None = None) -> tuple[str, int]:
        y, ch = self.conv_bn(x, ch, f"{key}.conv", f"{key}.bn", stride, pad)
        return self.prelu(y, f"{key}.prelu"), ch

    def linear_block(self, x: str, ch: int, key: str, stride: int = 1, pad: int | None = None) -> tuple[str, int]:
        return self.conv_bn(x, ch, f"{key}.conv", f"{key}.bn", stride, pad)

    def se(self, x: str, key: str) -> str:
        pooled = self.node("GlobalAveragePool", [x], f"{key}.pool")
        h, _ = self.conv_bn(pooled, self.get(f"{key}.fc1.weight").shape[1], f"{key}.fc1", f"{key}.bn1", 1, 0)
        h = self.node("Relu", [h], f"{key}.relu")
        h, _ = self.conv_bn(h, self.get(f"{key}.fc2.weight").shape[1], f"{key}.fc2", f"{key}.bn2", 1, 0)
        gate = self.node("Sigmoid", [h], f"{key}.sigmoid")
        return self.node("Mul", [x, gate], f"{key}.mul")

    def dw_unit(self, x: str, ch: int, key: str, stride: int, residual: bool) -> tuple[str, int]:
        y, c = self.conv_block(x, ch, f"{key}.conv")
        y, c = self.conv_block(y, c, f"{key}.conv_dw", stride=stride)
        y, c = self.linear_block(y, c, f"{key}.project")
        if self.has(f"{key}.se_module.fc1.weight"):
            y = self.se(y, f"{key}.se_module")
        if residual:
            y = self.node("Add", [x, y], f"{key}.add")
        return y, c


def _prefix(weights: dict[str, np.ndarray]) -> str:
    return "module." if any(k.startswith("module.") for k in weights) else ""


def build_minifasnet(weights: dict[str, np.ndarray], input_size: int = 80, name: str = "MiniFASNet") -> onnx.ModelProto:
    b = _Builder(weights, _prefix(weights))
    x, ch = b.conv_block(INPUT_NAME, 3, "conv1", stride=2)
    x, ch = b.conv_block(x, ch, "conv2_dw")
    for stage in _STAGES:
        if b.has(f"{stage}.conv.conv.weight"):            # a single stride-2 unit
            x, ch = b.dw_unit(x, ch, stage, stride=2, residual=False)
            continue
        i = 0
        while b.has(f"{stage}.model.{i}.conv.conv.weight"):
            x, ch = b.dw_unit(x, ch, f"{stage}.model.{i}", stride=1, residual=True)
            i += 1
        if i == 0:
            raise KeyError(f"stage {stage} missing: not a MiniFASNet state dict")
    x, ch = b.conv_block(x, ch, "conv_6_sep")
    kernel = math.ceil(input_size / 16)
    if b.get("conv_6_dw.conv.weight").shape[2] != kernel:
        raise ValueError(f"conv_6_dw kernel does not match input size {input_size}")
    x, ch = b.linear_block(x, ch, "conv_6_dw", pad=0)
    x = b.node("Flatten", [x], "flatten", axis=1)
    # linear (no bias) + BatchNorm1d folded: y = (x W^T) * s + t
    scale, shift = b.bn_scale_shift("bn")
    lin = b.get("linear.weight") * scale[:, None]
    x = b.node("Gemm", [x, b.init("linear.w", lin), b.init("linear.b", shift)], "linear", transB=1)
    logits = b.node("Gemm", [x, b.init("prob.w", b.get("prob.weight"))], "prob", transB=1)
    b.nodes.append(helper.make_node("Softmax", [logits], [OUTPUT_NAME], name="softmax", axis=1))
    graph = helper.make_graph(
        b.nodes, name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, 3, input_size, input_size])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, [1, 3])],
        b.inits)
    model = helper.make_model(graph, producer_name="sscard-kiosk models.minifasnet",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
