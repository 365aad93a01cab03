"""ONNX export (TorchScript exporter, opset 17), onnxruntime equivalence check and WebGPU op audit."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from .paths import TRAINING

OPSET = 17  # lowest opset with LayerNormalization; GroupNorm still lowers to InstanceNormalization here
WEBGPU_OPS = json.loads((TRAINING / "webgpu_ops.json").read_text())
# Ops whose int64 inputs are shape vectors or indices, which is fine: they are shape ops (CPU by
# design) or Gather, whose int64 indices WebGPU accepts (token and class embeddings).
SHAPE_OPS = {"Shape", "Reshape", "Concat", "Unsqueeze", "Squeeze", "Slice", "Gather", "Expand", "Constant", "ConstantOfShape"}


@dataclass
class IOSpec:
    """One graph input or output: diffusers/optimum name, symbolic shape and dtype."""

    name: str
    shape: list[int | str]
    dtype: str  # "float32" or "int64"


@dataclass
class ExportSpec:
    """What to export: a module, its named inputs with example-data factories, and output names."""

    module: nn.Module
    inputs: list[IOSpec]
    outputs: list[IOSpec]
    make_inputs: object  # callable(batch: int, generator) -> tuple[torch.Tensor, ...]
    extra: dict = field(default_factory=dict)
    fp16_weights: bool = False  # store large weights as float16 (half the bytes); compute stays float32
    # Store weight matrices as int8 with a float32 scale per row (a quarter of the bytes); what is left
    # (biases, norms) as float16. Compute stays float32. For a file that would push a chapter over its budget.
    int8_weights: bool = False


def cpu_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """An onnxruntime CPU session on `threads` intra-op threads: how every evaluation runs a shipped file."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _ranges_cover(spec: str, version: int) -> bool:
    """Does a webgpu-operators.md cell like 'ai.onnx(7-12,13,14+)' include this since-version?"""
    m = re.search(r"ai\.onnx\(([^)]*)\)", spec)
    if not m:
        return False
    for part in m.group(1).split(","):
        part = part.strip()
        if part.endswith("+") and version >= int(part[:-1]):
            return True
        if "-" in part:
            lo, hi = map(int, part.split("-"))
            if lo <= version <= hi:
                return True
        elif part.isdigit() and int(part) == version:
            return True
    return False


def fold_constants_and_identities(model: onnx.ModelProto) -> onnx.ModelProto:
    """Turn Constant nodes into initializers and bypass Identity nodes (neither has a WebGPU kernel).

    onnxruntime would fold both at session creation anyway; doing it here keeps the audited op
    list equal to what actually runs.
    """
    graph = model.graph
    outputs = {o.name for o in graph.output}
    inits = {t.name: t for t in graph.initializer}
    rename: dict[str, str] = {}
    keep = []
    for node in graph.node:
        node.input[:] = [rename.get(i, i) for i in node.input]
        if node.op_type == "Constant" and len(node.attribute) == 1 and node.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(node.attribute[0].t)
            t.name = node.output[0]
            graph.initializer.append(t)
            inits[t.name] = t
            continue
        if node.op_type == "Identity" and node.output[0] not in outputs:
            rename[node.output[0]] = node.input[0]
            continue
        keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    return model


def round_weights_fp16(module: nn.Module, min_elements: int = 256) -> nn.Module:
    """Round in place the tensors that store_weights_fp16 keeps as float16 (>= min_elements values):
    parameters and float buffers alike (a DiT's position embedding is a buffer that becomes an initializer)."""
    with torch.no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            if t.is_floating_point() and t.numel() >= min_elements:
                t.copy_(t.half().float())
    return module


