"""Pixel cascade, stage 2: a 16 -> 32 px super-resolution diffusion model (GLIDE's upsampler, Nichol et al.
2022; Imagen's super-resolution models, Saharia et al. 2022) with noise-conditioning augmentation.

The low-resolution image is upsampled to 32 px (bilinear) and concatenated to x_t as input channels.
During training that image is itself noised to a random level (Imagen sec. 2.5, "noise conditioning
augmentation"), and the level is an input, so at sampling time the upsampler can be told to distrust
the base model's artifacts. The caption still conditions the model (cross-attention in the 8 px mid
block and the pooled text_embeds), as in Imagen's upsamplers; it helps where 16 px is ambiguous.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import torch

from ..data import load_emoji
from ..export import ExportSpec, IOSpec
from ..models.cascade import SuperResConfig, SuperResTextUNet
from ..models.text_unet import TextUNetConfig
from ..paths import RUNS
from ..schedule import DDIMConfig, add_noise, alphas_cumprod, ddim_sample, velocity
from ..trainer import TrainConfig, Trainer, overridden
from . import cascade_base as base

NAME = "cascade_sr"
SIZE = 32  # output resolution
SR = SuperResConfig(
    unet=TextUNetConfig(
        in_channels=2 * 3 * 2 * 2,  # [x_t, low_res] as 2x2 patches: 24 channels on a 16x16 grid
        out_channels=3 * 2 * 2,  # v as 2x2 patches
        sample_size=16,
        block_out_channels=(32, 48, 64),  # 32, 16, 8 px; ~1.0M parameters, 2.1 MB as fp16
        attention_levels=(),  # attention only in the 8 px mid block: detail is local, the low-res image carries layout
        num_time_ids=0,
        class_embed_type="timestep",  # noise_level embedded like the timestep (DeepFloyd IF's upscaler)
    ),
    image_size=SIZE,
    patch_size=2,
)
# The base model's cosine schedule drives x_t and the augmentation of the low-res image, but the upsampler
# predicts v, not epsilon. With epsilon the first run learned to ignore its low-res input: at high noise
# eps ~ x_t / sqrt(1 - ab) is almost free to predict, so the loss barely rewards reading the condition,
# and x0 = (x_t - sqrt(1 - ab) eps) / sqrt(ab) multiplies any error by up to 2e4 at t = 999 (ab = 2.4e-9).
# Its 25-step samples scored 9.2 dB PSNR against bicubic's 23.1 dB while its one-shot x0 from the true x_t
# at t = 800 scored 13 dB. v = sqrt(ab) eps - sqrt(1 - ab) x0 tends to -x0 at high noise, so the model has
# to reproduce the upsampled image there (Salimans & Ho 2022; Imagen Video, SD 2's 768 px model).
SCHEDULER = replace(base.SCHEDULER, prediction_type="v_prediction")
P_UNCOND = base.P_UNCOND  # prompt dropout, so the upsampler also runs without a prompt (and with CFG)
SAMPLING = DDIMConfig(num_inference_steps=25, timestep_spacing="leading", clip_sample=True)  # static clip: guidance 1
NOISE_LEVEL = 0.1  # recommended augmentation for base-model samples; real 16 px images need none
AUG_LEVELS = (0.0, 0.1, 0.3)  # levels evaluated
MEAN_OF = 4  # samples averaged for the posterior-mean PSNR
TRAIN = TrainConfig(
    steps=12000,  # cap; the 35-minute budget binds first (~0.3 s per step at 1 thread)
    max_minutes=35.0,
    batch_size=64,
    lr=5e-4,
    warmup_steps=200,
    ema_decay=0.999,
    threads=1,
)


def make_model() -> SuperResTextUNet:
    """The ~1.0M-parameter 16 -> 32 px upsampler."""
    return SuperResTextUNet(SR)


def export_spec(model) -> ExportSpec:
    """Pixel cascade upsampler graph: sample [B, 3, 32, 32], timestep, low_res_sample [B, 3, 32, 32] (16 px image
    upsampled and noise-augmented by the caller), noise_level [B] in [0, 1], encoder_hidden_states, text_embeds
    -> out_sample (fp16 weights)."""
    c, u = model.sr, model.cfg
    s, ch, l, dc, e = c.image_size, c.image_channels, u.text_context_length, u.cross_attention_dim, u.text_embeds_dim
    return ExportSpec(
        model,
        [IOSpec("sample", ["batch", ch, s, s], "float32"), IOSpec("timestep", ["batch"], "float32"),
         IOSpec("low_res_sample", ["batch", ch, s, s], "float32"), IOSpec("noise_level", ["batch"], "float32"),
         IOSpec("encoder_hidden_states", ["batch", l, dc], "float32"), IOSpec("text_embeds", ["batch", e], "float32")],
        [IOSpec("out_sample", ["batch", ch, s, s], "float32")],
        lambda b, g: (torch.randn(b, ch, s, s, generator=g), torch.rand(b, generator=g) * 999,
                      torch.rand(b, ch, s, s, generator=g) * 2 - 1, torch.rand(b, generator=g),
                      torch.randn(b, l, dc, generator=g), torch.randn(b, e, generator=g)),
        fp16_weights=True,
    )


def augmentation_alphas_cumprod() -> torch.Tensor:
    """alpha-bar for augmentation step k = 0..T: 1 at k = 0 (no noise), alphas_cumprod[k - 1] after -> [T + 1]."""
    return torch.cat([torch.ones(1), alphas_cumprod(SCHEDULER)])


def augment(low_res: torch.Tensor, noise_level: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Noise conditioning augmentation (Imagen sec. 2.5) with the forward process q(z_k | z_0) (DDPM eq. 4)
    at k = round(noise_level * T): sqrt(ab_k) low_res + sqrt(1 - ab_k) noise; low_res [B, 3, 32, 32], noise_level [B]."""
    k = (noise_level * SCHEDULER.num_train_timesteps).round().long()  # [B] in 0..T
    return add_noise(low_res, noise, k, augmentation_alphas_cumprod())


