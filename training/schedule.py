"""Noise schedules and a DDIM sampler that follow diffusers' DDPMScheduler / DDIMScheduler names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class SchedulerConfig:
    """Training noise schedule, stored verbatim in the manifest under diffusers' field names."""

    num_train_timesteps: int = 1000  # DDPM (Ho et al. 2020)
    beta_schedule: str = "linear"  # DDPM's linear betas
    beta_start: float = 1e-4  # DDPM
    beta_end: float = 0.02  # DDPM
    prediction_type: str = "epsilon"  # the UNet predicts the added noise; or "v_prediction" (Salimans & Ho 2022)

    def to_dict(self) -> dict:
        return asdict(self)


def cosine_betas(num_train_timesteps: int, max_beta: float = 0.999) -> torch.Tensor:
    """Improved DDPM's cosine schedule (Nichol & Dhariwal 2021, eq. 17; diffusers' "squaredcos_cap_v2"):
    alpha-bar(t) = cos^2((t + 0.008) / 1.008 * pi / 2), betas from its ratios, capped at 0.999."""
    s = torch.arange(num_train_timesteps + 1, dtype=torch.float64) / num_train_timesteps  # [T + 1]
    ab = torch.cos((s + 0.008) / 1.008 * torch.pi / 2) ** 2
    return (1 - ab[1:] / ab[:-1]).clamp(max=max_beta)  # [T]


def alphas_cumprod(cfg: SchedulerConfig) -> torch.Tensor:
    """alpha-bar_t = prod_s (1 - beta_s) (Ho et al. 2020, eq. 4) for diffusers' "linear" betas or
    Stable Diffusion's "scaled_linear" ones (linear in sqrt(beta), then squared), or the cosine
    "squaredcos_cap_v2" ones (improved DDPM)."""
    t, lo, hi = cfg.num_train_timesteps, cfg.beta_start, cfg.beta_end
    if cfg.beta_schedule == "linear":
        betas = torch.linspace(lo, hi, t, dtype=torch.float64)
    elif cfg.beta_schedule == "scaled_linear":
        betas = torch.linspace(lo**0.5, hi**0.5, t, dtype=torch.float64) ** 2
    elif cfg.beta_schedule == "squaredcos_cap_v2":
        betas = cosine_betas(t)
    else:
        raise ValueError(f"unsupported beta_schedule {cfg.beta_schedule!r}")
    return torch.cumprod(1.0 - betas, dim=0).float()  # [T]


def add_noise(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, ac: torch.Tensor) -> torch.Tensor:
    """q(x_t | x_0) = sqrt(ab_t) x_0 + sqrt(1 - ab_t) eps (DDPM eq. 4; diffusers `add_noise`)."""
    a = ac[t].view(-1, *([1] * (x0.dim() - 1)))  # [B, 1, 1, 1]
    return a.sqrt() * x0 + (1 - a).sqrt() * noise


@dataclass(frozen=True)
class DDIMConfig:
    """Sampling settings; defaults are the ones the manifest recommends for the MNIST UNet."""

    num_inference_steps: int = 50  # DDIM (Song et al. 2021) quality plateau for small models
    eta: float = 0.0  # deterministic DDIM
    clip_sample: bool = True  # clamp predicted x0 to the data range [-1, 1]
    clip_sample_range: float = 1.0
    use_clipped_model_output: bool = True  # re-derive eps from the clipped x0: 39% -> 97% class accuracy here
    timestep_spacing: str = "leading"  # diffusers DDIMScheduler default
    steps_offset: int = 0
    set_alpha_to_one: bool = True  # diffusers default: final alpha-bar_prev = 1
    thresholding: bool = False  # Imagen's dynamic thresholding of x0 (pixel models only); overrides clip_sample
    dynamic_thresholding_ratio: float = 0.995  # percentile of |x0| per sample (Imagen, diffusers default)
    sample_max_value: float = 1.0  # upper bound of the threshold s (diffusers default; 1.0 = static clipping)


def ddim_timesteps(cfg: DDIMConfig, num_train_timesteps: int) -> list[int]:
    """diffusers DDIMScheduler.set_timesteps: 'leading' [980, 960, ..., 0] for 50 of 1000, or 'trailing'
    [999, 979, ..., 19] (Lin et al. 2024: the first step then starts from pure noise, as few-step sampling needs)."""
    if cfg.timestep_spacing == "trailing":
        step = num_train_timesteps / cfg.num_inference_steps
        return [int(v) - 1 for v in np.round(np.arange(num_train_timesteps, 0, -step))]
    if cfg.timestep_spacing != "leading":
        raise ValueError(f"timestep_spacing {cfg.timestep_spacing!r} is not supported here")
    ratio = num_train_timesteps // cfg.num_inference_steps
    return [int(i * ratio + cfg.steps_offset) for i in range(cfg.num_inference_steps)][::-1]


