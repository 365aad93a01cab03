"""A few training steps per recipe on a tiny subset, resume, then ONNX export + onnxruntime equivalence."""

import math

import torch

from training.export import export
from training.recipes import emoji_vae, mnist_ddpm, mnist_judge, tiny_clip

TOL = 1e-4  # fp32 ONNX vs PyTorch; observed ~1e-6


def _smoke(mod, tmp_path, **kw):
    cfg = mod.with_overrides(steps=3, batch_size=8, log_every=1, warmup_steps=1, threads=1, ema_decay=mod.TRAIN.ema_decay)
    t = mod.train(cfg, subset=64, run_dir=tmp_path)
    assert t.step == 3 and math.isfinite(t.loss_ema)
    resumed = mod.train(mod.with_overrides(steps=4, batch_size=8, log_every=1, warmup_steps=1, threads=1), subset=64, run_dir=tmp_path)
    assert resumed.step == 4  # resumed from the checkpoint, not restarted
    return resumed


def _check(info, names_in, names_out):
    ec = info["export_check"]
    assert [i["name"] for i in info["inputs"]] == names_in
    assert [o["name"] for o in info["outputs"]] == names_out
    assert ec["opset"] >= 17 and ec["onnxruntime_max_abs_diff"] < TOL
    assert ec["webgpu_ok"], (ec["ops_without_webgpu_kernel"], ec["int64_compute_nodes"])


def test_judge(tmp_path, mnist):
    t = _smoke(mnist_judge, tmp_path)
    info = export(mnist_judge.export_spec(t.final_model()), tmp_path / "judge.onnx")
    _check(info, ["pixel_values"], ["logits", "features"])


def test_ddpm(tmp_path, mnist):
    t = _smoke(mnist_ddpm, tmp_path)
    assert t.ema is not None
    info = export(mnist_ddpm.export_spec(t.final_model()), tmp_path / "unet.onnx")
    _check(info, ["sample", "timestep", "class_labels"], ["out_sample"])
    assert info["inputs"][1]["dtype"] == "float32"


def test_vae(tmp_path, emoji):
    t = _smoke(emoji_vae, tmp_path)
    enc, dec = emoji_vae.export_specs(t.final_model())
    _check(export(enc, tmp_path / "enc.onnx"), ["sample"], ["latent_mean", "latent_logvar"])
    _check(export(dec, tmp_path / "dec.onnx"), ["latent_sample"], ["sample"])
    assert emoji_vae.scaling_factor(t.final_model(), n=32) > 0


def test_vae_fine_tune_trains_the_decoder_only(tmp_path, emoji):
    cfg = emoji_vae.with_overrides(steps=3, batch_size=8, log_every=1, warmup_steps=1, threads=1)
    tuned = emoji_vae.train(cfg, subset=64, run_dir=tmp_path).final_model().state_dict()
    first = torch.load(tmp_path / emoji_vae.AUTOENCODER_RUN / "ckpt.pt", weights_only=False)["model"]
    assert first.keys() == tuned.keys()
    enc = [k for k in tuned if k.startswith("encoder.")]
    dec = [k for k in tuned if k.startswith("decoder.")]
    assert enc and all(torch.equal(first[k], tuned[k]) for k in enc)  # the latents stay as they were
    assert any(not torch.equal(first[k], tuned[k]) for k in dec)


def test_clip(tmp_path, emoji):
    t = _smoke(tiny_clip, tmp_path)
    tok = t.tokenizer
    text, image = tiny_clip.export_specs(t.final_model(), tok)
    _check(export(text, tmp_path / "text.onnx"), ["input_ids"], ["last_hidden_state", "text_embeds"])
    _check(export(image, tmp_path / "image.onnx"), ["pixel_values"], ["image_embeds"])
    m = tiny_clip.evaluate(t.final_model(), tok)
    assert 0 <= m["image_to_text_top1"] <= m["image_to_text_top5"] <= 1


def test_ddim_sampler_runs_on_onnx(tmp_path, mnist):
    """The evaluation path (ONNX UNet + CFG + DDIM) runs end to end on an untrained model."""
    from training.evaluate_ddpm import onnx_unet
    from training.models.unet import UNet
    from training.schedule import DDIMConfig, SchedulerConfig, cfg_model_fn, ddim_sample

    export(mnist_ddpm.export_spec(UNet().eval()), tmp_path / "u.onnx")
    fn = cfg_model_fn(onnx_unet(tmp_path / "u.onnx"), torch.tensor([3, 7]), 2.0, 10)
    x = ddim_sample(fn, (2, 1, 32, 32), SchedulerConfig(), DDIMConfig(num_inference_steps=3), torch.Generator().manual_seed(0))
    assert x.shape == (2, 1, 32, 32) and x.abs().max() <= 1.0 + 1e-5
