"""Emoji KL autoencoder (LDM first stage, Rombach et al. 2022) with the scale_by_std latent factor.

Two runs: the autoencoder (runs/emoji_vae/autoencoder), then a decoder fine-tune with the encoder frozen
(runs/emoji_vae, the weights every later recipe loads). The fine-tune adds three more emoji styles
(data.EXTRA_STYLES) so that the decoder draws pictures unlike Noto and Twemoji better; freezing the
encoder keeps every latent, and the scaling factor, exactly as the latent models trained on them.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import torch

from ..data import load_emoji, load_emoji_styles, load_emoji_unseen
from ..export import ExportSpec, IOSpec
from ..metrics import psnr, ssim
from ..models.vae import AutoencoderKL, VAEConfig, sample_posterior
from ..paths import RUNS
from ..trainer import TrainConfig, Trainer, overridden

NAME = "emoji_vae"
VAE = VAEConfig()
KL_WEIGHT = 1e-6  # "tiny KL" (LDM uses 1e-6): keeps the latent near N(0, I) without blurring
TRAIN = TrainConfig(
    steps=12000,  # cap; the 35-minute budget binds first on this CPU (~0.25 s/step at 1 thread)
    max_minutes=35.0,  # ~4 steps/s here: ~8k steps, where an earlier 0.5M VAE reached 28 dB (26 dB at 3k)
    batch_size=32,  # as the earlier measurement
    lr=1e-3,  # fast convergence for a short run; cosine-decayed to 1e-4
    warmup_steps=200,
)
AUTOENCODER_RUN = "autoencoder"  # runs/emoji_vae/<this>: the first run, encoder and decoder together
FINE_TUNE = TrainConfig(
    steps=8000,  # binds first on this CPU: 8,000 steps took 24.7 min at 1 thread (~5.4 steps/s)
    max_minutes=25.0,
    batch_size=32,  # half training emoji, half EXTRA_STYLES images
    lr=3e-4,  # a third of the first run's: it starts from trained weights
    warmup_steps=100,
)


def emoji_tensors(split: str) -> torch.Tensor:
    """Emoji images [N, 3, 32, 32] in [-1, 1] for split 'train' or 'validation'."""
    d = load_emoji()
    mask = d["split"] == (1 if split == "validation" else 0)
    return pixel_values(d["images"][mask])


def pixel_values(images) -> torch.Tensor:
    """uint8 images [N, 32, 32, 3] -> pixel_values [N, 3, 32, 32] in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def make_model() -> AutoencoderKL:
    """The ~0.52M-parameter KL autoencoder (encoder + decoder)."""
    return AutoencoderKL(VAE)


def export_specs(model, scale: float = 1.0) -> tuple[ExportSpec, ExportSpec]:
    """VAE graphs: sample -> latent_mean, latent_logvar; latent_sample -> sample."""
    lc = model.encoder.cfg.latent_channels
    enc = ExportSpec(
        model.encoder,
        [IOSpec("sample", ["batch", 3, 32, 32], "float32")],
        [IOSpec("latent_mean", ["batch", lc, 8, 8], "float32"), IOSpec("latent_logvar", ["batch", lc, 8, 8], "float32")],
        lambda b, g: (torch.rand(b, 3, 32, 32, generator=g) * 2 - 1,),
    )
    dec = ExportSpec(
        model.decoder,
        [IOSpec("latent_sample", ["batch", lc, 8, 8], "float32")],
        [IOSpec("sample", ["batch", 3, 32, 32], "float32")],
        lambda b, g: (torch.randn(b, lc, 8, 8, generator=g) / scale,),
    )
    return enc, dec


def kl_loss(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) summed over latent elements, averaged over the batch (CompVis)."""
    return 0.5 * torch.sum(mean**2 + logvar.exp() - 1.0 - logvar, dim=(1, 2, 3)).mean()


def _flipped(xb: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Each image mirrored left-right with probability 1/2 (the augmentation of both runs)."""
    flip = torch.rand(len(xb), generator=g) < 0.5
    return torch.where(flip[:, None, None, None], xb.flip(-1), xb)


