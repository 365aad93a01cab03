"""Pixel cascade (base 16 px + upsampler 16 -> 32): a few training steps, resume, export, evaluation path.

The frozen tiny CLIP is replaced by an untrained one, so these tests need no trained checkpoint.
"""

import json
import math

import pytest
import torch

from training.export import export
from training.models.cascade import PixelTextUNet, SuperResTextUNet, patchify, unpatchify
from training.models.text_unet import TextUNet
from training.paths import ROOT
from training.recipes import cascade_base, cascade_sr, tiny_clip
from training.schedule import alphas_cumprod, dynamic_threshold

FP16_TOL = 1e-2  # fp16-stored weights vs the float32 module; observed ~1e-3 on random weights


@pytest.fixture
def untrained_clip(monkeypatch, emoji):
    tok = tiny_clip.build_tokenizer()
    clip = tiny_clip.make_model(tok).eval()
    monkeypatch.setattr(cascade_base, "frozen_text_encoder", lambda: (clip, tok))
    return clip, tok


def _smoke(mod, tmp_path):
    kw = dict(batch_size=8, log_every=1, warmup_steps=1, threads=1)
    t = mod.train(mod.with_overrides(steps=3, **kw), subset=64, run_dir=tmp_path)
    assert t.step == 3 and math.isfinite(t.loss_ema)
    t = mod.train(mod.with_overrides(steps=4, **kw), subset=64, run_dir=tmp_path)
    assert t.step == 4  # resumed from the checkpoint, not restarted
    model = t.final_model()
    torch.nn.init.normal_(model.conv_out.weight, std=0.05)  # a zero-initialised output would make the export check vacuous
    return model


def _check(info, names_in):
    ec = info["export_check"]
    assert [i["name"] for i in info["inputs"]] == names_in
    assert [o["name"] for o in info["outputs"]] == ["out_sample"]
    assert 0 < ec["onnxruntime_max_abs_diff"] < FP16_TOL
    assert ec["webgpu_ok"], (ec["ops_without_webgpu_kernel"], ec["int64_compute_nodes"])
    assert ec["weights_storage"].startswith("float16")


def test_default_text_unet_unchanged():
    """The new TextUNet options default to the mini SD UNet that is already trained (same parameters)."""
    m = TextUNet()
    assert sum(p.numel() for p in m.parameters()) == 2_361_828 and m.class_embedding is None
    assert m.num_cross_attention_layers == 7


def test_shapes_and_patchify():
    x = torch.randn(2, 6, 32, 32)
    assert torch.equal(unpatchify(patchify(x, 6, 2, 32), 6, 2, 32), x)
    b = PixelTextUNet(cascade_base.UNET)
    h, e = torch.randn(2, 16, 64), torch.randn(2, 64)
    assert b(torch.randn(2, 3, 16, 16), torch.tensor([1.0, 500.0]), h, e).shape == (2, 3, 16, 16)
    sr = SuperResTextUNet(cascade_sr.SR)
    out = sr(torch.randn(2, 3, 32, 32), torch.tensor([1.0, 500.0]), torch.randn(2, 3, 32, 32), torch.tensor([0.0, 0.3]), h, e)
    assert out.shape == (2, 3, 32, 32)


def test_dynamic_threshold_matches_diffusers():
    """Imagen's dynamic thresholding against diffusers' `_threshold_sample` (tests/fixtures/diffusers-reference.json)."""
    ref = json.loads((ROOT / "tests" / "fixtures" / "diffusers-reference.json").read_text())["dynamic_thresholding"]
    kw = ref["constructor_kwargs"]
    x = torch.tensor(ref["input"]["values"], dtype=torch.float64).float().reshape(ref["input"]["shape"])
    want = torch.tensor(ref["output"]["values"], dtype=torch.float64).float().reshape(ref["output"]["shape"])
    got = dynamic_threshold(x, kw["dynamic_thresholding_ratio"], kw["sample_max_value"])
    assert torch.allclose(got, want, atol=1e-6)  # float32 quantile and division, same torch calls


def test_noise_augmentation_levels():
    x, n = torch.ones(3, 3, 4, 4), torch.zeros(3, 3, 4, 4)
    out = cascade_sr.augment(x, torch.tensor([0.0, 0.1, 1.0]), n)
    ac = alphas_cumprod(cascade_sr.SCHEDULER)
    assert torch.equal(out[0], x[0])  # level 0: the clean image
    assert torch.allclose(out[1], ac[99].sqrt().expand(3, 4, 4))  # level 0.1: q(x_k | x_0) at k = 100
    assert float(out[2].max()) < 1e-2  # level 1: (almost) pure noise


def test_cascade_base(tmp_path, untrained_clip):
    model = _smoke(cascade_base, tmp_path)
    path = tmp_path / "base.onnx"
    _check(export(cascade_base.export_spec(model), path), ["sample", "timestep", "encoder_hidden_states", "text_embeds"])
    m = cascade_base.evaluate(path, guidance_scales=(3.0,), out_dir=tmp_path, max_prompts=4)
    for split in ("held_out", "training"):
        for label in ("dynamic_thresholding", "static_clipping"):
            r = m[split][label]["guidance_3"]
            assert r["prompts"] == 4 and 0 <= r["top1"] <= r["top5"] <= 1
    assert (tmp_path / "samples_held_out_guidance_3.png").exists()


def test_cascade_sr(tmp_path, untrained_clip):
    model = _smoke(cascade_sr, tmp_path)
    path = tmp_path / "sr.onnx"
    _check(export(cascade_sr.export_spec(model), path),
           ["sample", "timestep", "low_res_sample", "noise_level", "encoder_hidden_states", "text_embeds"])
    base_path = tmp_path / "base.onnx"
    export(cascade_base.export_spec(PixelTextUNet(cascade_base.UNET).eval()), base_path)
    m = cascade_sr.evaluate(path, base_path=base_path, out_dir=tmp_path, max_images=3, grid_prompts=2)
    assert m["images"] == 3 and m["bicubic"]["psnr"] > 10
    assert set(m["cascade"]) >= {"base_16px_bilinear", "noise_level_0", "noise_level_0.1", "noise_level_0.3"}
    assert (tmp_path / "cascade_grid.png").exists()
