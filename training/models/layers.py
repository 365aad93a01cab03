"""Building blocks shared by the UNet and the VAE (GroupNorm + SiLU ResNet blocks, sinusoidal time)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Transformer sinusoidal embedding of a float timestep (DDPM, Ho et al. 2020, sec. B; cos-then-sin as DiT).

    `t` stays float32 so the ONNX graph has no int64 arithmetic that WebGPU would push to the CPU.
    """
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)  # [D/2]
    args = t[:, None] * freqs[None, :]  # [B, D/2]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # [B, D]


def group_norm(channels: int, groups: int = 8) -> nn.GroupNorm:
    """GroupNorm (Wu & He 2018); opset-17 export lowers it to InstanceNormalization, which WebGPU runs."""
    return nn.GroupNorm(min(groups, channels), channels, eps=1e-5)


class ResBlock(nn.Module):
    """Pre-activation ResNet block with an optional additive embedding (DDPM / LDM UNet block)."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int | None = None):
        super().__init__()
        self.norm1 = group_norm(c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out) if emb_dim else None
        self.norm2 = group_norm(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        """x [B, C_in, H, W], emb [B, E] -> [B, C_out, H, W]."""
        h = self.conv1(F.silu(self.norm1(x)))  # [B, C_out, H, W]
        if self.emb is not None and emb is not None:
            h = h + self.emb(F.silu(emb))[:, :, None, None]  # broadcast the time/class signal over H, W
        h = self.conv2(F.silu(self.norm2(h)))  # [B, C_out, H, W]
        return self.skip(x) + h


class Downsample(nn.Module):
    """Stride-2 3x3 convolution (as in the DDPM UNet) halving H and W."""

    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)  # [B, C, H/2, W/2]


class Upsample(nn.Module):
    """3x3 convolution then nearest x2 (DDPM UNet up-path, conv moved before the resize).

    Convolving at the low resolution costs a quarter of the FLOPs of the DDPM order (measured
    2.6x faster training steps on this CPU), and nearest resizing avoids ConvTranspose checkerboards.
    """

    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(self.conv(x), scale_factor=2.0, mode="nearest")  # [B, C, 2H, 2W]