def _reconstruction_loss(rec: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
    return (rec - xb).abs().mean() + ((rec - xb) ** 2).mean()


def train(cfg: TrainConfig = TRAIN, subset: int | None = None, run_dir=None) -> Trainer:
    """The autoencoder (L1 + MSE + tiny KL, flips), then the decoder fine-tune on more styles (L1 + MSE).

    cfg budgets the first run; the fine-tune keeps FINE_TUNE's budget and takes cfg's threads and device.
    """
    root = run_dir or RUNS / NAME
    x = emoji_tensors("train")
    xs = pixel_values(load_emoji_styles()["images"])
    if subset:
        x, xs = x[:subset], xs[:subset]
    first = Trainer(NAME, make_model(), cfg, root / AUTOENCODER_RUN)

    def autoencoder_loss(model, step, g):
        xb = _flipped(x[torch.randint(0, len(x), (cfg.batch_size,), generator=g)], g).to(first.device)
        rec, mean, logvar = model(xb, g)
        return _reconstruction_loss(rec, xb) + KL_WEIGHT * kl_loss(mean, logvar)

    first.fit(autoencoder_loss)
    model = first.final_model()
    model.encoder.requires_grad_(False)  # frozen: the latents stay what the latent models trained on
    tune = dataclasses.replace(FINE_TUNE, threads=cfg.threads, device=cfg.device)
    if subset:
        tune = dataclasses.replace(tune, steps=min(tune.steps, cfg.steps), max_minutes=cfg.max_minutes)
    trainer = Trainer(NAME, model.train(), tune, root)  # resumes from root/ckpt.pt when the fine-tune has begun
    half = tune.batch_size // 2

    def decoder_loss(model, step, g):
        ia = torch.randint(0, len(x), (half,), generator=g)
        ib = torch.randint(0, len(xs), (tune.batch_size - half,), generator=g)
        xb = _flipped(torch.cat([x[ia], xs[ib]]), g).to(trainer.device)
        with torch.no_grad():
            mean, logvar = model.encoder(xb)
            z = sample_posterior(mean, logvar, g)
        return _reconstruction_loss(model.decoder(z), xb)

    trainer.summary = trainer.fit(decoder_loss)
    return trainer


@torch.no_grad()
def scaling_factor(model: AutoencoderKL, n: int = 1024, seed: int = 0) -> float:
    """1 / std of sampled latents over a training batch (CompVis `scale_by_std`, which gave 0.18215)."""
    model.eval()
    x = emoji_tensors("train")
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(x), generator=g)[:n]
    mean, logvar = model.encoder(x[idx])
    z = sample_posterior(mean, logvar, g)  # [n, 4, 8, 8]
    return float(1.0 / z.flatten().std())


def _reconstruction_scores(model: AutoencoderKL, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image PSNR and SSIM of decode(posterior mean) against x, both mapped to [0, 1]."""
    mean, _ = model.encoder(x)
    a, b = (x + 1) / 2, (model.decoder(mean).clamp(-1, 1) + 1) / 2
    return psnr(a, b), ssim(a, b)


@torch.no_grad()
def evaluate(model: AutoencoderKL) -> dict:
    """Validation PSNR/SSIM of decode(posterior mean), images mapped to [0, 1]; the same on unseen styles."""
    model.eval()
    x = emoji_tensors("validation")
    p, s = _reconstruction_scores(model, x)
    unseen = load_emoji_unseen()
    pu, su = _reconstruction_scores(model, pixel_values(unseen["images"]))
    styles = {}
    for i, style in enumerate(unseen["style_names"].tolist()):  # data.UNSEEN_STYLES: no model trains on them
        sel = torch.from_numpy(unseen["style"] == i)
        styles[style] = {"psnr_db": float(pu[sel].mean()), "ssim": float(su[sel].mean()), "images": int(sel.sum())}
    return {
        "validation_psnr_db": float(p.mean()),
        "validation_ssim": float(s.mean()),
        "validation_size": len(x),
        "reconstruction_from": "posterior mean",
        "unseen_styles": styles,
    }


with_overrides = partial(overridden, TRAIN)  # this recipe's TrainConfig with CLI overrides
