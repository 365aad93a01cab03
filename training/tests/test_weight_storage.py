"""Weight storage in the shipped files: int8 rows with a scale, folded back to float32 by onnxruntime."""

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

from training.export import ExportSpec, IOSpec, export, quantize_rows_int8


def test_int8_rows_round_trip_within_half_a_step():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(16, 8, 3, 3)).astype(np.float32) * np.linspace(0.01, 3, 16, dtype=np.float32)[:, None, None, None]
    w[3] = 0  # an all-zero row must stay exactly zero
    q, scale = quantize_rows_int8(w)
    assert q.dtype == np.int8 and scale.shape == (16, 1, 1, 1)
    assert np.abs(q).max() == 127  # each non-zero row uses the full range
    err = np.abs(q * scale - w)
    assert np.all(err <= scale / 2 + 1e-7)
    assert np.all(q[3] == 0)


class _Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(4, 32, 3, padding=1)
        self.lin = nn.Linear(32, 64)

    def forward(self, x):
        return self.lin(self.conv(x).mean(dim=(2, 3)))


def test_int8_export_is_smaller_and_close(tmp_path):
    module = _Tiny()
    spec = ExportSpec(module, [IOSpec("sample", ["batch", 4, 8, 8], "float32")], [IOSpec("out", ["batch", 64], "float32")],
                      lambda b, g: (torch.randn(b, 4, 8, 8, generator=g),), int8_weights=True)
    info = export(spec, tmp_path / "tiny.onnx")
    ec = info["export_check"]
    assert ec["onnxruntime_max_abs_diff"] < 1e-5  # the float32 graph before storage against PyTorch
    assert 0 < ec["max_abs_diff_vs_float32_weights"] < 0.05  # int8 changes the output, a little
    assert ec["webgpu_ok"]
    model = onnx.load(str(tmp_path / "tiny.onnx"))
    dtypes = {t.name: t.data_type for t in model.graph.initializer}
    int8 = [n for n, d in dtypes.items() if d == onnx.TensorProto.INT8]
    assert len(int8) == 2 and all(n.endswith("_int8") for n in int8)  # the conv and the linear weight
    # onnxruntime folds Mul(Cast(q), scale) away at session creation: no Cast or Mul is left to run.
    opts = ort.SessionOptions()
    opts.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(tmp_path / "tiny.onnx"), opts, providers=["CPUExecutionProvider"])
    ops = {n.op_type for n in onnx.load(str(tmp_path / "optimized.onnx")).graph.node}
    assert "Cast" not in ops and "Mul" not in ops, ops
