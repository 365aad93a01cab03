"""KL-regularised autoencoder, 32x32x3 <-> 8x8x4 (f = 4, as LDM-4; Rombach et al. 2022, sec. 3)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import Downsample, ResBlock, Upsample, group_norm


@dataclass(frozen=True)
class VAEConfig:
    """Shape of the emoji autoencoder; ~0.52M parameters in total for both halves."""

    in_channels: int = 3  # RGB in [-1, 1]
    latent_channels: int = 4  # as Stable Diffusion / LDM-4
    channels: tuple[int, ...] = (32, 48, 64)  # 32, 16, 8 px levels (two halvings: f = 4); sized for the 8 MB total
    logvar_clamp: tuple[float, float] = (-30.0, 20.0)  # CompVis DiagonalGaussianDistribution bounds


class Encoder(nn.Module):
    """Image -> diagonal Gaussian posterior q(z|x): (latent_mean, latent_logvar), each [B, 4, 8, 8]."""

    def __init__(self, cfg: VAEConfig = VAEConfig()):
        super().__init__()
        self.cfg = cfg
        ch = cfg.channels
        self.conv_in = nn.Conv2d(cfg.in_channels, ch[0], 3, padding=1)
        layers: list[nn.Module] = []
        c_prev = ch[0]
        for i, c in enumerate(ch):
            layers.append(ResBlock(c_prev, c))
            if i < len(ch) - 1:
                layers.append(Downsample(c))
            c_prev = c
        layers += [ResBlock(c_prev, c_prev), group_norm(c_prev), nn.SiLU()]
        self.body = nn.Sequential(*layers)
        self.conv_out = nn.Conv2d(c_prev, 2 * cfg.latent_channels, 3, padding=1)

    def forward(self, sample: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(self.conv_in(sample))  # [B, 64, 8, 8]
        moments = self.conv_out(h)  # [B, 8, 8, 8]
        c = self.cfg.latent_channels
        mean, logvar = moments[:, :c], moments[:, c:]  # [B, 4, 8, 8] each; constant slices, no int64 shape maths
        return mean, logvar.clamp(*self.cfg.logvar_clamp)


class Decoder(nn.Module):
    """Latent z [B, 4, 8, 8] (unscaled: divide by scaling_factor first) -> image [B, 3, 32, 32]."""

    def __init__(self, cfg: VAEConfig = VAEConfig()):
        super().__init__()
        ch = cfg.channels[::-1]  # (64, 64, 32)
        self.conv_in = nn.Conv2d(cfg.latent_channels, ch[0], 3, padding=1)
        layers: list[nn.Module] = [ResBlock(ch[0], ch[0])]
        c_prev = ch[0]
        for i, c in enumerate(ch):
            layers.append(ResBlock(c_prev, c))
            if i < len(ch) - 1:
                layers.append(Upsample(c))
            c_prev = c
        layers += [group_norm(c_prev), nn.SiLU()]
        self.body = nn.Sequential(*layers)
        self.conv_out = nn.Conv2d(c_prev, cfg.in_channels, 3, padding=1)

    def forward(self, latent_sample: torch.Tensor) -> torch.Tensor:
        h = self.body(self.conv_in(latent_sample))  # [B, 32, 32, 32]
        return self.conv_out(h)  # [B, 3, 32, 32]


def sample_posterior(mean: torch.Tensor, logvar: torch.Tensor, g: torch.Generator | None = None) -> torch.Tensor:
    """z ~ q(z | x) = N(mean, exp(logvar)) by reparameterisation (noise drawn on the CPU generator g)."""
    return mean + torch.exp(0.5 * logvar) * torch.randn(mean.shape, generator=g).to(mean.device)


class AutoencoderKL(nn.Module):
    """Encoder + decoder with the reparameterised posterior sample (Kingma & Welling 2014)."""

    def __init__(self, cfg: VAEConfig = VAEConfig()):
        super().__init__()
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)

    def forward(self, x: torch.Tensor, g: torch.Generator | None = None):
        mean, logvar = self.encoder(x)  # [B, 4, 8, 8] each
        z = sample_posterior(mean, logvar, g)
        return self.decoder(z), mean, logvar
