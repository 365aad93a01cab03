"""public/weights/manifest.json agrees with the files beside it and keeps one schema for every model."""

import json

import pytest

from training.export import sha256
from training.paths import WEIGHTS

MANIFEST = WEIGHTS / "manifest.json"
REQUIRED = {"file", "bytes", "sha256", "inputs", "outputs", "parameters", "export_check", "dataset", "training", "metrics"}

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="no manifest yet: run python -m training build all")


def _manifest():
    return json.loads(MANIFEST.read_text())


def test_schema_and_files():
    m = _manifest()
    assert m["version"] == 1 and m["models"]
    for mid, e in m["models"].items():
        f = WEIGHTS / e["file"]
        assert f.exists(), f
        assert f.stat().st_size == e["bytes"], mid
        assert sha256(f) == e["sha256"], mid
        if e.get("timing_only"):  # a cost twin: constant weights, never trained or evaluated
            assert {"file", "bytes", "sha256", "inputs", "outputs", "description"} <= set(e), mid
            continue
        assert REQUIRED <= set(e), (mid, REQUIRED - set(e))
        ec = e["export_check"]
        assert ec["opset"] >= 17 and ec["webgpu_ok"] and ec["onnxruntime_max_abs_diff"] < 1e-4
        for key in ("steps", "batch_size", "wall_time_s", "hardware"):
            assert key in e["training"]


def test_budget_and_specifics():
    m = _manifest()
    models = m["models"]
    # all shipped weights under 35 MB (was 30 MB before the flow chapter's two int8 UNets, 5.3 MB together);
    # what a reader downloads is bounded per chapter by the 8 MB chapter budget (tests/unit/chapter-budget.test.ts)
    assert sum(e["bytes"] for e in models.values()) < 35_000_000
    if "mnist_ddpm" in models:
        e = models["mnist_ddpm"]
        assert e["scheduler"]["num_train_timesteps"] == 1000 and e["scheduler"]["beta_schedule"] == "linear"
        assert e["recommended_sampling"]["use_clipped_model_output"] is True
        # issue 16: no 2x2 grid in the samples' background (the patch-2 UNet without its full-resolution stage: 0.90)
        grid = e["metrics"]["sampling"]["guidance_2"]["background_grid"]
        assert grid["phase_spread"] < 0.2, grid
    if "cascade_sr" in models:  # issue 16: one upsampler sample above bicubic, with the consistency projection
        sr = models["cascade_sr"]["metrics"]
        assert sr["consistent_single_samples"]["worst_seed_psnr"] > sr["bicubic"]["psnr"]
    for mid in ("vae_encoder", "vae_decoder"):
        if mid in models:
            assert models[mid]["scaling_factor"] > 0
    if "clip_text" in models:
        t = models["clip_text"]["tokenizer"]
        f = WEIGHTS / t["file"]
        assert f.exists() and sha256(f) == t["sha256"] and f.stat().st_size == t["bytes"]
