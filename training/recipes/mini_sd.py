"""Mini Stable Diffusion: a text-conditional UNet on the emoji VAE's latents (Rombach et al. 2022),
with SDXL's micro-conditioning on original size and crop (Podell et al. 2023, sec. 2.2).

The VAE and the tiny CLIP text encoder are frozen, as in Stable Diffusion: their outputs are
computed once per training image / caption and cached, so a training step only runs the UNet.
"""

from __future__ import annotations

import json
from functools import partial

import numpy as np
import torch
from torch.nn import functional as F

from ..data import load_emoji
from ..export import ExportSpec, IOSpec, cpu_session
from ..models.text_unet import TextUNet, TextUNetConfig
from ..models.vae import sample_posterior
from ..paths import RUNS
from ..schedule import SchedulerConfig, add_noise, alphas_cumprod
from ..trainer import TrainConfig, Trainer, overridden

NAME = "mini_sd"
UNET = TextUNetConfig()
# Stable Diffusion's training schedule (v1 config): scaled_linear betas 0.00085 .. 0.012.
SCHEDULER = SchedulerConfig(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)
P_UNCOND = 0.1  # prompt replaced by the empty prompt 10% of steps (SD's classifier-free guidance recipe)
AUGMENTATIONS = 4  # cached views per training image: 1 clean + 3 micro-conditioning augmentations
TARGET_SIZE = 32
SMALL_SIZES = (8, 12, 16, 20, 24, 28)  # "original sizes" for the downscale-upscale augmentation
MAX_CROP = 8  # crops from an image enlarged by up to 8 px: top/left in 0..8
TRAIN = TrainConfig(
    steps=12000,  # cap; the 50-minute budget binds first (~2.3 steps/s at 1 thread)
    max_minutes=50.0,
    batch_size=64,
    lr=5e-4,
    warmup_steps=200,
    ema_decay=0.999,
)


def make_model() -> TextUNet:
    """The ~2.4M-parameter text-conditional latent UNet."""
    return TextUNet(UNET)


def export_spec(model) -> ExportSpec:
    """Mini SD UNet graph: diffusers' UNet2DConditionModel inputs plus SDXL's added conditions
    (`added_cond_kwargs` text_embeds and time_ids) -> out_sample and per-layer cross-attention maps."""
    c = model.cfg
    s, l, dc = c.sample_size, c.text_context_length, c.cross_attention_dim
    layers = model.num_cross_attention_layers

    def make(b, g):
        ids = torch.tensor([[32.0, 32.0, 0.0, 0.0, 32.0, 32.0]]).repeat(b, 1)
        ids[:, :2] = torch.randint(8, 33, (b, 1), generator=g).float()
        return (torch.randn(b, c.in_channels, s, s, generator=g), torch.rand(b, generator=g) * 999,
                torch.randn(b, l, dc, generator=g), torch.randn(b, c.text_embeds_dim, generator=g), ids)

    return ExportSpec(
        model,
        [IOSpec("sample", ["batch", c.in_channels, s, s], "float32"), IOSpec("timestep", ["batch"], "float32"),
         IOSpec("encoder_hidden_states", ["batch", l, dc], "float32"), IOSpec("text_embeds", ["batch", c.text_embeds_dim], "float32"),
         IOSpec("time_ids", ["batch", c.num_time_ids], "float32")],
        [IOSpec("out_sample", ["batch", c.in_channels, s, s], "float32"),
         IOSpec("cross_attention_probs", ["batch", layers, l, s, s], "float32")],
        make,
        fp16_weights=True,
    )


def time_ids(orig: int, top: int = 0, left: int = 0, target: int = TARGET_SIZE) -> list[float]:
    """SDXL's add_time_ids: (original_size, crops_coords_top_left, target_size), each (h, w)."""
    return [float(orig), float(orig), float(top), float(left), float(target), float(target)]


