"""Issue 16's measurements: the MNIST background grid, the upsampler's consistency projection, the UNet's output stage."""

import torch

from training.metrics import background_grid
from training.models.unet import UNet, UNetConfig
from training.recipes import cascade_base as base
from training.recipes import cascade_sr
from training.schedule import DDIMConfig, SchedulerConfig, ddim_sample


def _digit() -> torch.Tensor:
    x = torch.full((4, 1, 32, 32), -1.0)
    x[:, :, 10:22, 14:18] = 1.0  # a stroke; most of the image stays background
    return x


def test_background_grid_is_zero_for_clean_digits_and_sees_a_2x2_pattern():
    clean = background_grid(_digit())
    assert clean["speckle"] == 0.0 and clean["phase_spread"] == 0.0 and 0.3 < clean["background_share"] < 1
    grid = _digit()
    grid[:, :, 0::2, 0::2] += 0.04  # one pixel of every 2x2 block a little lighter, as the patch-2 UNet left it
    g = background_grid(grid)
    assert g["phase_spread"] > 4.0 and g["speckle"] > 1.0
    noisy = _digit() + 0.04 * torch.rand(4, 1, 32, 32)  # speckle without the grid
    n = background_grid(noisy)
    assert n["speckle"] > 1.0 and n["phase_spread"] < 0.5 * g["phase_spread"]


def test_consistency_projection_gives_the_input_2x2_means_and_keeps_detail():
    g = torch.Generator().manual_seed(0)
    low = torch.rand(2, 3, 16, 16, generator=g) * 2 - 1
    x0 = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    out = cascade_sr.consistency_projection(low)(x0)
    assert torch.allclose(base.downsample(out), low, atol=1e-6)
    # within each 2x2 block only a constant moved: the block's own detail survives
    assert torch.allclose(out[..., 0::2, 0::2] - out[..., 1::2, 1::2], x0[..., 0::2, 0::2] - x0[..., 1::2, 1::2], atol=1e-6)


def test_ddim_project_x0_is_applied_at_every_step():
    calls = []

    def project(x0):
        calls.append(1)
        return x0 * 0  # everything projected to zero: the sampler must land on it

    out = ddim_sample(lambda x, t: torch.zeros_like(x), (1, 1, 4, 4), SchedulerConfig(), DDIMConfig(num_inference_steps=5),
                      torch.Generator().manual_seed(0), project)
    assert len(calls) == 5 and out.abs().max() < 1e-6


def test_the_last_convolution_runs_at_full_resolution_only_with_the_output_stage():
    """Without the stage, each 2x2 block's four pixels are one 16 px position's four channels (the grid)."""
    shapes = {}
    for stage in (0, 16):
        model = UNet(UNetConfig(patch_size=2, full_res_channels=stage)).eval()
        model.conv_out.register_forward_hook(lambda m, i, o, stage=stage: shapes.__setitem__(stage, tuple(o.shape)))
        out = model(torch.randn(2, 1, 32, 32), torch.tensor([500.0, 10.0]), torch.tensor([3, 10]))
        assert out.shape == (2, 1, 32, 32)
    assert shapes == {0: (2, 4, 16, 16), 16: (2, 1, 32, 32)}


def test_the_webgpu_audit_refuses_a_conv_webgpu_miscomputes(tmp_path):
    """9 input channels: onnxruntime-web's WebGPU EP got it wrong (measured); 8 and 12 pass."""
    import onnx

    from training.export import op_report
    from training.paths import WEIGHTS

    for cin, ok in ((9, False), (8, True), (12, True)):
        path = tmp_path / f"conv{cin}.onnx"
        torch.onnx.export(torch.nn.Conv2d(cin, 16, 3, padding=1), (torch.zeros(1, cin, 8, 8),), str(path), opset_version=17, dynamo=False)
        report = op_report(onnx.load(str(path)))
        assert report["webgpu_ok"] is ok and bool(report["convs_webgpu_miscomputes"]) is not ok
    for f in sorted(WEIGHTS.glob("*.onnx")):  # every shipped graph, float16 storage included
        assert op_report(onnx.load(str(f)))["convs_webgpu_miscomputes"] == [], f.name
