"""unCLIP's diffusion prior (Ramesh et al. 2022, DALL-E 2, sec. 2.2): text -> tiny CLIP image embedding.

The tiny CLIP is frozen: the image embedding of every training image and the text states of every
caption variant are computed once and cached under runs/unclip_prior/, so a step only runs the prior.
"""

from __future__ import annotations

import json
import math
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from ..data import load_emoji
from ..export import ExportSpec, IOSpec, cpu_session
from ..models.unclip import DiffusionPrior, PriorConfig, unit_rms
from ..paths import RUNS
from ..schedule import DDIMConfig, SchedulerConfig, add_noise, alphas_cumprod, ddim_sample
from ..trainer import TrainConfig, Trainer, overridden
from .mini_sd import SD_DDIM, _primary_captions, encode_prompts

NAME = "unclip_prior"
PRIOR = PriorConfig()
# DALL-E 2's prior schedule (appendix C): 1000 cosine steps. Cosine keeps signal longer than linear
# betas, which for 64-d data spend many steps at near-pure noise; alpha-bar reaches ~2e-9 at
# t = 999, so sampling from N(0, I) matches training. beta_start/end are unused by this schedule.
SCHEDULER = SchedulerConfig(beta_schedule="squaredcos_cap_v2", prediction_type="sample")
EMBED_SCALE = math.sqrt(PRIOR.embed_dim)  # image embeddings are L2-normalised times sqrt(64): unit variance per dimension
P_UNCOND = 0.1  # caption replaced by the empty prompt 10% of steps (DALL-E 2 drops the text 10% of the time)
GUIDANCE_SCALE = 4.0  # recommended classifier-free guidance on the predicted embedding
NUM_INFERENCE_STEPS = 25  # DDIM steps (leading spacing, steps_offset 1, as the mini SD sampler)
# ... but with set_alpha_to_one (diffusers' default): the last step returns the predicted embedding
# itself instead of re-adding sqrt(1 - alpha-bar_0) = 0.6% noise to it.
PRIOR_DDIM = {**SD_DDIM, "set_alpha_to_one": True}
TRAIN = TrainConfig(
    steps=20000,  # cap; the 10-minute budget binds first (~0.09 s/step at 1 thread)
    max_minutes=10.0,
    batch_size=64,
    lr=5e-4,  # small pre-LN transformer with warm-up; cosine-decayed to 5e-5
    warmup_steps=200,
    weight_decay=0.05,  # DALL-E 2's prior uses AdamW decay 6e-2; ~7k training images to not memorise
    ema_decay=0.999,  # DALL-E 2 samples the prior from EMA weights
)


def make_model() -> DiffusionPrior:
    """The ~0.86M-parameter diffusion prior."""
    return DiffusionPrior(PRIOR)


def export_spec(model) -> ExportSpec:
    """unCLIP prior graph (diffusers' PriorTransformer inputs): sample (noisy image embedding), timestep
    (float32 [B]), text_embeds, encoder_hidden_states -> predicted_image_embedding (x0)."""
    c = model.cfg
    e, l, dh = c.embed_dim, c.text_context_length, c.text_hidden_dim
    return ExportSpec(
        model,
        [IOSpec("sample", ["batch", e], "float32"), IOSpec("timestep", ["batch"], "float32"),
         IOSpec("text_embeds", ["batch", e], "float32"), IOSpec("encoder_hidden_states", ["batch", l, dh], "float32")],
        [IOSpec("predicted_image_embedding", ["batch", e], "float32")],
        lambda b, g: (torch.randn(b, e, generator=g), torch.rand(b, generator=g) * 999,
                      torch.randn(b, e, generator=g), torch.randn(b, l, dh, generator=g)),
        fp16_weights=True,  # 3.5 -> 1.7 MB; the export check compares against the fp16-rounded module
    )


def frozen_clip():
    """The shipped tiny CLIP and its tokenizer, loaded from their run."""
    from ..checkpoints import load_trained
    from . import tiny_clip

    tok = tiny_clip.load_tokenizer()
    return load_trained(tiny_clip, tok), tok


def emoji_pixels(d: dict, rows: np.ndarray) -> torch.Tensor:
    """Emoji images of the selected rows (boolean mask or indices) as pixel_values [N, 3, 32, 32] in [-1, 1]."""
    return torch.from_numpy(d["images"][rows]).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