def dynamic_threshold(x0: torch.Tensor, ratio: float = 0.995, max_value: float = 1.0) -> torch.Tensor:
    """Imagen's dynamic thresholding (Saharia et al. 2022, sec. 2.3) as diffusers' `_threshold_sample`:
    s = clamp(quantile(|x0|, ratio), 1, max_value) per sample, then x0 -> clamp(x0, -s, s) / s."""
    b = x0.shape[0]
    s = torch.quantile(x0.abs().reshape(b, -1).float(), ratio, dim=1).clamp(1.0, max_value)  # [B]
    s = s.view(b, *([1] * (x0.dim() - 1)))  # [B, 1, 1, 1]
    return torch.maximum(torch.minimum(x0, s), -s) / s


@torch.no_grad()
def ddim_sample(
    model_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    shape: tuple[int, ...],
    sched: SchedulerConfig,
    cfg: DDIMConfig = DDIMConfig(),
    generator: torch.Generator | None = None,
    project_x0: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """DDIM sampling (Song et al. 2021, eq. 12) exactly as diffusers' DDIMScheduler.step with eta = 0.

    `model_fn(x_t, t)` returns epsilon, or v when sched.prediction_type is "v_prediction" (already combined
    for classifier-free guidance). `project_x0`, if given, maps each clipped x0 prediction onto the images
    consistent with a measurement (DDNM); eps is then re-derived from it.
    """
    ac = alphas_cumprod(sched)  # [T]
    final_ac = torch.tensor(1.0) if cfg.set_alpha_to_one else ac[0]
    ratio = sched.num_train_timesteps // cfg.num_inference_steps
    x = torch.randn(shape, generator=generator)  # [B, C, H, W]
    for t in ddim_timesteps(cfg, sched.num_train_timesteps):
        out = model_fn(x, torch.full((shape[0],), float(t)))  # [B, C, H, W]
        prev_t = t - ratio
        a_t = ac[t]
        a_prev = ac[prev_t] if prev_t >= 0 else final_ac
        if sched.prediction_type == "v_prediction":  # v = sqrt(ab) eps - sqrt(1 - ab) x0 (Salimans & Ho 2022)
            x0 = a_t.sqrt() * x - (1 - a_t).sqrt() * out
            eps = a_t.sqrt() * out + (1 - a_t).sqrt() * x
        else:
            eps = out
            x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()  # predicted x_0 (DDIM eq. 12, first term)
        if cfg.thresholding or cfg.clip_sample:
            if cfg.thresholding:
                x0 = dynamic_threshold(x0, cfg.dynamic_thresholding_ratio, cfg.sample_max_value)
            else:
                x0 = x0.clamp(-cfg.clip_sample_range, cfg.clip_sample_range)
            if cfg.use_clipped_model_output:
                eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()  # keep eps consistent with the clipped x0
        if project_x0 is not None:
            x0 = project_x0(x0)
            eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()  # the step must point at the projected x0
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps  # "direction pointing to x_t", sigma = 0
    return x


def cfg_model_fn(unet: torch.nn.Module, labels: torch.Tensor, guidance_scale: float, null_class: int):
    """Classifier-free guidance (Ho & Salimans 2022): eps_u + w (eps_c - eps_u), as diffusers pipelines.

    w = 0 is the unconditional model, w = 1 the conditional one; both halves run in one batch otherwise.
    """
    null = torch.full_like(labels, null_class)

    def fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if guidance_scale == 0.0:
            return unet(x, t, null)
        if guidance_scale == 1.0:
            return unet(x, t, labels)
        eps = unet(torch.cat([x, x]), torch.cat([t, t]), torch.cat([null, labels]))  # [2B, C, H, W]
        eps_u, eps_c = eps.chunk(2)
        return eps_u + guidance_scale * (eps_c - eps_u)

    return fn


def velocity(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, ac: torch.Tensor) -> torch.Tensor:
    """The v-prediction target sqrt(ab_t) eps - sqrt(1 - ab_t) x_0 (Salimans & Ho 2022; diffusers `get_velocity`)."""
    a = ac[t].view(-1, *([1] * (x0.dim() - 1)))  # [B, 1, 1, 1]
    return a.sqrt() * noise - (1 - a).sqrt() * x0
