"""Tiny CLIP (Radford et al. 2021): causal text transformer + CNN image encoder in a shared space."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class CLIPConfig:
    """Sizes chosen to keep the whole CLIP near 0.5M parameters (the 8 MB budget for all models)."""

    vocab_size: int = 4000  # set from the tokenizer at build time
    context_length: int = 16  # matches the tokenizer
    width: int = 64  # text transformer width
    layers: int = 2
    heads: int = 4  # 16-dim heads
    mlp_ratio: int = 4  # as CLIP / GPT-2
    image_channels: tuple[int, int, int] = (32, 64, 96)  # 32, 16, 8 px stages
    embed_dim: int = 64  # joint embedding width (text_embeds / image_embeds)
    logit_scale_init: float = math.log(1 / 0.07)  # CLIP's initial temperature 0.07
    logit_scale_max: float = math.log(100.0)  # CLIP clamps the learned scale at 100


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention with a constant causal mask buffer (no Trilu/Range ops in ONNX)."""

    def __init__(self, cfg: CLIPConfig):
        super().__init__()
        self.heads, self.width, self.context_length = cfg.heads, cfg.width, cfg.context_length
        self.scale = 1.0 / math.sqrt(cfg.width // cfg.heads)  # 1 / sqrt(d_head), Vaswani et al. 2017
        self.qkv = nn.Linear(cfg.width, 3 * cfg.width)
        self.proj = nn.Linear(cfg.width, cfg.width)
        mask = torch.full((cfg.context_length, cfg.context_length), -1e4).triu(1)  # [L, L]; finite: no NaN rows
        self.register_buffer("causal_mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Python-int sizes (batch as -1) so the exported graph has no int64 shape arithmetic.
        l, d, h = self.context_length, self.width, self.heads
        dh = d // h
        qkv = self.qkv(x).reshape(-1, l, 3, h, dh).permute(2, 0, 3, 1, 4)  # [3, B, H, L, dh]
        q, k, v = qkv[0], qkv[1], qkv[2]  # [B, H, L, dh]
        att = (q @ k.transpose(-2, -1)) * self.scale + self.causal_mask  # [B, H, L, L]
        y = att.softmax(dim=-1) @ v  # [B, H, L, dh]
        return self.proj(y.transpose(1, 2).reshape(-1, l, d))  # [B, L, D]


class Block(nn.Module):
    """Pre-LN transformer block (GPT-2 / CLIP text tower) with tanh-GELU MLP."""

    def __init__(self, cfg: CLIPConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.width)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.width)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.width, cfg.mlp_ratio * cfg.width),
            nn.GELU(approximate="tanh"),  # Tanh/Mul/Pow only: no Erf or com.microsoft Gelu needed
            nn.Linear(cfg.mlp_ratio * cfg.width, cfg.width),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln1(x))  # [B, L, D]
        return x + self.mlp(self.ln2(x))  # [B, L, D]


class TextEncoder(nn.Module):
    """input_ids [B, L] -> (last_hidden_state [B, L, D], text_embeds [B, E]) as CLIPTextModelWithProjection."""

    def __init__(self, cfg: CLIPConfig, eos_id: int):
        super().__init__()
        self.eos_id = eos_id
        is_eos = torch.zeros(cfg.vocab_size)
        is_eos[eos_id] = 1.0
        self.register_buffer("is_eos", is_eos, persistent=False)  # [V]: a float lookup, not an int64 Equal
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.width)
        self.position_embedding = nn.Parameter(torch.randn(cfg.context_length, cfg.width) * 0.01)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.layers))
        self.ln_final = nn.LayerNorm(cfg.width)
        self.text_projection = nn.Linear(cfg.width, cfg.embed_dim, bias=False)

    def forward(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.token_embedding(input_ids) + self.position_embedding  # [B, L, D]
        for block in self.blocks:
            x = block(x)
        x = self.ln_final(x)  # [B, L, D]
        # Pool at the EOS position as CLIP does. A Gather from a float table + weighted sum keeps the
        # int64 ids out of arithmetic (Equal/ArgMax on int64 would leave the WebGPU EP).
        at_eos = F.embedding(input_ids, self.is_eos[:, None])  # [B, L, 1]
        pooled = (x * at_eos).sum(dim=1)  # [B, D]
        return x, self.text_projection(pooled)  # [B, L, D], [B, E] (not normalised, like HF CLIP)


class ImageEncoder(nn.Module):
    """pixel_values [B, 3, 32, 32] in [-1, 1] -> image_embeds [B, E] (small BatchNorm CNN + global pool)."""

    def __init__(self, cfg: CLIPConfig):
        super().__init__()
        c1, c2, c3 = cfg.image_channels

        def cbs(ci: int, co: int, stride: int = 1) -> list[nn.Module]:
            return [nn.Conv2d(ci, co, 3, stride=stride, padding=1), nn.BatchNorm2d(co), nn.SiLU()]

        self.body = nn.Sequential(
            *cbs(3, c1), *cbs(c1, c1),  # 32 px
            *cbs(c1, c2, 2), *cbs(c2, c2),  # 16 px
            *cbs(c2, c3, 2), *cbs(c3, c3),  # 8 px
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),  # [B, C3]
        )
        self.visual_projection = nn.Linear(c3, cfg.embed_dim, bias=False)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.visual_projection(self.body(pixel_values))  # [B, E]


class TinyCLIP(nn.Module):
    """Both towers plus the learned temperature (logit_scale), trained with symmetric InfoNCE."""

    def __init__(self, cfg: CLIPConfig, eos_id: int):
        super().__init__()
        self.cfg = cfg
        self.text = TextEncoder(cfg, eos_id)
        self.image = ImageEncoder(cfg)
        self.logit_scale = nn.Parameter(torch.tensor(cfg.logit_scale_init))

    def loss(self, pixel_values: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
        """Symmetric cross-entropy over cosine similarities (CLIP, Radford et al. 2021, fig. 3)."""
        img = F.normalize(self.image(pixel_values), dim=-1)  # [B, E]
        txt = F.normalize(self.text(input_ids)[1], dim=-1)  # [B, E]
        scale = self.logit_scale.clamp(max=self.cfg.logit_scale_max).exp()
        logits = scale * img @ txt.t()  # [B, B]
        target = torch.arange(len(img), device=img.device)
        return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.t(), target))