def store_weights_fp16(model: onnx.ModelProto, min_elements: int = 256, keep_float32: frozenset[str] = frozenset()) -> onnx.ModelProto:
    """Store every float32 initializer of at least `min_elements` values as float16 behind a Cast.

    The arithmetic stays float32 on every execution provider: onnxruntime folds Cast(initializer)
    into a float32 constant when it creates the session, so only the download halves.
    """
    graph = model.graph
    casts, kept = [], []
    for t in graph.initializer:
        if t.data_type != onnx.TensorProto.FLOAT or int(np.prod(t.dims)) < min_elements or t.name in keep_float32:
            kept.append(t)
            continue
        half = onnx.numpy_helper.from_array(onnx.numpy_helper.to_array(t).astype(np.float16), t.name + "_fp16")
        kept.append(half)
        casts.append(onnx.helper.make_node("Cast", [half.name], [t.name], to=onnx.TensorProto.FLOAT, name=t.name + "_cast"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return model


def quantize_rows_int8(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 with one scale per slice of axis 0 (a conv's output channel, a MatMul's input row):
    w ~ q * scale, q in [-127, 127], scale shaped [rows, 1, ...] so the product broadcasts back."""
    rows = w.reshape(w.shape[0], -1)
    scale = np.abs(rows).max(axis=1) / 127.0
    scale[scale == 0] = 1.0  # an all-zero row stays zero whatever its scale
    q = np.clip(np.rint(rows / scale[:, None]), -127, 127).astype(np.int8)
    return q.reshape(w.shape), scale.astype(np.float32).reshape((w.shape[0],) + (1,) * (w.ndim - 1))


def store_weights_int8(model: onnx.ModelProto, min_elements: int = 1024) -> tuple[onnx.ModelProto, frozenset[str]]:
    """Store every float32 initializer of rank >= 2 and at least `min_elements` values as int8 rows times a
    float32 scale: Mul(Cast(q), scale). Cast and Mul of initializers only, so onnxruntime folds them into
    float32 constants when it creates the session on every execution provider; only the download shrinks.
    Returns the model and the names of the scale tensors (kept float32)."""
    graph = model.graph
    nodes, kept, scales = [], [], set()
    for t in graph.initializer:
        if t.data_type != onnx.TensorProto.FLOAT or len(t.dims) < 2 or int(np.prod(t.dims)) < min_elements:
            kept.append(t)
            continue
        q, scale = quantize_rows_int8(onnx.numpy_helper.to_array(t))
        kept += [onnx.numpy_helper.from_array(q, t.name + "_int8"), onnx.numpy_helper.from_array(scale, t.name + "_scale")]
        scales.add(t.name + "_scale")
        nodes.append(onnx.helper.make_node("Cast", [t.name + "_int8"], [t.name + "_dq"], to=onnx.TensorProto.FLOAT, name=t.name + "_cast"))
        nodes.append(onnx.helper.make_node("Mul", [t.name + "_dq", t.name + "_scale"], [t.name], name=t.name + "_dequant"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    all_nodes = nodes + list(graph.node)
    del graph.node[:]
    graph.node.extend(all_nodes)
    return model, frozenset(scales)


def weights_as_constants(model: onnx.ModelProto, value: float = 0.02) -> onnx.ModelProto:
    """Replace every float initializer of >= 64 values by ConstantOfShape(its shape, value).

    For a timing twin: a graph with the same operators and sizes whose file holds no weights.
    onnxruntime folds the constants once at session creation, so runs cost what trained weights cost.
    """
    graph = model.graph
    nodes, kept = [], []
    for t in graph.initializer:
        if t.data_type != onnx.TensorProto.FLOAT or int(np.prod(t.dims)) < 64:
            kept.append(t)
            continue
        shape = onnx.numpy_helper.from_array(np.asarray(t.dims, dtype=np.int64), t.name + "_shape")
        kept.append(shape)
        fill = onnx.helper.make_tensor("value", onnx.TensorProto.FLOAT, [1], [value])
        nodes.append(onnx.helper.make_node("ConstantOfShape", [shape.name], [t.name], value=fill, name=t.name + "_fill"))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    all_nodes = nodes + list(graph.node)
    del graph.node[:]
    graph.node.extend(all_nodes)
    return model


def op_report(model: onnx.ModelProto) -> dict:
    """Every op type in the graph checked against the WebGPU kernel table, plus int64 compute nodes."""
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    inferred = onnx.shape_inference.infer_shapes(model)
    dtypes = {vi.name: vi.type.tensor_type.elem_type for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output)}
    dtypes.update({t.name: t.data_type for t in inferred.graph.initializer})
    const_names = {t.name for t in model.graph.initializer}  # int64 axes/shape constants are attributes in effect
    weight_dims = {t.name: list(t.dims) for t in model.graph.initializer}
    for node in model.graph.node:  # float16 storage: the Conv reads the weight through a Cast
        if node.op_type == "Cast" and node.input[0] in weight_dims:
            weight_dims[node.output[0]] = weight_dims[node.input[0]]
    counts: dict[str, int] = {}
    unsupported, int64_compute, bad_convs = [], [], []
    for node in model.graph.node:
        # onnxruntime-web 1.30's WebGPU EP computes a 3x3 Conv with 9 input channels wrongly (max error 1.3
        # against WebAssembly; 1, 8 and 12 agree to 1e-6): refuse channel counts above 4 that are not multiples of 4
        w = weight_dims.get(node.input[1]) if node.op_type == "Conv" and len(node.input) > 1 else None
        if w is not None and len(w) == 4 and w[1] > 4 and w[1] % 4:
            bad_convs.append(f"{node.name} ({w[1]} input channels)")
        key = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
        counts[key] = counts.get(key, 0) + 1
        runtime_int64 = [i for i in node.input if dtypes.get(i) == onnx.TensorProto.INT64 and i not in const_names]
        if node.op_type not in SHAPE_OPS and runtime_int64:
            int64_compute.append(f"{node.op_type}:{node.name}")
    for op in counts:
        cell = WEBGPU_OPS["ops"].get(op)
        since = onnx.defs.get_schema(op, opset).since_version if cell else None
        if cell is None or not _ranges_cover(cell, since):
            unsupported.append(op)
    cpu_ops = sorted(o for o in counts if o in WEBGPU_OPS["cpu_shape_ops"])
    return {
        "opset": opset,
        "op_counts": dict(sorted(counts.items())),
        "ops_without_webgpu_kernel": sorted(unsupported),
        "shape_ops_on_cpu": cpu_ops,
        "int64_compute_nodes": int64_compute,
        "convs_webgpu_miscomputes": bad_convs,
        "webgpu_ok": not unsupported and not int64_compute and not bad_convs,
        "webgpu_op_table": WEBGPU_OPS["source"],
    }


def _storage_note(spec: ExportSpec) -> str:
    if spec.int8_weights:
        return ("int8 weight matrices with a float32 scale per row (Mul(Cast(q), scale)), the rest float16; folded to float32 "
                "at load, float32 arithmetic. onnxruntime_max_abs_diff compares the float32 graph before storage with PyTorch")
    return "float16 (Cast to float32 at load; float32 arithmetic)" if spec.fp16_weights else "float32"


def export(spec: ExportSpec, path: Path, seed: int = 0) -> dict:
    """Export to ONNX (dynamic batch), check with onnx.checker, compare onnxruntime vs PyTorch on random inputs."""
    module = spec.module.eval()
    g = torch.Generator().manual_seed(seed)
    example = spec.make_inputs(2, g)
    names_in = [i.name for i in spec.inputs]
    names_out = [o.name for o in spec.outputs]
    dynamic = {n: {0: "batch"} for n in names_in + names_out}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            module, example, str(path), input_names=names_in, output_names=names_out,
            dynamic_axes=dynamic, opset_version=OPSET, do_constant_folding=True, dynamo=False,
        )
    model = fold_constants_and_identities(onnx.load(str(path)))
    float_graph = None
    if spec.int8_weights:
        # Per-row scales follow the ONNX layout (a Linear's weight is stored transposed), which the torch
        # module cannot mirror; so the export's own error is measured on the float32 graph before storage.
        float_graph = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        model, scales = store_weights_int8(model)
        model = store_weights_fp16(model, keep_float32=scales)
    elif spec.fp16_weights:
        model = store_weights_fp16(model)
    onnx.save(model, str(path))
    onnx.checker.check_model(model, full_check=True)
    report = op_report(model)
    # Equivalence on a batch size other than the export one, which also proves the batch axis is dynamic.
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    # The export's own error: with float16 storage, the file against the module whose weights went through
    # the same rounding; with int8, the float32 graph before storage against the module. The storage's
    # effect (the file against the unrounded module) is reported on its own.
    rounded = round_weights_fp16(copy.deepcopy(module)) if spec.fp16_weights else module
    max_diff, storage_effect = 0.0, 0.0
    for batch in (1, 5):
        inputs = spec.make_inputs(batch, g)
        with torch.no_grad():
            ref, exact = rounded(*inputs), module(*inputs)
        ref = [r.numpy() for r in (ref if isinstance(ref, tuple) else (ref,))]
        exact = [e.numpy() for e in (exact if isinstance(exact, tuple) else (exact,))]
        feeds = {n: t.numpy() for n, t in zip(names_in, inputs)}
        got = sess.run(names_out, feeds)
        exported = got if float_graph is None else float_graph.run(names_out, feeds)
        for r, x, e, o in zip(ref, exported, exact, got):
            assert r.shape == o.shape, (r.shape, o.shape)
            max_diff = max(max_diff, float(np.abs(r - x).max()))
            storage_effect = max(storage_effect, float(np.abs(e - o).max()))
    return {
        "file": path.name,
        "bytes": path.stat().st_size,
        "sha256": sha256(path),
        "inputs": [vars(i) for i in spec.inputs],
        "outputs": [vars(o) for o in spec.outputs],
        "parameters": sum(p.numel() for p in module.parameters()),
        "export_check": {
            "exporter": "torch.onnx.export(dynamo=False)",
            "opset": report["opset"],
            "onnxruntime_max_abs_diff": max_diff,
            "onnxruntime_version": ort.__version__,
            "check_inputs": "random (seeded) inputs at batch 1 and 5, CPUExecutionProvider",
            "weights_storage": _storage_note(spec),
            **({"max_abs_diff_vs_float32_weights": storage_effect} if spec.fp16_weights or spec.int8_weights else {}),
            **{k: v for k, v in report.items() if k != "opset"},
        },
        **spec.extra,
    }
