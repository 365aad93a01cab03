"""Class-conditional pixel-space UNet for MNIST (DDPM, Ho et al. 2020; CFG, Ho & Salimans 2022)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .layers import Downsample, ResBlock, Upsample, group_norm, timestep_embedding


@dataclass(frozen=True)
class UNetConfig:
    """UNet shape; sized near 0.5M parameters so a CPU trains it in well under an hour."""

    in_channels: int = 1  # greyscale MNIST
    base_channels: int = 32  # 32 px level runs at 32 channels: most FLOPs live here
    channel_mult: tuple[int, ...] = (1, 2, 2)  # 32 -> 16 -> 8 px; 8x8 is small enough for 32 px digits
    time_freq_dim: int = 32  # sinusoidal features before the MLP
    emb_dim: int = 128  # shared time + class embedding width
    num_classes: int = 10  # digits 0-9; index num_classes (10) is the null class used by CFG
    patch_size: int = 1  # >1: space-to-depth on the way in, depth-to-space out (levels run at H/p)
    image_size: int = 32  # needed for the constant reshapes of space-to-depth
    # >0 (with patch_size > 1): the last features go depth-to-space to full resolution, join the noisy
    # sample there, and a ResBlock of this width (with the time/class embedding) predicts epsilon. Without
    # it each p x p block's pixels come from one position's features, which left a 2x2 grid in the samples.
    full_res_channels: int = 0


class UNet(nn.Module):
    """One ResBlock per level, skip concatenation, time MLP + class embedding added (DDPM / ADM style)."""

    def __init__(self, cfg: UNetConfig = UNetConfig()):
        """Build the levels from cfg.channel_mult; the decoder mirrors the encoder with skip concatenation."""
        super().__init__()
        self.cfg = cfg
        chans = [cfg.base_channels * m for m in cfg.channel_mult]
        self.time_mlp = nn.Sequential(nn.Linear(cfg.time_freq_dim, cfg.emb_dim), nn.SiLU(), nn.Linear(cfg.emb_dim, cfg.emb_dim))
        self.class_emb = nn.Embedding(cfg.num_classes + 1, cfg.emb_dim)  # +1: the null (unconditional) class
        p = cfg.patch_size
        self.conv_in = nn.Conv2d(cfg.in_channels * p * p, chans[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        self.downsamples = nn.ModuleList()
        c_prev = chans[0]
        for i, c in enumerate(chans):
            self.down_blocks.append(ResBlock(c_prev, c, cfg.emb_dim))
            self.downsamples.append(Downsample(c) if i < len(chans) - 1 else nn.Identity())
            c_prev = c
        self.mid = ResBlock(c_prev, c_prev, cfg.emb_dim)
        self.up_blocks = nn.ModuleList()
        self.upsamples = nn.ModuleList()
        for i, c in reversed(list(enumerate(chans))):
            self.up_blocks.append(ResBlock(c_prev + c, c, cfg.emb_dim))
            self.upsamples.append(Upsample(c) if i > 0 else nn.Identity())
            c_prev = c
        self.norm_out = group_norm(c_prev)
        self.top_channels = c_prev  # a Python int, so the export has no shape arithmetic
        if cfg.full_res_channels and p > 1:
            assert c_prev % (p * p) == 0, "depth-to-space needs the top level's width divisible by p * p"
            f = cfg.full_res_channels
            self.full_res_in = nn.Conv2d(c_prev // (p * p) + cfg.in_channels, f, 3, padding=1)
            self.full_res_block = ResBlock(f, f, cfg.emb_dim)  # knows t: near t = 0 it must remove 1/255-level noise
            self.full_res_norm = group_norm(f)
            self.conv_out = nn.Conv2d(f, cfg.in_channels, 3, padding=1)
        else:
            self.full_res_in = None
            self.conv_out = nn.Conv2d(c_prev, cfg.in_channels * p * p, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # start as "predict zero noise": stabler first steps
        nn.init.zeros_(self.conv_out.bias)

    def _full_res_in(self, h: torch.Tensor, sample: torch.Tensor) -> torch.Tensor:
        """full_res_in(cat[h, sample]), with the sample fed 4 times at a quarter of its weight: the same sum, but
        8 + 4 = 12 input channels. onnxruntime-web 1.30's WebGPU EP computes a 3x3 Conv with 9 input channels
        wrongly (max error 1.3 against WebAssembly on a random input; 1, 8 and 12 channels agree to 1e-6)."""
        c, copies = self.top_channels // self.cfg.patch_size**2, 4
        w = self.full_res_in.weight  # [F, c + 1, 3, 3]
        w = torch.cat([w[:, :c]] + [w[:, c:] / copies] * copies, dim=1)  # Slice, Div, Concat: one constant at export
        return F.conv2d(torch.cat([h] + [sample] * copies, dim=1), w, self.full_res_in.bias, padding=1)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, class_labels: torch.Tensor) -> torch.Tensor:
        """Predict epsilon for x_t (sample [B, 1, 32, 32], timestep float [B], class_labels int64 [B])."""
        emb = self.time_mlp(timestep_embedding(timestep, self.cfg.time_freq_dim))  # [B, E]
        emb = emb + self.class_emb(class_labels)  # [B, E]
        c, p, size = self.cfg.in_channels, self.cfg.patch_size, self.cfg.image_size
        h = self.conv_in(space_to_depth(sample, c, p, size))  # [B, C0, 32/p, 32/p]
        skips = []
        for block, down in zip(self.down_blocks, self.downsamples):
            h = block(h, emb)  # [B, Ci, Hi, Wi]
            skips.append(h)
            h = down(h)  # [B, Ci, Hi/2, Wi/2] except at the last level
        h = self.mid(h, emb)  # [B, C2, 8, 8]
        for block, up in zip(self.up_blocks, self.upsamples):
            h = block(torch.cat([h, skips.pop()], dim=1), emb)  # [B, Ci, Hi, Wi]
            h = up(h)  # [B, Ci, 2Hi, 2Wi] except at the top level
        h = F.silu(self.norm_out(h))  # [B, C0, 32/p, 32/p]
        if self.full_res_in is not None:
            h = depth_to_space(h, self.top_channels // (p * p), p, size)  # [B, C0/p^2, 32, 32]: lossless rearrangement
            h = self.full_res_block(self._full_res_in(h, sample), emb)  # [B, F, 32, 32]
            return self.conv_out(F.silu(self.full_res_norm(h)))  # [B, 1, 32, 32]: neighbours across block edges mix here
        return depth_to_space(self.conv_out(h), c, p, size)  # [B, 1, 32, 32]


def space_to_depth(x: torch.Tensor, c: int, p: int, size: int) -> torch.Tensor:
    """[B, C, S, S] -> [B, C*p*p, S/p, S/p]: each p x p pixel block becomes one position's channels.

    The same rearrangement as DiT's patchify, kept spatial; it lets every level of the UNet run at
    a quarter of the positions (p = 2), so a step costs about a quarter of the FLOPs. Python-int
    sizes keep the ONNX graph free of int64 shape arithmetic (Reshape + Transpose only).
    """
    if p == 1:
        return x
    n = size // p
    x = x.reshape(-1, c, n, p, n, p).permute(0, 1, 3, 5, 2, 4)  # [B, C, p, p, n, n]
    return x.reshape(-1, c * p * p, n, n)


def depth_to_space(x: torch.Tensor, c: int, p: int, size: int) -> torch.Tensor:
    """Inverse of space_to_depth: [B, C*p*p, S/p, S/p] -> [B, C, S, S] (C passed as a Python int)."""
    if p == 1:
        return x
    n = size // p
    x = x.reshape(-1, c, p, p, n, n).permute(0, 1, 4, 2, 5, 3)  # [B, C, n, p, n, p]
    return x.reshape(-1, c, size, size)
