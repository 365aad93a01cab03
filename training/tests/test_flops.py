"""FLOP counting from ONNX graphs, checked on layers whose cost is known in closed form."""

import torch
from torch import nn

from training.flops import count_flops


def _export(module: nn.Module, example: torch.Tensor, path) -> None:
    torch.onnx.export(module, (example,), str(path), input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=17, dynamo=False)


def test_conv_flops_are_two_macs_per_output_tap(tmp_path):
    # 3x3 conv, 4 -> 8 channels, padding 1, on 16x16: each of 8*16*16 outputs costs 4*3*3 MACs.
    path = tmp_path / "conv.onnx"
    _export(nn.Conv2d(4, 8, 3, padding=1), torch.zeros(2, 4, 16, 16), path)
    assert count_flops(path) == 2 * 8 * 16 * 16 * 4 * 3 * 3


def test_linear_and_grouped_conv(tmp_path):
    path = tmp_path / "mlp.onnx"
    _export(nn.Sequential(nn.Linear(32, 64), nn.SiLU(), nn.Linear(64, 10)), torch.zeros(3, 32), path)
    assert count_flops(path) == 2 * (32 * 64 + 64 * 10)  # batch counted as 1
    path = tmp_path / "depthwise.onnx"
    _export(nn.Conv2d(8, 8, 3, padding=1, groups=8), torch.zeros(1, 8, 4, 4), path)
    assert count_flops(path) == 2 * 8 * 4 * 4 * 1 * 3 * 3


def test_conv_after_group_norm_counts_its_full_size(tmp_path):
    """GroupNorm exports as Reshape by a computed Shape: without data propagation the Conv after it had
    unknown height and width and was counted as one position (the shipped UNets were undercounted 2-8x)."""
    from training.models.layers import ResBlock

    path = tmp_path / "resblock.onnx"
    _export(ResBlock(8, 8), torch.zeros(1, 8, 16, 16), path)  # GroupNorm -> SiLU -> Conv, twice
    assert count_flops(path) == 2 * (2 * 8 * 16 * 16 * 8 * 3 * 3)
