"""Mini DiT and emoji judge: model invariants, a few training steps with resume, ONNX export and its outputs."""

import math

import numpy as np
import onnxruntime as ort
import pytest
import torch

from training.export import export
from training.models.dit import DiT, DiTConfig, get_2d_sincos_pos_embed
from training.recipes import class_unet, emoji_judge, mini_dit
from training.trainer import Trainer, slim_checkpoint

TINY = DiTConfig(hidden_size=32, depth=2, num_heads=2)  # same token grid as the shipped model, 1/4 the width
FP16_TOL = 2e-3  # fp16-stored weights vs the fp32 module; fp32 export alone is ~1e-6


def _randomise_zero_init(model: DiT) -> DiT:
    """adaLN-Zero starts every gate and the output at exactly 0; give them values so the checks see signal."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            if not p.any():
                p.copy_(torch.randn(p.shape, generator=g) * 0.05)
    return model.eval()


def test_adaln_zero_init_is_a_zero_predictor():
    model = DiT(TINY).eval()
    out, probs, gates = model(torch.randn(3, 4, 8, 8), torch.tensor([0.0, 500.0, 999.0]), torch.tensor([0, 5, 10]))
    assert out.shape == (3, 4, 8, 8) and not out.any()
    assert probs.shape == (3, 2, 2, 16, 16) and gates.shape == (3, 2, 2) and not gates.any()


def test_unpatchify_is_dit_pqc_order():
    """Tokens laid out (p, q, c) per patch, row-major over the 4x4 grid, map back to the latent exactly."""
    model = DiT(TINY)
    x = torch.randn(2, 4, 8, 8)
    tokens = x.reshape(2, 4, 4, 2, 4, 2).permute(0, 2, 4, 3, 5, 1).reshape(2, 16, 16)  # [B, (h w), (p q c)]
    assert torch.equal(model.unpatchify(tokens), x)


def test_2d_sincos_position_embedding():
    pos = get_2d_sincos_pos_embed(32, 4)  # [16, 32]
    assert pos.shape == (16, 32)
    cols, rows = np.arange(16) % 4, np.arange(16) // 4
    # first half encodes the column, second half the row (DiT's layout); sin(0) = 0, cos(0) = 1 at the origin
    assert np.allclose(pos[cols == 2, :16], pos[cols == 2, :16][0]) and np.allclose(pos[rows == 1, 16:], pos[rows == 1, 16:][0])
    assert np.allclose(pos[0], np.r_[np.zeros(8), np.ones(8), np.zeros(8), np.ones(8)])


def test_export_outputs(tmp_path):
    model = _randomise_zero_init(DiT(TINY))
    info = export(mini_dit.export_spec(model), tmp_path / "dit.onnx")
    ec = info["export_check"]
    assert [i["name"] for i in info["inputs"]] == ["sample", "timestep", "class_labels"]
    assert [o["name"] for o in info["outputs"]] == ["out_sample", "attention_probs", "adaln_gates"]
    assert ec["webgpu_ok"], (ec["ops_without_webgpu_kernel"], ec["int64_compute_nodes"])
    assert ec["onnxruntime_max_abs_diff"] < FP16_TOL and ec["weights_storage"].startswith("float16")
    sess = ort.InferenceSession(str(tmp_path / "dit.onnx"), providers=["CPUExecutionProvider"])
    feeds = {"sample": np.random.default_rng(0).standard_normal((3, 4, 8, 8)).astype(np.float32),
             "timestep": np.array([1.0, 400.0, 981.0], np.float32), "class_labels": np.array([0, 9, 10], np.int64)}
    out, probs, gates = sess.run(None, feeds)
    assert out.shape == (3, 4, 8, 8) and probs.shape == (3, 2, 2, 16, 16) and gates.shape == (3, 2, 2)
    assert np.allclose(probs.sum(-1), 1.0, atol=1e-5) and (probs >= 0).all()
    assert (gates > 0).all()
    with torch.no_grad():
        ref_gates = model(*(torch.from_numpy(v) for v in feeds.values()))[2]
    assert np.allclose(gates, ref_gates.numpy(), atol=FP16_TOL)


def test_train_resume_and_export(tmp_path, monkeypatch):
    g = torch.Generator().manual_seed(0)
    fake = {"mean": torch.randn(64, 4, 8, 8, generator=g), "logvar": torch.full((64, 4, 8, 8), -4.0),
            "labels": torch.randint(0, 10, (64,), generator=g), "scaling_factor": 1.0}
    monkeypatch.setattr(mini_dit, "latent_dataset", lambda: fake)  # no VAE or cache needed
    monkeypatch.setattr(mini_dit, "make_model", lambda: DiT(TINY))
    kw = dict(batch_size=8, log_every=1, warmup_steps=1, threads=1)
    t = mini_dit.train(mini_dit.with_overrides(steps=3, **kw), run_dir=tmp_path)
    assert t.step == 3 and math.isfinite(t.loss_ema) and t.ema is not None
    t = mini_dit.train(mini_dit.with_overrides(steps=4, **kw), run_dir=tmp_path)
    assert t.step == 4  # resumed from the checkpoint, not restarted
    elapsed = t.elapsed
    t = mini_dit.train(mini_dit.with_overrides(steps=5, **{**kw, "threads": 2}), run_dir=tmp_path)
    first, second = t.summary["segments"]  # a resume with other threads is a new segment, with its start and machine
    assert (first["from_step"], first["from_elapsed_s"], first["hardware"]["threads"]) == (0, 0.0, 1)
    assert second["from_step"] == 4 and second["from_elapsed_s"] == round(elapsed, 1) and second["hardware"]["threads"] == 2
    info = export(mini_dit.export_spec(t.final_model()), tmp_path / "dit.onnx")
    assert info["export_check"]["webgpu_ok"] and info["parameters"] == sum(p.numel() for p in DiT(TINY).parameters())


def test_class_unet_baseline_trains_on_the_dit_data_and_resumes_from_a_slim_checkpoint(tmp_path, monkeypatch):
    """The DiT's UNet baseline: same loss and data path; a checkpoint without optimiser state (what
    training/gpu_train.sh brings back) still resumes and keeps its step count and weights."""
    g = torch.Generator().manual_seed(0)
    fake = {"mean": torch.randn(64, 4, 8, 8, generator=g), "logvar": torch.full((64, 4, 8, 8), -4.0),
            "labels": torch.randint(0, 10, (64,), generator=g), "scaling_factor": 1.0}
    monkeypatch.setattr(mini_dit, "latent_dataset", lambda: fake)
    kw = dict(batch_size=8, log_every=1, warmup_steps=1, threads=1)
    t = class_unet.train(class_unet.with_overrides(steps=2, **kw), run_dir=tmp_path)
    assert t.step == 2 and math.isfinite(t.loss_ema)
    eps = t.final_model()(torch.randn(3, 4, 8, 8), torch.tensor([1.0, 500.0, 999.0]), torch.tensor([0, 9, class_unet.NULL_CLASS]))
    assert eps.shape == (3, 4, 8, 8)
    slim_checkpoint(tmp_path / "ckpt.pt", tmp_path / "slim.pt")
    (tmp_path / "slim.pt").replace(tmp_path / "ckpt.pt")
    t2 = class_unet.train(class_unet.with_overrides(steps=3, **kw), run_dir=tmp_path)
    assert t2.step == 3


def test_a_resume_without_optimiser_state_warms_up_again_from_the_loaded_weights(tmp_path):
    """A slim or recovered checkpoint restarts Adam: the learning rate ramps up again from the resume step,
    and the EMA starts from the loaded weights (a recovered checkpoint has none of its own)."""
    cfg = mini_dit.with_overrides(steps=100, warmup_steps=10, max_minutes=60.0, threads=1)
    model = DiT(TINY)
    torch.save({"model": model.state_dict(), "ema": None, "opt": None, "step": 40, "elapsed": 0.0,
                "generator": torch.Generator().manual_seed(0).get_state()}, tmp_path / "ckpt.pt")
    t = Trainer("dit", DiT(TINY), cfg, tmp_path)
    assert t.step == 40 and t.rewarm_from == 40
    ramp = [t.lr_at(s) for s in range(40, 50)]  # 1/10 .. 10/10 of the cosine at each step
    assert ramp == sorted(ramp) and ramp[0] < ramp[-1] / 8 and t.lr_at(50) > t.lr_at(60) > t.lr_at(99)
    for a, b in zip(t.ema.state_dict().values(), model.state_dict().values()):
        assert torch.equal(a, b)
    t.save()  # the ramp's start survives a checkpoint written mid-ramp
    assert Trainer("dit", DiT(TINY), cfg, tmp_path).rewarm_from == 40


def test_paper_configs_end_with_ours():
    rows = mini_dit.paper_configs(0.02)
    assert [r["name"] for r in rows[:4]] == ["DiT-S/2", "DiT-B/2", "DiT-L/2", "DiT-XL/2"]
    assert rows[3]["gflops"] == 118.64 and rows[-1]["tokens"] == 16 and rows[-1]["gflops"] == 0.02


@pytest.mark.usefixtures("emoji")
def test_emoji_judge(tmp_path):
    kw = dict(batch_size=8, log_every=1, warmup_steps=1, threads=1)
    t = emoji_judge.train(emoji_judge.with_overrides(steps=3, **kw), subset=64, run_dir=tmp_path)
    assert t.step == 3 and math.isfinite(t.loss_ema)
    info = export(emoji_judge.export_spec(t.final_model()), tmp_path / "judge.onnx")
    assert [o["name"] for o in info["outputs"]] == ["logits"] and info["outputs"][0]["shape"] == ["batch", 10]
    assert info["export_check"]["webgpu_ok"] and info["export_check"]["onnxruntime_max_abs_diff"] < 1e-4
    assert info["bytes"] < 500_000  # small enough to ship
    m = emoji_judge.evaluate(t.final_model())
    assert 0 <= m["validation_accuracy"] <= 1 and m["validation_size"] > 0