@torch.no_grad()
def image_embeddings(clip, pixels: torch.Tensor, batch: int = 512) -> torch.Tensor:
    """Tiny CLIP image embeddings on the diffusion scale: unit_rms(image_embeds) [N, E], norm sqrt(E)."""
    return torch.cat([unit_rms(clip.image(pixels[i : i + batch])) for i in range(0, len(pixels), batch)])


def cache_is_current(path: Path, frozen: list[str]) -> bool:
    """A cache exists and is newer than the checkpoints of the frozen models it was computed with."""
    return path.exists() and all(path.stat().st_mtime > (RUNS / n / "ckpt.pt").stat().st_mtime for n in frozen)


@torch.no_grad()
def build_cache(path: Path | None = None, models=None, subset: int | None = None) -> dict:
    """Image embeddings of the training images and text states of every caption variant (plus ''),
    recomputed when the tiny CLIP has been retrained since."""
    path = path or RUNS / NAME / "cache.pt"
    if path.exists() if models else cache_is_current(path, ["tiny_clip"]):
        return torch.load(path, weights_only=False)
    clip, tok = models or frozen_clip()
    d = load_emoji()
    mask = d["split"] == 0
    x = emoji_pixels(d, mask)[:subset]  # [N, 3, 32, 32]
    caps = [json.loads(c) for c in d["captions"][mask]][: len(x)]
    prompts = ["", *sorted({c for cs in caps for c in cs})]
    index = {p: i for i, p in enumerate(prompts)}
    hidden, embeds = encode_prompts(clip, tok, prompts)
    cache = {
        "image_embeds": image_embeddings(clip, x),  # [N, E], unit rms
        "captions": [torch.tensor([index[c] for c in cs]) for cs in caps],  # N x [V_i] prompt indices
        "hidden": hidden, "embeds": embeds,  # [P, L, D], [P, E] raw tiny CLIP outputs; prompt 0 is ''
        "num_images": len(x),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(cache, path)
    return cache


def train(cfg: TrainConfig = TRAIN, subset: int | None = None, run_dir=None, cache: dict | None = None) -> Trainer:
    """x0-prediction MSE (DALL-E 2 eq. in sec. 2.2) with a random caption variant, 10% the empty prompt."""
    cache = cache or build_cache()
    n = cache["num_images"] if not subset else min(subset, cache["num_images"])
    ac = alphas_cumprod(SCHEDULER)
    trainer = Trainer(NAME, make_model(), cfg, run_dir)

    def loss_fn(model, step, g):
        b = cfg.batch_size
        img = torch.randint(0, n, (b,), generator=g)
        x0 = cache["image_embeds"][img]  # [B, E]
        caps = torch.stack([c[torch.randint(0, len(c), (1,), generator=g)][0] for c in (cache["captions"][i] for i in img.tolist())])
        caps[torch.rand(b, generator=g) < P_UNCOND] = 0  # the empty prompt
        t = torch.randint(0, SCHEDULER.num_train_timesteps, (b,), generator=g)
        xt = add_noise(x0, torch.randn(x0.shape, generator=g), t, ac)  # [B, E]
        dev = trainer.device
        pred = model(xt.to(dev), t.float().to(dev), cache["embeds"][caps].to(dev), cache["hidden"][caps].to(dev))
        return F.mse_loss(pred, x0.to(dev))

    trainer.summary = trainer.fit(loss_fn)
    return trainer


with_overrides = partial(overridden, TRAIN)  # this recipe's TrainConfig with CLI overrides


def onnx_prior(path, threads: int = 1):
    """The exported prior as a function (sample, t, text_embeds, hidden) -> predicted x0, via onnxruntime."""
    sess = cpu_session(path, threads)

    def fn(x, t, embeds, hidden):
        feeds = {"sample": x.numpy(), "timestep": t.numpy(), "text_embeds": embeds.numpy(), "encoder_hidden_states": hidden.numpy()}
        return torch.from_numpy(sess.run(["predicted_image_embedding"], feeds)[0])

    return fn


@torch.no_grad()
def sample(prior, hidden, embeds, empty, guidance: float, seed: int = 0, steps: int = NUM_INFERENCE_STEPS) -> torch.Tensor:
    """DDIM + classifier-free guidance on the predicted embedding (as diffusers' unCLIP pipeline)
    -> image embeddings [B, E] on the unit-rms scale."""
    b = len(hidden)
    eh, ee = empty[0].expand(b, -1, -1), empty[1].expand(b, -1)
    ac = alphas_cumprod(SCHEDULER)

    def fn(x, t):
        if guidance <= 1.0:
            x0 = prior(x, t, embeds, hidden)
        else:
            u, c = prior(torch.cat([x, x]), torch.cat([t, t]), torch.cat([ee, embeds]), torch.cat([eh, hidden])).chunk(2)
            x0 = u + guidance * (c - u)  # [B, E]
        a = ac[t.long()][:, None]  # [B, 1]
        return (x - a.sqrt() * x0) / (1 - a).sqrt()  # epsilon implied by x0 (diffusers' prediction_type="sample")

    cfg = DDIMConfig(**{**PRIOR_DDIM, "num_inference_steps": steps})
    return ddim_sample(fn, (b, PRIOR.embed_dim), SCHEDULER, cfg, torch.Generator().manual_seed(seed))


def _caption_groups(d: dict, split: int, caps: list[str]) -> list[np.ndarray]:
    """For each primary caption, the indices of every image of the split that carries it (both vendors)."""
    rows = np.flatnonzero(d["split"] == split)
    primary = np.array([json.loads(d["captions"][i])[0] for i in rows])
    return [rows[primary == c] for c in caps]


def _group_similarity(v: torch.Tensor, group_embeds: list[torch.Tensor]) -> torch.Tensor:
    """Mean cosine of v[i] [N, E] to each embedding of its caption's images -> [N]."""
    v = F.normalize(v, dim=-1)
    return torch.stack([(F.normalize(g, dim=-1) @ v[i]).mean() for i, g in enumerate(group_embeds)])


def _nearest_in_group(v: torch.Tensor, pool: torch.Tensor, pool_rows: np.ndarray, groups: list[np.ndarray]) -> float:
    """Fraction of captions whose embedding's nearest image in `pool` is one of the caption's images."""
    best = pool_rows[(F.normalize(v, dim=-1) @ F.normalize(pool, dim=-1).t()).argmax(1).numpy()]
    return float(np.mean([b in g for b, g in zip(best, groups)]))


@torch.no_grad()
def embedding_metrics(prior, clip, tok, d: dict, split: int, caps: list[str], guidance_scales, step_counts, seeds: int) -> dict:
    """Prior embeddings vs the true image embeddings of each caption, against the no-prior and random baselines."""
    groups = _caption_groups(d, split, caps)
    pool_rows = np.concatenate(groups)
    pool = image_embeddings(clip, emoji_pixels(d, pool_rows))  # [M, E]
    at = {r: i for i, r in enumerate(pool_rows)}
    group_embeds = [pool[[at[r] for r in g]] for g in groups]
    hidden, embeds = encode_prompts(clip, tok, caps)
    empty = encode_prompts(clip, tok, [""])
    first = torch.stack([g[0] for g in group_embeds])  # [N, E]
    cross = torch.stack([_group_similarity(first[j].expand(len(caps), -1), group_embeds) for j in range(len(caps))])  # [N, N]
    off = ~torch.eye(len(caps), dtype=torch.bool)
    within = [F.normalize(g, dim=-1) for g in group_embeds if len(g) > 1]
    out = {
        "captions": len(caps), "images": len(pool_rows),
        "random_pair_similarity": float(cross[off].mean()),
        "same_caption_image_similarity": float(np.mean([(g[0] @ g[1:].t()).mean().item() for g in within])),
        "text_embeds": {"similarity": float(_group_similarity(embeds, group_embeds).mean()),
                        "nearest_image_top1": _nearest_in_group(embeds, pool, pool_rows, groups)},
    }
    for steps in step_counts:
        for g in guidance_scales:
            sims, top1 = [], []
            for seed in range(seeds):
                e = sample(prior, hidden, embeds, empty, g, seed, steps)
                sims.append(_group_similarity(e, group_embeds).mean().item())
                top1.append(_nearest_in_group(e, pool, pool_rows, groups))
            out[f"prior_steps_{steps}_guidance_{g:g}"] = {"similarity": float(np.mean(sims)), "nearest_image_top1": float(np.mean(top1))}
            print(f"split {split} steps {steps} guidance {g:g}: {out[f'prior_steps_{steps}_guidance_{g:g}']}", flush=True)
    return out


@torch.no_grad()
def evaluate(prior_path, decoder_path=None, threads: int = 1, out_dir=None, guidance_scales=(1.0, GUIDANCE_SCALE),
             step_counts=(25, 50), seeds: int = 4, models=None, vae=None, max_captions: int | None = None,
             decoder_steps: int | None = None) -> dict:
    """Embedding similarity of prior samples on held-out and training captions; with a decoder, CLIP
    retrieval of text -> prior -> decoder images (mini SD's protocol), with and without the prior.

    models = (clip, tokenizer) and vae = (vae, scaling_factor) default to the shipped ones; max_captions
    and decoder_steps (default the decoder's recommended steps) exist to keep tests fast.
    """
    clip, tok = models or frozen_clip()
    prior = onnx_prior(prior_path, threads)
    d = load_emoji()
    held_caps, held_first = _primary_captions(d, 1)
    held_caps, held_first = held_caps[:max_captions], held_first[:max_captions]
    train_caps, train_first = _primary_captions(d, 0)
    pick = sorted(np.random.default_rng(0).choice(len(train_caps), size=min(len(held_caps), len(train_caps)), replace=False))
    train_caps, train_first = [train_caps[i] for i in pick], [train_first[i] for i in pick]
    results: dict = {
        "protocol": (
            "for each distinct primary caption, prior samples (DDIM, leading spacing, steps_offset 1, seeds 0-3) are compared by "
            "tiny CLIP cosine similarity with the image embeddings of every image carrying that caption (both vendors), averaged; "
            "text_embeds = the caption's own CLIP text embedding used as the image embedding (no prior); random_pair = an image "
            "of another caption; same_caption_image = the caption's other vendor image (a ceiling: the prior cannot know the "
            "vendor); nearest_image_top1 = the nearest image of the split's caption images belongs to the caption"),
        "held_out": embedding_metrics(prior, clip, tok, d, 1, held_caps, guidance_scales, step_counts, seeds),
        "training": embedding_metrics(prior, clip, tok, d, 0, train_caps, guidance_scales, step_counts, seeds),
    }
    if decoder_path is not None and Path(decoder_path).exists():
        results["text_to_image"] = pipeline_retrieval(prior, decoder_path, clip, tok, vae, d, threads, out_dir, decoder_steps,
                                                      {"held_out": (held_caps, held_first), "training": (train_caps, train_first)})
    return results


@torch.no_grad()
def pipeline_retrieval(prior, decoder_path, clip, tok, vae, d, threads: int, out_dir, decoder_steps, splits: dict) -> dict:
    """Full unCLIP: caption -> prior -> decoder -> image, scored by mini SD's CLIP retrieval (DALL-E 2 fig. 5's
    ablation: the decoder fed the text embedding itself stands for 'no prior')."""
    from ..evaluate_ddpm import save_grid_rgb
    from ..recipes import mini_sd
    from . import unclip_decoder as dec

    vae, scale = vae or dec.frozen_vae()
    decoder_steps = decoder_steps or dec.NUM_INFERENCE_STEPS
    decoder = dec.onnx_decoder(decoder_path, threads)
    empty = encode_prompts(clip, tok, [""])
    out: dict = {"protocol": (
        f"one image per caption (seed 0): prior DDIM {NUM_INFERENCE_STEPS} steps, decoder DDIM {decoder_steps} steps "
        f"at guidance {dec.GUIDANCE_SCALE:g}; the tiny CLIP ranks the image's own caption among all captions of the set "
        "(mini_sd.retrieval); 'real' = the caption's first real image; 'no_prior' = text_embeds fed to the decoder directly")}
    for name, (caps, first) in splits.items():
        hidden, embeds = encode_prompts(clip, tok, caps)
        block = {"real": mini_sd.retrieval(clip, tok, emoji_pixels(d, np.asarray(first)), caps)}
        variants = {f"prior_guidance_{g:g}": sample(prior, hidden, embeds, empty, g) for g in (1.0, GUIDANCE_SCALE)}
        if name == "held_out":
            variants["no_prior"] = unit_rms(embeds)
        for key, e in variants.items():
            x = dec.sample(decoder, vae, scale, e, dec.GUIDANCE_SCALE, steps=decoder_steps)
            block[key] = mini_sd.retrieval(clip, tok, x, caps)
            if out_dir is not None:
                save_grid_rgb(x[:64], Path(out_dir) / f"text_to_image_{name}_{key}.png", nrow=8)
            print(f"text -> image {name} {key}: {block[key]}", flush=True)
        out[name] = block
    return out