def low_res_condition(x32: torch.Tensor) -> torch.Tensor:
    """A 32 px image's conditioning: box-filtered to 16 px, bilinearly upsampled back to 32 -> [N, 3, 32, 32]."""
    return base.upsample(base.downsample(x32))


def train(cfg: TrainConfig = TRAIN, subset: int | None = None, run_dir=None, sr: SuperResConfig = SR) -> Trainer:
    """v-prediction MSE on 32 px pixels given the augmented upsampled 16 px image, its level and the caption."""
    # The text states are the base model's cache (same captions, same frozen tiny CLIP), unless a run_dir is given.
    cache = base.build_text_cache(Path(run_dir or RUNS / base.NAME) / "text_cache.pt", subset)
    d = load_emoji()
    x32 = base.to_pixels(d["images"][d["split"] == 0][: cache["num_images"]])  # [N, 3, 32, 32]
    low = low_res_condition(x32)  # [N, 3, 32, 32]
    n = len(x32)
    ac = alphas_cumprod(SCHEDULER)
    steps = SCHEDULER.num_train_timesteps
    trainer = Trainer(NAME, SuperResTextUNet(sr), cfg, Path(run_dir) if run_dir else None)

    def loss_fn(model, step, g):
        b = cfg.batch_size
        img = torch.randint(0, n, (b,), generator=g)
        caps = base.draw_prompts(cache, img, g)
        # level = u^2: every level in [0, 1] is trained, but half the draws fall below 0.25, the range used at sampling
        level = (torch.rand(b, generator=g) ** 2 * steps).round() / steps  # [B], on the k / T grid
        cond = augment(low[img], level, torch.randn(low[img].shape, generator=g))  # [B, 3, 32, 32]
        x0 = x32[img]  # [B, 3, 32, 32]
        t = torch.randint(0, steps, (b,), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        dev = trainer.device
        v = model(add_noise(x0, noise, t, ac).to(dev), t.float().to(dev), cond.to(dev), level.to(dev),
                  cache["hidden"][caps].to(dev), cache["embeds"][caps].to(dev))
        return torch.mean((v - velocity(x0, noise, t, ac).to(dev)) ** 2)

    trainer.summary = trainer.fit(loss_fn)
    return trainer


with_overrides = partial(overridden, TRAIN)  # this recipe's TrainConfig with CLI overrides


def consistency_projection(low16: torch.Tensor):
    """x0 -> x0 + A+(y - A x0) for A = the 2x2 box filter and A+ = nearest 2x upsampling (A A+ = I): the range-space
    step of DDNM (Wang, Yu & Zhang 2023). The result's 2x2 means are exactly the 16 px input y; the model only
    chooses what A cannot see (detail inside each 2x2 block)."""
    return lambda x0: x0 + base.upsample(low16 - base.downsample(x0), mode="nearest")


@torch.no_grad()
def super_resolve(unet, low16: torch.Tensor, noise_level: float, hidden, embeds, seed: int = 0, ddim: DDIMConfig = SAMPLING,
                  consistent: bool = False) -> torch.Tensor:
    """The cascade's second stage: [B, 3, 16, 16] in [-1, 1] -> [B, 3, 32, 32], DDIM at guidance 1.

    `unet(sample, timestep, low_res_sample, noise_level, encoder_hidden_states, text_embeds)` returns v.
    The augmentation noise comes from its own generator (seed + 1), x_T from `seed`. `consistent` projects
    every x0 prediction onto the images whose 2x2 means are the input (`consistency_projection`).
    """
    b = len(low16)
    level = torch.full((b,), float(noise_level))
    up = base.upsample(low16)  # [B, 3, 32, 32]
    cond = augment(up, level, torch.randn(up.shape, generator=torch.Generator().manual_seed(seed + 1)))
    x = ddim_sample(lambda x, t: unet(x, t, cond, level, hidden, embeds), (b, 3, SIZE, SIZE), SCHEDULER, ddim,
                    torch.Generator().manual_seed(seed), consistency_projection(low16) if consistent else None)
    return x.clamp(-1, 1)


def _mean(v: torch.Tensor) -> float:
    return round(float(v.mean()), 3)


@torch.no_grad()
def evaluate(sr_path, base_path=None, threads: int = 1, out_dir=None, max_images: int | None = None, grid_prompts: int = 8) -> dict:
    """PSNR / SSIM of 16 -> 32 upsampling on validation images vs bicubic; with the base model's ONNX
    file, tiny-CLIP retrieval of full-cascade samples and a PNG grid of the stages."""
    from ..evaluate_ddpm import save_grid_rgb
    from ..metrics import psnr, ssim
    from .mini_sd import _primary_captions, high_frequency_energy, retrieval

    clip, tok = base.frozen_text_encoder()
    sr = base.onnx_model(sr_path, threads)
    d = load_emoji()
    val = np.flatnonzero(d["split"] == 1)[:max_images]
    x32 = base.to_pixels(d["images"][val])  # [N, 3, 32, 32]
    x16 = base.downsample(x32)  # [N, 3, 16, 16]
    hidden, embeds = base.encode_prompts(clip, tok, [json.loads(c)[0] for c in d["captions"][val]])
    to01 = lambda x: (x.clamp(-1, 1) + 1) / 2  # noqa: E731 - [-1, 1] -> [0, 1] for PSNR / SSIM
    ref = to01(x32)
    results: dict = {
        "protocol": (
            "validation images (held-out emoji) box-filtered to 16 px; each method returns 32 px; PSNR (dB, [0, 1] range) "
            "and SSIM vs the real 32 px image, averaged over images; super-resolution: the 16 px image bilinearly upsampled, "
            "augmented at noise_level with seed 1, DDIM 25 steps (leading, clip_sample) seed 0, guidance 1, prompt = the "
            "image's primary caption; _consistent: every x0 prediction projected so that its 2x2 means equal the 16 px input "
            "(DDNM's range-space step); images_above_bicubic = the share of images whose single sample beats bicubic's PSNR"),
        "images": len(val),
    }
    for name, mode in (("bicubic", "bicubic"), ("bilinear", "bilinear")):
        up = to01(base.upsample(x16, mode=mode))
        results[name] = {"psnr": _mean(psnr(up, ref)), "ssim": _mean(ssim(up, ref))}
    bicubic = psnr(to01(base.upsample(x16, mode="bicubic")), ref)  # [N]
    consistent_at_0 = None
    for level in AUG_LEVELS:
        for consistent in (False, True):
            x = super_resolve(sr, x16, level, hidden, embeds, consistent=consistent)
            if level == 0 and consistent:
                consistent_at_0 = x  # seed 0 of the seeds below
            out = to01(x)
            p = psnr(out, ref)
            key = f"noise_level_{level:g}" + ("_consistent" if consistent else "")
            results[key] = {"psnr": _mean(p), "ssim": _mean(ssim(out, ref)), "images_above_bicubic": _mean((p > bicubic).float())}
            print(f"SR {key}: {results[key]} (bicubic {results['bicubic']})", flush=True)
    # A sample is one plausible 32 px image, not the average of all of them, so its PSNR pays for every detail
    # it invents; the mean of a few samples approaches the posterior mean, which is what PSNR rewards
    # (the perception-distortion trade-off, Blau & Michaeli 2018).
    draws = torch.stack([super_resolve(sr, x16, 0.0, hidden, embeds, seed=s) for s in range(MEAN_OF)])  # [S, N, 3, 32, 32]
    mean = to01(draws.mean(0))
    results[f"mean_of_{MEAN_OF}_samples"] = {"psnr": _mean(psnr(mean, ref)), "ssim": _mean(ssim(mean, ref)), "noise_level": 0.0}
    rest = [super_resolve(sr, x16, 0.0, hidden, embeds, seed=s, consistent=True) for s in range(1, MEAN_OF)]
    consistent = torch.stack([consistent_at_0, *rest])  # [S, N, 3, 32, 32]
    seeds = torch.stack([psnr(to01(c), ref) for c in consistent])  # [S, N]
    results["consistent_single_samples"] = {
        "protocol": f"noise level 0, consistent, seeds 0-{MEAN_OF - 1}: each seed's mean PSNR, and the worst seed",
        "psnr_per_seed": [_mean(v) for v in seeds], "worst_seed_psnr": min(_mean(v) for v in seeds),
        "mean_of_samples_psnr": _mean(psnr(to01(consistent.mean(0)), ref)),
    }
    results["high_frequency_energy"] = {
        "protocol": "mean squared Laplacian of the [-1, 1] image (mini_sd's detail score), averaged over validation images",
        "real_32px": round(float(high_frequency_energy(x32).mean()), 4),
        "bicubic": round(float(high_frequency_energy(base.upsample(x16, mode="bicubic").clamp(-1, 1)).mean()), 4),
        "super_resolution": round(float(high_frequency_energy(draws[0]).mean()), 4),
    }
    print(f"mean of {MEAN_OF}: {results[f'mean_of_{MEAN_OF}_samples']}; detail {results['high_frequency_energy']}", flush=True)
    if base_path is None or not Path(base_path).exists():
        return results

    # The full cascade: base model at its recommended guidance -> upsampler at each augmentation level.
    unet = base.onnx_model(base_path, threads)
    empty = base.encode_prompts(clip, tok, [""])
    caps, _ = _primary_captions(d, 1)
    caps = caps[:max_images]
    hidden, embeds = base.encode_prompts(clip, tok, caps)
    low = base.sample(unet, hidden, embeds, empty, base.GUIDANCE_SCALE)  # [P, 3, 16, 16]
    cascade = {"base_16px_bilinear": retrieval(clip, tok, base.upsample(low), caps)}
    rows = [base.upsample(low[:grid_prompts], mode="nearest"), base.upsample(low[:grid_prompts], mode="bicubic").clamp(-1, 1)]
    for level in AUG_LEVELS:
        out = super_resolve(sr, low, level, hidden, embeds)
        cascade[f"noise_level_{level:g}"] = retrieval(clip, tok, out, caps)
        rows.append(out[:grid_prompts])
    results["cascade"] = {
        "protocol": (
            f"held-out primary captions; base model at guidance {base.GUIDANCE_SCALE:g} (DDIM 25, static clipping of x0, seed 0), "
            "then the upsampler at each noise_level (seed 0); tiny-CLIP retrieval top-1 / top-5 of the 32 px results among "
            "the captions, vs the base sample bilinearly upsampled"),
        **cascade,
    }
    if out_dir is not None:
        grid = torch.stack(rows, dim=0).transpose(0, 1).reshape(-1, 3, SIZE, SIZE)  # prompt-major: one row per prompt
        save_grid_rgb(grid, Path(out_dir) / "cascade_grid.png", nrow=len(rows))
        (Path(out_dir) / "cascade_grid.txt").write_text(
            "columns: base 16 px (nearest), bicubic, SR at noise_level " + ", ".join(f"{v:g}" for v in AUG_LEVELS)
            + "\nrows:\n" + "\n".join(caps[:grid_prompts]) + "\n")
    return results