def micro_augment(x: torch.Tensor, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One random view per image: half downscale-upscale (blurrier, small original size), half
    enlarge-and-crop (content shifted off-centre, non-zero crop top-left). Returns views, time_ids [B, 6]."""
    out, ids = [], []
    for img in x:
        img = img[None]  # [1, 3, 32, 32]
        if torch.rand(1, generator=g).item() < 0.5:
            s = SMALL_SIZES[int(torch.randint(0, len(SMALL_SIZES), (1,), generator=g))]
            small = F.interpolate(img, size=(s, s), mode="area")  # box filter: an honest low-resolution original
            out.append(F.interpolate(small, size=(TARGET_SIZE, TARGET_SIZE), mode="bilinear", align_corners=False))
            ids.append(time_ids(s))
        else:
            c = int(torch.randint(1, MAX_CROP + 1, (1,), generator=g))
            big = F.interpolate(img, size=(TARGET_SIZE + c,) * 2, mode="bilinear", align_corners=False)
            top, left = (int(v) for v in torch.randint(0, c + 1, (2,), generator=g))
            out.append(big[:, :, top : top + TARGET_SIZE, left : left + TARGET_SIZE])
            ids.append(time_ids(TARGET_SIZE, top, left))
    return torch.cat(out).clamp(-1, 1), torch.tensor(ids)


def frozen_models():
    """The shipped VAE (with its scaling_factor) and tiny CLIP + tokenizer, loaded from their runs."""
    from ..checkpoints import load_trained
    from . import emoji_vae, tiny_clip

    vae = load_trained(emoji_vae)
    tok = tiny_clip.load_tokenizer()
    clip = load_trained(tiny_clip, tok)
    return vae, emoji_vae.scaling_factor(vae), clip, tok


@torch.no_grad()
def encode_prompts(clip, tok, prompts: list[str], batch: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Tiny CLIP text states for each prompt: last_hidden_state [N, L, D] and text_embeds [N, E]."""
    hs, es = [], []
    for i in range(0, len(prompts), batch):
        ids = torch.tensor([tok.encode(p) for p in prompts[i : i + batch]])
        h, e = clip.text(ids)
        hs.append(h)
        es.append(e)
    return torch.cat(hs), torch.cat(es)


@torch.no_grad()
def build_cache(seed: int = 0) -> dict:
    """Latent posteriors of every training view and text states of every caption (plus the empty one)."""
    path = RUNS / NAME / "cache.pt"
    if path.exists():
        return torch.load(path, weights_only=False)
    vae, scale, clip, tok = frozen_models()
    d = load_emoji()
    mask = d["split"] == 0
    x = torch.from_numpy(d["images"][mask]).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)  # [N, 3, 32, 32]
    g = torch.Generator().manual_seed(seed)
    views, ids = [x], [torch.tensor([time_ids(TARGET_SIZE)] * len(x))]
    for _ in range(AUGMENTATIONS - 1):
        v, i = micro_augment(x, g)
        views.append(v)
        ids.append(i)
    means, logvars = [], []
    for v in views:
        for j in range(0, len(v), 512):
            m, lv = vae.encoder(v[j : j + 512])
            means.append(m)
            logvars.append(lv)
    caps = [json.loads(c) for c in d["captions"][mask]]
    prompts = ["", *sorted({c for cs in caps for c in cs})]
    index = {p: i for i, p in enumerate(prompts)}
    hidden, embeds = encode_prompts(clip, tok, prompts)
    cache = {
        "mean": torch.cat(means), "logvar": torch.cat(logvars),  # [K*N, 4, 8, 8], view k of image i at k*N + i
        "time_ids": torch.cat(ids),  # [K*N, 6]
        "captions": [torch.tensor([index[c] for c in cs]) for cs in caps],  # N x [V_i] prompt indices
        "hidden": hidden, "embeds": embeds,  # [P, L, D], [P, E]; prompt 0 is the empty prompt
        "scaling_factor": scale, "num_images": len(x),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(cache, path)
    return cache


def train(cfg: TrainConfig = TRAIN, subset: int | None = None, run_dir=None) -> Trainer:
    """eps-prediction MSE on z * scaling_factor with random view, caption variant and 10% empty prompt."""
    cache = build_cache()
    n = cache["num_images"] if not subset else min(subset, cache["num_images"])
    views = AUGMENTATIONS
    ac = alphas_cumprod(SCHEDULER)
    scale = cache["scaling_factor"]
    trainer = Trainer(NAME, make_model(), cfg, run_dir)

    def loss_fn(model, step, g):
        b = cfg.batch_size
        img = torch.randint(0, n, (b,), generator=g)
        view = torch.randint(0, views, (b,), generator=g) * cache["num_images"] + img
        mean, logvar = cache["mean"][view], cache["logvar"][view]
        z = sample_posterior(mean, logvar, g) * scale  # [B, 4, 8, 8]
        caps = torch.stack([c[torch.randint(0, len(c), (1,), generator=g)][0] for c in (cache["captions"][i] for i in img.tolist())])
        caps[torch.rand(b, generator=g) < P_UNCOND] = 0  # the empty prompt
        t = torch.randint(0, SCHEDULER.num_train_timesteps, (b,), generator=g)
        noise = torch.randn(z.shape, generator=g)
        zt = add_noise(z, noise, t, ac)
        dev = trainer.device
        eps, _ = model(zt.to(dev), t.float().to(dev), cache["hidden"][caps].to(dev), cache["embeds"][caps].to(dev), cache["time_ids"][view].to(dev))
        return torch.mean((eps - noise.to(dev)) ** 2)

    trainer.summary = trainer.fit(loss_fn)
    return trainer


with_overrides = partial(overridden, TRAIN)  # this recipe's TrainConfig with CLI overrides


def high_frequency_energy(x: torch.Tensor) -> torch.Tensor:
    """Mean squared Laplacian per image ([B, 3, H, W] in [-1, 1]): the energy of fine detail."""
    k = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).expand(3, 1, 3, 3)
    return F.conv2d(x, k, groups=3).pow(2).mean(dim=(1, 2, 3))


