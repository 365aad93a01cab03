"""Pixel cascade, stage 1: a text-conditional base model on 16x16 RGB pixels (GLIDE, Nichol et al. 2022;
Imagen, Saharia et al. 2022), conditioned on the frozen tiny CLIP's text states.

The model works on pixels, not latents, because Imagen's dynamic thresholding clips the predicted x0
to the data range [-1, 1], which only exists in pixel space. cascade_sr.py then upsamples 16 -> 32.
As in mini_sd.py the text encoder is frozen and its outputs for every caption are cached once.
"""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from ..data import load_emoji
from ..export import ExportSpec, IOSpec, cpu_session
from ..models.cascade import PixelTextUNet
from ..models.text_unet import TextUNetConfig
from ..paths import RUNS
from ..schedule import DDIMConfig, SchedulerConfig, add_noise, alphas_cumprod, ddim_sample
from ..trainer import TrainConfig, Trainer, overridden

NAME = "cascade_base"
SIZE = 16  # base resolution: 32 px emoji box-filtered 2x2
UNET = TextUNetConfig(
    in_channels=3,  # RGB pixels in [-1, 1]
    sample_size=SIZE,
    block_out_channels=(32, 48, 64),  # 16, 8, 4 px; ~1.2M parameters, 2.5 MB as fp16
    # Cross-/self-attention only in the 4x4 blocks and the mid block: attention at 8x8 as well cost
    # 0.97x the mini SD UNet's step time (15 more MFLOPs) against 0.82x without it, measured at batch 64.
    attention_levels=(2,),
    num_time_ids=0,  # no SDXL micro-conditioning: the pooled text_embeds alone go through add_embedding
)
# Improved DDPM's cosine schedule (Nichol & Dhariwal 2021), as GLIDE: linear betas destroy a 16 px
# image within the first half of the steps, wasting the rest on near-pure noise.
SCHEDULER = SchedulerConfig(beta_schedule="squaredcos_cap_v2")
P_UNCOND = 0.1  # prompt replaced by the empty prompt 10% of steps (GLIDE / Imagen classifier-free guidance)
# What the manifest recommends: static clipping of x0 to [-1, 1]. Imagen's dynamic thresholding (DYNAMIC)
# scored lower here at every guidance scale (held-out top-5 retrieval 31% vs 66% at guidance 5 after the
# first run): emoji sit on saturated white, so the 99.5th percentile of |x0| is ~1 for every image, and
# whenever s rises above 1 the whole image is divided by s, which greys the background and the colours.
SAMPLING = DDIMConfig(num_inference_steps=25, timestep_spacing="leading", clip_sample=True)
# Imagen's dynamic thresholding (percentile 99.5, s capped at 1.5), evaluated beside SAMPLING.
DYNAMIC = replace(SAMPLING, thresholding=True, dynamic_thresholding_ratio=0.995, sample_max_value=1.5)
GUIDANCE_SCALE = 5.0  # recommended classifier-free guidance (the mini SD UNet's value)
TRAIN = TrainConfig(
    steps=12000,  # cap; the 35-minute budget binds first (~0.35 s per step at 1 thread)
    max_minutes=35.0,
    batch_size=64,
    lr=5e-4,  # as mini_sd: Adam with warm-up and cosine decay
    warmup_steps=200,
    ema_decay=0.999,  # sample from EMA weights
    threads=1,  # runs beside another training on this 2-core machine
)


def make_model() -> PixelTextUNet:
    """The ~1.2M-parameter text-conditional 16 px pixel UNet."""
    return PixelTextUNet(UNET)


def export_spec(model) -> ExportSpec:
    """Pixel cascade base graph (diffusers' UNet2DConditionModel inputs): sample [B, 3, 16, 16], timestep
    (float32 [B]), encoder_hidden_states, text_embeds -> out_sample (fp16 weights)."""
    c = model.cfg
    s, l, dc, e = c.sample_size, c.text_context_length, c.cross_attention_dim, c.text_embeds_dim
    return ExportSpec(
        model,
        [IOSpec("sample", ["batch", c.in_channels, s, s], "float32"), IOSpec("timestep", ["batch"], "float32"),
         IOSpec("encoder_hidden_states", ["batch", l, dc], "float32"), IOSpec("text_embeds", ["batch", e], "float32")],
        [IOSpec("out_sample", ["batch", c.in_channels, s, s], "float32")],
        lambda b, g: (torch.randn(b, c.in_channels, s, s, generator=g), torch.rand(b, generator=g) * 999,
                      torch.randn(b, l, dc, generator=g), torch.randn(b, e, generator=g)),
        fp16_weights=True,
    )


