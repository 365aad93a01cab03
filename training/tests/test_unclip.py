"""unCLIP prior and decoder: a few steps on 64 images with untrained frozen models, resume, ONNX export,
sampling shapes and the evaluation code paths."""

import math

import pytest
import torch

from training.export import export
from training.models.unclip import DiffusionPrior, UnCLIPDecoder, unit_rms
from training.recipes import emoji_vae, tiny_clip, unclip_decoder, unclip_prior

TOL = 1e-4  # fp32 ONNX vs PyTorch
TOL_FP16 = 1e-3  # fp16-stored weights; the zero-initialised conv_out keeps a barely trained decoder's output tiny


@pytest.fixture(scope="module")
def frozen(emoji):
    """Untrained tiny CLIP + tokenizer and VAE (scaling factor 1): the code paths, not the quality."""
    torch.manual_seed(0)
    tok = tiny_clip.build_tokenizer()
    return tiny_clip.make_model(tok).eval(), tok, emoji_vae.make_model().eval()


def _cfg(mod, steps):
    return mod.with_overrides(steps=steps, batch_size=8, log_every=1, warmup_steps=1, threads=1)


def _check(info, names_in, names_out, tol):
    ec = info["export_check"]
    assert [i["name"] for i in info["inputs"]] == names_in
    assert [o["name"] for o in info["outputs"]] == names_out
    assert ec["opset"] >= 17 and ec["onnxruntime_max_abs_diff"] < tol
    assert ec["webgpu_ok"], (ec["ops_without_webgpu_kernel"], ec["int64_compute_nodes"])


def test_unit_rms():
    x = torch.randn(3, 64) * 5
    assert torch.allclose(unit_rms(x).norm(dim=-1), torch.full((3,), 8.0), atol=1e-4)
    assert unit_rms(torch.zeros(2, 64)).abs().max() == 0  # the decoder's unconditional input survives


def test_prior_sampler_recovers_a_perfect_prediction():
    """A prior that always predicts x0 = target must land on target: checks the x0 -> eps conversion in DDIM."""
    target = torch.randn(3, 64)
    hidden, embeds = torch.zeros(3, 16, 64), torch.zeros(3, 64)
    empty = (torch.zeros(1, 16, 64), torch.zeros(1, 64))
    out = unclip_prior.sample(lambda x, t, e, h: target.repeat(len(x) // 3, 1), hidden, embeds, empty, 4.0, steps=10)
    assert torch.allclose(out, target, atol=1e-4)


def test_prior(tmp_path, frozen):
    clip, tok, _ = frozen
    cache = unclip_prior.build_cache(tmp_path / "cache.pt", models=(clip, tok), subset=64)
    assert cache["image_embeds"].shape == (64, 64) and cache["hidden"].shape[1:] == (16, 64)
    t = unclip_prior.train(_cfg(unclip_prior, 3), run_dir=tmp_path / "run", cache=cache)
    assert t.step == 3 and math.isfinite(t.loss_ema) and t.ema is not None
    t = unclip_prior.train(_cfg(unclip_prior, 4), run_dir=tmp_path / "run", cache=cache)
    assert t.step == 4  # resumed
    path = tmp_path / "unclip_prior.onnx"
    info = export(unclip_prior.export_spec(t.final_model()), path)
    _check(info, ["sample", "timestep", "text_embeds", "encoder_hidden_states"], ["predicted_image_embedding"], TOL)
    prior = unclip_prior.onnx_prior(path)
    hidden, embeds = cache["hidden"][1:4], cache["embeds"][1:4]
    empty = (cache["hidden"][:1], cache["embeds"][:1])
    assert unclip_prior.sample(prior, hidden, embeds, empty, 4.0, steps=3).shape == (3, 64)
    m = unclip_prior.evaluate(path, models=(clip, tok), step_counts=(2,), seeds=1, max_captions=6)
    assert set(m["held_out"]) >= {"random_pair_similarity", "text_embeds", "prior_steps_2_guidance_4"}


def test_decoder(tmp_path, frozen):
    clip, tok, vae = frozen
    cache = unclip_decoder.build_cache(tmp_path / "cache.pt", models=((vae, 1.0), (clip, tok)), subset=64)
    assert cache["mean"].shape == (64, 4, 8, 8) and cache["image_embeds"].shape == (64, 64)
    t = unclip_decoder.train(_cfg(unclip_decoder, 3), run_dir=tmp_path / "run", cache=cache)
    assert t.step == 3 and math.isfinite(t.loss_ema)
    t = unclip_decoder.train(_cfg(unclip_decoder, 4), run_dir=tmp_path / "run", cache=cache)
    assert t.step == 4
    path = tmp_path / "unclip_decoder.onnx"
    info = export(unclip_decoder.export_spec(t.final_model()), path)
    _check(info, ["sample", "timestep", "image_embeds"], ["out_sample"], TOL_FP16)
    assert info["export_check"]["weights_storage"].startswith("int8")  # keeps the DALL-E 2 chapter under 8 MB
    dec = unclip_decoder.onnx_decoder(path)
    x = unclip_decoder.sample(dec, vae, 1.0, cache["image_embeds"][:2], 3.0, steps=2)
    assert x.shape == (2, 3, 32, 32) and x.abs().max() <= 1
    m = unclip_decoder.evaluate(path, models=((vae, 1.0), (clip, tok)), guidance_scales=(3.0,), sources=2, steps=2)
    assert -1 <= m["held_out"]["guidance_3"]["similarity_to_source"] <= 1
    # The whole pipeline (prior -> decoder -> retrieval) on an untrained prior.
    prior_path = tmp_path / "unclip_prior.onnx"
    export(unclip_prior.export_spec(DiffusionPrior().eval()), prior_path)
    m = unclip_prior.evaluate(prior_path, decoder_path=path, models=(clip, tok), vae=(vae, 1.0), step_counts=(2,), seeds=1, max_captions=4, decoder_steps=2)
    assert set(m["text_to_image"]["held_out"]) == {"real", "prior_guidance_1", "prior_guidance_4", "no_prior"}


def test_decoder_ignores_embedding_scale():
    """The graph normalises image_embeds, so the raw CLIP output and the prior's (norm 8) prediction agree."""
    torch.manual_seed(0)
    m = UnCLIPDecoder().eval()
    torch.nn.init.normal_(m.unet.conv_out.weight, std=0.1)
    x, t, e = torch.randn(2, 4, 8, 8), torch.tensor([10.0, 500.0]), torch.randn(2, 64)
    with torch.no_grad():
        assert torch.allclose(m(x, t, e), m(x, t, 3.7 * e), atol=1e-5)


def test_cosine_schedule_matches_diffusers():
    """The prior's squaredcos_cap_v2 alpha-bar against diffusers' DDPMScheduler (tests/fixtures/diffusers-reference.json)."""
    import json

    from training.paths import ROOT
    from training.schedule import alphas_cumprod

    ref = json.loads((ROOT / "tests" / "fixtures" / "diffusers-reference.json").read_text())
    want = torch.tensor(ref["beta_schedules"]["squaredcos_cap_v2"]["alphas_cumprod"]["values"])
    got = alphas_cumprod(unclip_prior.SCHEDULER)
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-8)  # float64 here vs float32 cumprod in diffusers