def onnx_text_unet(path, threads: int = 1):
    """The exported UNet as a function (sample, t, hidden, embeds, time_ids) -> eps, via onnxruntime."""
    sess = cpu_session(path, threads)

    def fn(x, t, hidden, embeds, ids):
        feeds = {"sample": x.numpy(), "timestep": t.numpy(), "encoder_hidden_states": hidden.numpy(),
                 "text_embeds": embeds.numpy(), "time_ids": ids.numpy()}
        return torch.from_numpy(sess.run(["out_sample"], feeds)[0])

    return fn


SD_DDIM = dict(num_inference_steps=25, timestep_spacing="leading", steps_offset=1, clip_sample=False, set_alpha_to_one=False)


@torch.no_grad()
def sample(unet, vae, scale: float, hidden, embeds, empty, guidance: float, ids: torch.Tensor, seed: int = 0, steps: int = 25):
    """DDIM + classifier-free guidance over a batch of prompts, decoded to [B, 3, 32, 32] in [-1, 1]."""
    from ..schedule import DDIMConfig, ddim_sample

    b = len(hidden)
    eh, ee = empty[0].expand(b, -1, -1), empty[1].expand(b, -1)

    def fn(x, t):
        if guidance <= 1.0:  # diffusers' rule: no unconditional pass at guidance_scale <= 1
            return unet(x, t, hidden, embeds, ids)
        eps = unet(torch.cat([x, x]), torch.cat([t, t]), torch.cat([eh, hidden]), torch.cat([ee, embeds]), torch.cat([ids, ids]))
        u, c = eps.chunk(2)
        return u + guidance * (c - u)

    cfg = DDIMConfig(**{**SD_DDIM, "num_inference_steps": steps})
    z = ddim_sample(fn, (b, UNET.in_channels, UNET.sample_size, UNET.sample_size), SCHEDULER, cfg, torch.Generator().manual_seed(seed))
    return vae.decoder(z / scale).clamp(-1, 1)


def _primary_captions(d, split: int) -> tuple[list[str], list[int]]:
    """Distinct primary captions of a split and, for each, the index of its first image."""
    mask = np.flatnonzero(d["split"] == split)
    first: dict[str, int] = {}
    for i in mask:
        first.setdefault(json.loads(d["captions"][i])[0], int(i))
    caps = sorted(first)
    return caps, [first[c] for c in caps]


def _caption_embeds(clip, tok, captions: list[str]) -> torch.Tensor:
    """The tiny CLIP's normalised text embeddings of `captions` -> [N, E]."""
    return F.normalize(clip.text(torch.tensor([tok.encode(c) for c in captions]))[1], dim=-1)


def _ranks(clip, images: torch.Tensor, caption_embeds: torch.Tensor) -> torch.Tensor:
    """For image i, how many captions the tiny CLIP ranks above caption i (0 = retrieved first) -> [N]."""
    sim = F.normalize(clip.image(images), dim=-1) @ caption_embeds.t()  # [N, N]
    return (sim > sim.diagonal()[:, None]).sum(1)