def to_pixels(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, 32, 32, 3] -> float [N, 3, 32, 32] in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def downsample(x: torch.Tensor, size: int = SIZE) -> torch.Tensor:
    """Box filter (area average) [N, 3, 32, 32] -> [N, 3, size, size]: exact 2x2 means, no ringing."""
    return F.interpolate(x, size=(size, size), mode="area")


def upsample(x: torch.Tensor, size: int = 32, mode: str = "bilinear") -> torch.Tensor:
    """[N, 3, s, s] -> [N, 3, size, size], half-pixel centres (align_corners=False, ONNX Resize's default)."""
    return F.interpolate(x, size=(size, size), mode=mode, align_corners=None if mode == "nearest" else False)


def frozen_text_encoder():
    """The shipped tiny CLIP (both towers) and its tokenizer, loaded from their run."""
    from ..checkpoints import load_trained
    from . import tiny_clip

    tok = tiny_clip.load_tokenizer()
    return load_trained(tiny_clip, tok), tok


@torch.no_grad()
def encode_prompts(clip, tok, prompts: list[str], batch: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Tiny CLIP text states: last_hidden_state [N, L, D] and text_embeds [N, E]."""
    hs, es = [], []
    for i in range(0, len(prompts), batch):
        h, e = clip.text(torch.tensor([tok.encode(p) for p in prompts[i : i + batch]]))
        hs.append(h)
        es.append(e)
    return torch.cat(hs), torch.cat(es)


@torch.no_grad()
def build_text_cache(path: Path, subset: int | None = None) -> dict:
    """Text states of every caption variant of the training images (prompt 0 is the empty prompt)."""
    if path.exists():
        cache = torch.load(path, weights_only=False)
        if cache.get("subset") == subset:  # a smoke test's subset cache never stands in for the full one
            return cache
    clip, tok = frozen_text_encoder()
    d = load_emoji()
    caps = [json.loads(c) for c in d["captions"][d["split"] == 0]][:subset]
    prompts = ["", *sorted({c for cs in caps for c in cs})]
    index = {p: i for i, p in enumerate(prompts)}
    hidden, embeds = encode_prompts(clip, tok, prompts)
    cache = {
        "captions": [torch.tensor([index[c] for c in cs]) for cs in caps],  # N x [V_i] prompt indices
        "hidden": hidden, "embeds": embeds,  # [P, L, D], [P, E]
        "num_images": len(caps), "subset": subset,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(cache, path)
    return cache


def draw_prompts(cache: dict, img: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """One random caption variant per image, replaced by the empty prompt with probability P_UNCOND -> [B]."""
    caps = torch.stack([c[torch.randint(0, len(c), (1,), generator=g)][0] for c in (cache["captions"][i] for i in img.tolist())])
    caps[torch.rand(len(caps), generator=g) < P_UNCOND] = 0
    return caps


def train(cfg: TrainConfig = TRAIN, subset: int | None = None, run_dir=None, unet: TextUNetConfig = UNET) -> Trainer:
    """epsilon-prediction MSE (DDPM, Ho et al. 2020, eq. 14) on 16 px pixels, random caption variant, 10% empty prompt."""
    run_dir = Path(run_dir) if run_dir else RUNS / NAME
    cache = build_text_cache(run_dir / "text_cache.pt", subset)
    d = load_emoji()
    x16 = downsample(to_pixels(d["images"][d["split"] == 0][: cache["num_images"]]))  # [N, 3, 16, 16]
    n = len(x16)
    ac = alphas_cumprod(SCHEDULER)
    trainer = Trainer(NAME, PixelTextUNet(unet), cfg, run_dir)

    def loss_fn(model, step, g):
        img = torch.randint(0, n, (cfg.batch_size,), generator=g)
        caps = draw_prompts(cache, img, g)
        x0 = x16[img]  # [B, 3, 16, 16]
        t = torch.randint(0, SCHEDULER.num_train_timesteps, (len(img),), generator=g)
        noise = torch.randn(x0.shape, generator=g)
        dev = trainer.device
        eps = model(add_noise(x0, noise, t, ac).to(dev), t.float().to(dev), cache["hidden"][caps].to(dev), cache["embeds"][caps].to(dev))
        return torch.mean((eps - noise.to(dev)) ** 2)

    trainer.summary = trainer.fit(loss_fn)
    return trainer


with_overrides = partial(overridden, TRAIN)  # this recipe's TrainConfig with CLI overrides


def onnx_model(path, threads: int = 1):
    """An exported graph as a function of its inputs in graph order (torch tensors in, torch tensor out)."""
    sess = cpu_session(path, threads)
    names = [i.name for i in sess.get_inputs()]

    def fn(*inputs: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(sess.run(None, {n: x.numpy() for n, x in zip(names, inputs)})[0])

    return fn


@torch.no_grad()
def sample(unet, hidden, embeds, empty, guidance: float, seed: int = 0, ddim: DDIMConfig = SAMPLING) -> torch.Tensor:
    """DDIM + classifier-free guidance (Ho & Salimans 2022) for a batch of prompts -> [B, 3, 16, 16] in [-1, 1].

    `unet(sample, timestep, encoder_hidden_states, text_embeds)` returns epsilon; `empty` is the empty
    prompt's (hidden [1, L, D], embeds [1, E]).
    """
    b = len(hidden)
    eh, ee = empty[0].expand(b, -1, -1), empty[1].expand(b, -1)

    def fn(x, t):
        if guidance <= 1.0:  # diffusers' rule: no unconditional pass at guidance_scale <= 1
            return unet(x, t, hidden, embeds)
        eps = unet(torch.cat([x, x]), torch.cat([t, t]), torch.cat([eh, hidden]), torch.cat([ee, embeds]))  # [2B, 3, 16, 16]
        u, c = eps.chunk(2)
        return u + guidance * (c - u)

    x = ddim_sample(fn, (b, 3, SIZE, SIZE), SCHEDULER, ddim, torch.Generator().manual_seed(seed))
    return x.clamp(-1, 1)


@torch.no_grad()
def evaluate(unet_path, guidance_scales=(1.0, 3.0, 5.0, 7.5), threads: int = 1, out_dir=None, max_prompts: int | None = None) -> dict:
    """Tiny-CLIP retrieval of generated 16 px images (bilinearly upsampled to 32) for held-out and training
    prompts, with static clipping of x0 and, for comparison, Imagen's dynamic thresholding."""
    from ..evaluate_ddpm import save_grid_rgb
    from .mini_sd import _primary_captions, retrieval

    clip, tok = frozen_text_encoder()
    unet = onnx_model(unet_path, threads)
    d = load_emoji()
    real = to_pixels(d["images"])
    rng = np.random.default_rng(0)
    results: dict = {"protocol": (
        "one image per distinct primary caption, DDIM 25 steps (leading), seed 0, 16 px output bilinearly upsampled to 32 "
        "for the tiny CLIP's image tower, which ranks the image's own caption among all captions of the set (top-1 / top-5); "
        "'real_16px' = the first real image of each caption box-filtered to 16 px and upsampled the same way, 'real_32px' = "
        "that image at full resolution; 'dynamic_thresholding' rows use Imagen's thresholding (ratio 0.995, s <= 1.5), "
        "'static_clipping' rows clip x0 to [-1, 1]"),
        "sampling": {"steps": SAMPLING.num_inference_steps, "dynamic_thresholding_ratio": DYNAMIC.dynamic_thresholding_ratio,
                     "sample_max_value": DYNAMIC.sample_max_value}}
    empty = encode_prompts(clip, tok, [""])
    for split, name in ((1, "held_out"), (0, "training")):
        caps, first = _primary_captions(d, split)
        if split == 0:  # as many training prompts as held-out ones, drawn once with a fixed seed
            pick = sorted(rng.choice(len(caps), size=results["held_out"]["real_16px"]["prompts"], replace=False))
            caps, first = [caps[i] for i in pick], [first[i] for i in pick]
        caps, first = caps[:max_prompts], first[:max_prompts]
        hidden, embeds = encode_prompts(clip, tok, caps)
        block = {"real_16px": retrieval(clip, tok, upsample(downsample(real[first])), caps),
                 "real_32px": retrieval(clip, tok, real[first], caps)}
        for label, ddim in (("static_clipping", SAMPLING), ("dynamic_thresholding", DYNAMIC)):
            rows = {}
            for g in guidance_scales:
                x = sample(unet, hidden, embeds, empty, g, ddim=ddim)
                rows[f"guidance_{g:g}"] = retrieval(clip, tok, upsample(x), caps)
                if out_dir is not None and label == "static_clipping":
                    save_grid_rgb(upsample(x[:64], mode="nearest"), Path(out_dir) / f"samples_{name}_guidance_{g:g}.png", nrow=8)
                print(f"{name} {label} guidance {g:g}: {rows[f'guidance_{g:g}']}", flush=True)
            block[label] = rows
        results[name] = block
    return results
