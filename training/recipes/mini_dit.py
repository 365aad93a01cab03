"""Mini DiT: a class-conditional Diffusion Transformer (Peebles & Xie 2023) on the emoji VAE's latents.

Same latent space, noise schedule and prediction target as the mini SD UNet, so the site's
samplers and VAE decoder apply unchanged; the condition is the emoji's category (10 classes,
index 10 = null class for classifier-free guidance) instead of a caption.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import torch

from ..data import load_emoji
from ..export import ExportSpec, IOSpec
from ..models.dit import DiT, DiTConfig
from ..schedule import DDIMConfig, SchedulerConfig, add_noise, alphas_cumprod, cfg_model_fn, ddim_sample
from ..trainer import TrainConfig, Trainer, overridden

NAME = "mini_dit"
DIT = DiTConfig()
# Stable Diffusion's training schedule (v1 config), as mini_sd: the same samplers serve both models.
SCHEDULER = SchedulerConfig(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
P_UNCOND = 0.1  # class label replaced by the null class 10% of steps (DiT's class_dropout_prob)
NULL_CLASS = DIT.num_classes
TRAIN = TrainConfig(
    steps=20000,  # cap; 0.15-0.25 s a step (batch 64, 1 thread, idle vs shared CPU): the 40-minute budget binds first
    max_minutes=40.0,
    batch_size=64,
    lr=3e-4,  # DiT's 1e-4 is for batch 256 and 400k steps; a short run needs a larger step
    warmup_steps=500,  # transformers are touchier than UNets about Adam's first steps
    ema_decay=0.999,  # DiT uses 0.9999 over 400k steps; 0.999 is a ~1k-step horizon for a ~15k-step run
)
# SD-style DDIM (diffusers' DDIMScheduler with SD's scheduler_config), as mini_sd's evaluation.
SD_DDIM = DDIMConfig(num_inference_steps=25, timestep_spacing="leading", steps_offset=1, clip_sample=False, set_alpha_to_one=False)
# Published DiT sizes (Peebles & Xie 2023, table 1), 256x256 images = 32x32x4 latents, patch size 2.
# Gflops as the paper counts them (fvcore: one multiply-add = one flop).
PAPER_CONFIGS = (
    ("DiT-S/2", 12, 384, 6, 6.06),
    ("DiT-B/2", 12, 768, 12, 23.01),
    ("DiT-L/2", 24, 1024, 16, 80.71),
    ("DiT-XL/2", 28, 1152, 16, 118.64),
)


def make_model() -> DiT:
    """The ~1.9M-parameter mini DiT (hidden 128, depth 6, 4 heads, 16 tokens)."""
    return DiT(DIT)


def export_spec(model) -> ExportSpec:
    """DiT graph (diffusers names): sample, timestep (float32 [B]), class_labels (int64 [B]) -> out_sample,
    plus every block's attention probabilities and mean |adaLN-Zero gate| for the site's figures."""
    c = model.cfg
    s, t = c.input_size, c.num_patches
    return ExportSpec(
        model,
        [IOSpec("sample", ["batch", c.in_channels, s, s], "float32"), IOSpec("timestep", ["batch"], "float32"),
         IOSpec("class_labels", ["batch"], "int64")],
        [IOSpec("out_sample", ["batch", c.in_channels, s, s], "float32"),
         IOSpec("attention_probs", ["batch", c.depth, c.num_heads, t, t], "float32"),
         IOSpec("adaln_gates", ["batch", c.depth, 2], "float32")],
        lambda b, g: (torch.randn(b, c.in_channels, s, s, generator=g), torch.rand(b, generator=g) * 999,
                      torch.randint(0, c.num_classes + 1, (b,), generator=g)),
        fp16_weights=True,
    )


def latent_dataset() -> dict:
    """Clean-view VAE posteriors of the emoji training split (from mini_sd's cache) and their categories.

    mean, logvar [N, 4, 8, 8] (unscaled), labels int64 [N], scaling_factor: z * scaling_factor is what the DiT sees.
    """
    from . import mini_sd

    cache = mini_sd.build_cache()
    n = cache["num_images"]  # rows 0..n-1 are the un-augmented views, in training-split order
    d = load_emoji()
    labels = torch.from_numpy(d["category"][d["split"] == 0])
    assert len(labels) == n, (len(labels), n)
    return {"mean": cache["mean"][:n], "logvar": cache["logvar"][:n], "labels": labels, "scaling_factor": cache["scaling_factor"]}


def train(cfg: TrainConfig = TRAIN, subset: int | None = None, run_dir=None, name: str = NAME, model=None) -> Trainer:
    """Epsilon-prediction MSE on posterior samples z * scaling_factor, label dropped to the null class 10% of steps.

    `name` and `model` let class_unet.py train its UNet on exactly this data and loss."""
    data = latent_dataset()
    n = len(data["labels"]) if not subset else min(subset, len(data["labels"]))
    mean, logvar, labels_all = data["mean"][:n], data["logvar"][:n], data["labels"][:n]
    scale = data["scaling_factor"]
    ac = alphas_cumprod(SCHEDULER)
    trainer = Trainer(name, model if model is not None else make_model(), cfg, run_dir)

    def loss_fn(model, step, g):
        b = cfg.batch_size
        idx = torch.randint(0, n, (b,), generator=g)
        m, lv = mean[idx], logvar[idx]
        z = (m + torch.exp(0.5 * lv) * torch.randn(m.shape, generator=g)) * scale  # [B, 4, 8, 8]
        labels = labels_all[idx].clone()  # [B]
        labels[torch.rand(b, generator=g) < P_UNCOND] = NULL_CLASS
        t = torch.randint(0, SCHEDULER.num_train_timesteps, (b,), generator=g)
        noise = torch.randn(z.shape, generator=g)
        zt = add_noise(z, noise, t, ac)  # [B, 4, 8, 8]
        dev = trainer.device
        eps = model(zt.to(dev), t.float().to(dev), labels.to(dev))
        eps = eps[0] if isinstance(eps, tuple) else eps  # the DiT also returns attention and gates
        return torch.mean((eps - noise.to(dev)) ** 2)

    trainer.summary = trainer.fit(loss_fn)
    return trainer


with_overrides = partial(overridden, TRAIN)  # this recipe's TrainConfig with CLI overrides


def paper_configs(ours_gflops: float | None = None) -> list[dict]:
    """DiT-S/B/L/XL at p = 2 (table 1 of the paper) plus this model as the last row, for the site's size table."""
    rows = [
        {"name": name, "layers": layers, "hidden_size": hidden, "heads": heads, "gflops": gflops,
         "patch_size": 2, "image_size": 256, "latent_size": 32, "tokens": (32 // 2) ** 2}
        for name, layers, hidden, heads, gflops in PAPER_CONFIGS
    ]
    rows.append({
        "name": "mini DiT (this site)", "layers": DIT.depth, "hidden_size": DIT.hidden_size, "heads": DIT.num_heads,
        "gflops": ours_gflops, "patch_size": DIT.patch_size, "image_size": 32, "latent_size": DIT.input_size,
        "tokens": DIT.num_patches,
    })
    return rows


@torch.no_grad()
def sample(unet, vae, scale: float, labels: torch.Tensor, guidance: float, seed: int = 0, ddim: DDIMConfig = SD_DDIM) -> torch.Tensor:
    """DDIM + classifier-free guidance for the requested categories, decoded to RGB [B, 3, 32, 32] in [-1, 1].

    `unet(x, t, labels)` returns epsilon (the ONNX session or the module's first output).
    """
    fn = cfg_model_fn(unet, labels, guidance, NULL_CLASS)
    s = DIT.input_size
    z = ddim_sample(fn, (len(labels), DIT.in_channels, s, s), SCHEDULER, ddim, torch.Generator().manual_seed(seed))  # [B, 4, 8, 8]
    return vae.decoder(z / scale).clamp(-1, 1)


@torch.no_grad()
def evaluate(dit_path, guidance_scales=(1.0, 2.0, 4.0), per_class: int = 50, threads: int = 1, out_dir: Path | None = None,
             model_name: str = "the ONNX DiT (onnxruntime CPU)") -> dict:
    """Judge agreement: the emoji judge's argmax on decoded samples equals the requested category.

    `dit_path` is the exported file, or a function (x, t, labels) -> epsilon (class_unet.py's PyTorch baseline)."""
    from ..checkpoints import load_trained
    from ..evaluate_ddpm import onnx_unet, save_grid_rgb
    from . import emoji_judge, emoji_vae

    vae = load_trained(emoji_vae)
    scale = emoji_vae.scaling_factor(vae)
    judge = load_trained(emoji_judge)
    unet = dit_path if callable(dit_path) else onnx_unet(dit_path, threads)
    names = category_names()
    labels = torch.arange(DIT.num_classes).repeat_interleave(per_class)  # [10 * per_class], grouped by category
    results: dict = {
        "protocol": (
            f"{per_class} samples per category from {model_name}, DDIM {SD_DDIM.num_inference_steps} steps "
            "(leading, steps_offset 1, no clipping, set_alpha_to_one False), seed 0, decoded by the VAE; judge_agreement = the "
            "emoji judge's argmax equals the requested category. References: the judge on held-out real emoji (validation), and "
            f"on up to {per_class} real training emoji per category, the score of a model that reproduced its training set"),
        "judge_reference": emoji_judge.evaluate(judge),
        "judge_on_training_images": judge_on_training(judge, per_class),
    }
    for g in guidance_scales:
        x = sample(unet, vae, scale, labels, g)
        pred = emoji_judge.classify(judge, x).argmax(1)
        hit = (pred == labels).float()
        results[f"guidance_{g:g}"] = {
            "judge_agreement": float(hit.mean()),
            "per_category": {names[c]: float(hit[labels == c].mean()) for c in range(DIT.num_classes)},
        }
        if out_dir is not None:
            # 10 per category, one row each
            pick = torch.cat([torch.arange(c * per_class, c * per_class + 10) for c in range(DIT.num_classes)])
            save_grid_rgb(x[pick], out_dir / f"samples_guidance_{g:g}.png", nrow=10)
        print(f"guidance {g:g}: judge agreement {results[f'guidance_{g:g}']['judge_agreement']:.3f}", flush=True)
    return results


@torch.no_grad()
def judge_on_training(judge, per_class: int, seed: int = 0) -> dict:
    """The judge's accuracy on up to `per_class` random real training emoji of each category (class-balanced)."""
    from . import emoji_judge

    x, y = emoji_judge.emoji_labelled("train")
    g = torch.Generator().manual_seed(seed)
    idx = torch.cat([(y == c).nonzero()[:, 0][torch.randperm(int((y == c).sum()), generator=g)[:per_class]] for c in range(DIT.num_classes)])
    hit = (emoji_judge.classify(judge, x[idx]).argmax(1) == y[idx]).float()
    return {"accuracy": float(hit.mean()), "images": len(idx)}


def category_names() -> list[str]:
    """Emoji category names in label order (Unicode emoji groups as emoji.json spells them)."""
    return [str(c) for c in load_emoji()["category_names"]]