@torch.no_grad()
def retrieval(clip, tok, images: torch.Tensor, captions: list[str]) -> dict:
    """Image i should retrieve caption i among all `captions` (tiny CLIP cosine similarity)."""
    rank = _ranks(clip, images, _caption_embeds(clip, tok, captions))
    return {"top1": float((rank < 1).float().mean()), "top5": float((rank < 5).float().mean()), "prompts": len(captions)}


PROMPT_REPORT_SEEDS = (0, 1, 2, 3)
PROMPT_REPORT_GUIDANCE = 5.0  # the recommended guidance_scale
RECOMMENDED_PER_CATEGORY = 10
NOT_PROMPTS = ("Component",)  # the five skin-tone swatches: no reader asks for them


def _pixel_ranks(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """For image i, how many references are nearer than reference i in 16 px pixels (L2 of box-filtered
    [-1, 1] images) -> [N]. A colour blob that fools the tiny CLIP is far from the real layout."""
    small = lambda x: F.interpolate(x, size=16, mode="area").flatten(1)  # noqa: E731 - [N, 768]
    dist = torch.cdist(small(images), small(reference))  # [N, N]
    return (dist < dist.diagonal()[:, None]).sum(1)


@torch.no_grad()
def prompt_report(unet, vae, scale: float, clip, tok, seeds=PROMPT_REPORT_SEEDS, guidance: float = PROMPT_REPORT_GUIDANCE) -> dict:
    """Which training captions the model draws well, per emoji category, under two retrievals.

    Every distinct primary caption of a base emoji (no skin-tone variants) of the training split is sampled
    once per seed. The tiny CLIP ranks the image's own caption among all of them (it is lenient: a green blob
    passes for a four leaf clover), and a pixel nearest-neighbour search ranks the caption's real image among
    all the real images (it is not: the blob is nearer other green emoji). A caption is drawn well when it is
    in the top 5 of both for at least 3 of the 4 seeds; the figures suggest the best of those.
    """
    d = load_emoji()
    names = [str(c) for c in d["category_names"]]
    caps, first = _primary_captions(d, 0)
    keep = [i for i, f in enumerate(first) if d["skin_tone"][f] == 0]
    caps, first = [caps[i] for i in keep], [first[i] for i in keep]
    cats = torch.tensor([int(d["category"][f]) for f in first])
    real = torch.from_numpy(d["images"][first]).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    text = _caption_embeds(clip, tok, caps)  # [P, E], encoded once for every ranking below
    real_rank = _ranks(clip, real, text)  # [P]
    hidden, embeds = encode_prompts(clip, tok, caps)
    empty = encode_prompts(clip, tok, [""])
    ids = torch.tensor([time_ids(TARGET_SIZE)] * len(caps))
    clip_ranks, pixel_ranks = [], []
    for s in seeds:
        x = sample(unet, vae, scale, hidden, embeds, empty, guidance, ids, seed=s)  # [P, 3, 32, 32]
        clip_ranks.append(_ranks(clip, x, text))
        pixel_ranks.append(_pixel_ranks(x, real))
    cr, pr = torch.stack(clip_ranks), torch.stack(pixel_ranks)  # [S, P]
    well = ((cr < 5) & (pr < 5)).sum(0) >= 3  # [P]
    share = lambda v: round(float(v.float().mean()), 4)  # noqa: E731
    per_category, recommended = {}, {}
    for c in sorted(set(cats.tolist())):
        m = cats == c
        per_category[names[c]] = {
            "prompts": int(m.sum()),
            "clip_top1": share(cr[:, m] < 1), "clip_top5": share(cr[:, m] < 5),
            "pixel_top1": share(pr[:, m] < 1), "pixel_top5": share(pr[:, m] < 5),
            "drawn_well": share(well[m]),
            "real_clip_top1": share(real_rank[m] < 1), "real_clip_top5": share(real_rank[m] < 5),
        }
        if names[c] in NOT_PROMPTS:
            continue
        good = [int(i) for i in torch.nonzero(m & well)[:, 0]]
        good.sort(key=lambda i: (float((cr[:, i] + pr[:, i]).float().mean()), caps[i]))
        recommended[names[c]] = [caps[i] for i in good[:RECOMMENDED_PER_CATEGORY]]
    return {
        "protocol": (
            f"every distinct primary caption of a base emoji in the training split ({len(caps)}, no skin-tone variants), one image "
            f"per seed {list(seeds)}, guidance {guidance:g}, DDIM 25 steps (leading, steps_offset 1), decoded by the VAE. clip: the tiny "
            "CLIP ranks the image's own caption among all of them; pixel: the caption's real image ranked among all the real images "
            "by L2 distance at 16 px (box filter); real_clip: the first real image of each caption under the clip ranking; "
            "drawn_well: in the top 5 of both for at least 3 of the 4 seeds"),
        "prompts": len(caps),
        "clip_top1": share(cr < 1), "clip_top5": share(cr < 5), "pixel_top1": share(pr < 1), "pixel_top5": share(pr < 5),
        "drawn_well": share(well),
        "per_category": per_category,
        "recommended_prompts": recommended,
        "recommended_rule": f"drawn well, lowest mean rank (clip + pixel) first, at most {RECOMMENDED_PER_CATEGORY} per category; "
        f"none from {', '.join(NOT_PROMPTS)}",
    }


@torch.no_grad()
def evaluate(unet_path, guidance_scales=(1.0, 3.0, 5.0, 7.5), threads: int = 1, out_dir=None) -> dict:
    """CLIP retrieval of generated images (held-out and training prompts), and micro-conditioning blur."""
    from ..evaluate_ddpm import save_grid_rgb

    vae, scale, clip, tok = frozen_models()
    unet = onnx_text_unet(unet_path, threads)
    d = load_emoji()
    real = torch.from_numpy(d["images"]).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    rng = np.random.default_rng(0)
    results: dict = {"protocol": (
        "one image per distinct primary caption, DDIM 25 steps (leading, steps_offset 1), seed 0; the tiny CLIP "
        "ranks the image's own caption among all captions of the set (top-1 / top-5); 'real' = the first real "
        "image of each caption under the same protocol")}
    empty = encode_prompts(clip, tok, [""])
    for split, name in ((1, "held_out"), (0, "training")):
        caps, first = _primary_captions(d, split)
        if split == 0:  # as many training prompts as held-out ones, drawn once with a fixed seed
            pick = sorted(rng.choice(len(caps), size=results["held_out"]["real"]["prompts"], replace=False))
            caps, first = [caps[i] for i in pick], [first[i] for i in pick]
        hidden, embeds = encode_prompts(clip, tok, caps)
        ids = torch.tensor([time_ids(TARGET_SIZE)] * len(caps))
        block = {"real": retrieval(clip, tok, real[first], caps)}
        for g in guidance_scales:
            x = sample(unet, vae, scale, hidden, embeds, empty, g, ids)
            block[f"guidance_{g:g}"] = retrieval(clip, tok, x, caps)
            if out_dir is not None:
                save_grid_rgb(x[:64], out_dir / f"samples_{name}_guidance_{g:g}.png", nrow=8)
            print(f"{name} guidance {g:g}: {block[f'guidance_{g:g}']}", flush=True)
        results[name] = block
    # Micro-conditioning: the same prompts and seed with original_size 8 vs 32.
    caps, _ = _primary_captions(d, 0)
    caps = [caps[i] for i in sorted(rng.choice(len(caps), size=64, replace=False))]
    hidden, embeds = encode_prompts(clip, tok, caps)
    energy = {}
    for orig in (8, 16, 32):
        x = sample(unet, vae, scale, hidden, embeds, empty, 5.0, torch.tensor([time_ids(orig)] * len(caps)))
        energy[f"original_size_{orig}"] = float(high_frequency_energy(x).mean())
        if out_dir is not None:
            save_grid_rgb(x, out_dir / f"samples_original_size_{orig}.png", nrow=8)
    results["prompt_report"] = prompt_report(unet, vae, scale, clip, tok)
    results["micro_conditioning"] = {
        "high_frequency_energy": energy,
        "protocol": "mean squared Laplacian of decoded samples (64 training prompts, guidance 5, seed 0), conditioned on original_size (s, s), crop (0, 0), target (32, 32)",
        "ratio_32_over_8": energy["original_size_32"] / energy["original_size_8"],
    }
    return results
