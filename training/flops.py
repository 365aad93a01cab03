"""FLOPs of one forward pass of an exported ONNX graph at batch 1, counted from the graph itself.

Counts the multiply-adds of Conv, ConvTranspose, Gemm and MatMul (x2 for FLOPs), which dominate
these models; element-wise ops, norms and softmax are left out, as in the DiT and LDM papers'
GFLOPs figures. Shapes come from ONNX shape inference with every symbolic dimension set to 1, with
data propagation: GroupNorm's export reshapes by a Shape it computes, and without propagating that
value every convolution after a GroupNorm had unknown height and width (and was counted as 1 x 1).
"""

from __future__ import annotations

from math import prod
from pathlib import Path

import onnx
from onnx import shape_inference


def _dims(value_info) -> list[int] | None:
    """The tensor's shape, or None when shape inference left any dimension unknown (never guessed)."""
    dims = value_info.type.tensor_type.shape.dim
    if not dims or not all(d.HasField("dim_value") for d in dims):
        return None
    return [d.dim_value for d in dims]


def count_flops(path: Path) -> int:
    """FLOPs (2 x multiply-adds) of Conv/ConvTranspose/Gemm/MatMul for one sample."""
    model = onnx.load(str(path))
    for tensor in list(model.graph.input) + list(model.graph.output):
        for d in tensor.type.tensor_type.shape.dim:
            if not d.HasField("dim_value"):
                d.dim_value = 1  # batch (and any other symbolic axis) = 1
    model = shape_inference.infer_shapes(model, data_prop=True)
    shapes: dict[str, list[int]] = {}
    for vi in list(model.graph.value_info) + list(model.graph.input) + list(model.graph.output):
        dims = _dims(vi)
        if dims is not None:
            shapes[vi.name] = dims
    for init in model.graph.initializer:
        shapes[init.name] = list(init.dims)

    total = 0
    for node in model.graph.node:
        if node.op_type in ("Conv", "ConvTranspose"):
            w = shapes.get(node.input[1])
            out = shapes.get(node.output[0])
            if w is None or out is None:
                continue
            if node.op_type == "Conv":
                # w: [Cout, Cin/g, kh, kw]; every output element costs Cin/g * kh * kw MACs
                total += 2 * prod(out) * prod(w[1:])
            else:
                # w: [Cin, Cout/g, kh, kw]; every input element is spread over Cout/g * kh * kw outputs
                inp = shapes.get(node.input[0])
                if inp is not None:
                    total += 2 * prod(inp) * prod(w[1:])
        elif node.op_type in ("Gemm", "MatMul"):
            a = shapes.get(node.input[0])
            out = shapes.get(node.output[0])
            if a is None or out is None:
                continue
            trans_a = node.op_type == "Gemm" and any(x.name == "transA" and x.i for x in node.attribute)
            k = a[-2] if trans_a else a[-1]
            total += 2 * prod(out) * k  # each output element is a K-long dot product
    return int(total)


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:]:
        print(f"{arg}: {count_flops(Path(arg)) / 1e6:.2f} MFLOPs")
