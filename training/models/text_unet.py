"""Mini Stable Diffusion UNet: a latent UNet with self- and cross-attention (Rombach et al. 2022)
and SDXL's micro-conditioning on (original size, crop top-left, target size) (Podell et al. 2023).

Module names follow diffusers' UNet2DConditionModel so that the site can draw the block structure
from the config: CrossAttnDownBlock2D, UNetMidBlock2DCrossAttn, CrossAttnUpBlock2D, each built of
ResnetBlock2D + Transformer2DModel (GroupNorm, proj_in, BasicTransformerBlock, proj_out).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from .layers import Downsample, ResBlock, Upsample, group_norm, timestep_embedding


@dataclass(frozen=True)
class TextUNetConfig:
    """Sizes of the mini SD UNet; diffusers' config keys where one exists."""

    in_channels: int = 4  # VAE latent channels
    sample_size: int = 8  # 8x8 latents (32 px emoji, f = 4)
    block_out_channels: tuple[int, ...] = (64, 96)  # 8x8 then 4x4
    layers_per_block: int = 1  # resnets per down block; up blocks have one more (diffusers)
    attention_head_dim: int = 16  # 4 heads at 64 channels, 6 at 96
    cross_attention_dim: int = 64  # width of the tiny CLIP's last_hidden_state
    text_context_length: int = 16  # tokens per prompt (tiny CLIP's context)
    time_freq_dim: int = 64  # sinusoidal features of the timestep (SD: block_out_channels[0])
    time_embed_dim: int = 128  # SD: 4 x block_out_channels[0]
    ff_mult: int = 2  # GEGLU inner width = ff_mult x channels (SD: 4)
    # SDXL micro-conditioning: each of the 6 time_ids gets its own sinusoidal embedding
    # (addition_time_embed_dim, 256 in SDXL); they are concatenated with the pooled text embedding.
    addition_time_embed_dim: int = 16
    num_time_ids: int = 6  # (orig_h, orig_w, crop_top, crop_left, target_h, target_w)
    text_embeds_dim: int = 64  # tiny CLIP's pooled, projected text_embeds
    # Options for the pixel cascade (GLIDE, Imagen); the defaults keep the mini SD UNet unchanged.
    out_channels: int | None = None  # None = in_channels; an upsampler also reads its low-res image as input channels
    # Levels whose blocks carry a Transformer2DModel (CrossAttnDownBlock2D / CrossAttnUpBlock2D); the others are
    # plain DownBlock2D / UpBlock2D, which spares the quadratic attention cost at the largest grids. None = all.
    attention_levels: tuple[int, ...] | None = None
    # "timestep": class_labels (an upsampler's noise-augmentation level) get the timestep's sinusoids and their
    # own MLP, added to the time embedding (diffusers' class_embed_type, as in DeepFloyd IF's upscaler).
    class_embed_type: str | None = None

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


class Attention(nn.Module):
    """Multi-head attention; keys and values come from `context` (cross-attention) or from x."""

    def __init__(self, dim: int, context_dim: int | None, head_dim: int, tokens: int, context_tokens: int | None = None):
        super().__init__()
        self.heads = dim // head_dim
        self.head_dim = head_dim
        # Python-int token counts (batch as -1) keep Shape/Gather/Concat chains out of the ONNX graph.
        self.tokens, self.context_tokens = tokens, context_tokens or tokens
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim or dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim or dim, dim, bias=False)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, N, D], context [B, L, Dc] -> (out [B, N, D], probabilities averaged over heads [B, N, L])."""
        ctx = x if context is None else context
        h, dh = self.heads, self.head_dim
        n, l = self.tokens, self.context_tokens
        q = self.to_q(x).reshape(-1, n, h, dh).transpose(1, 2)  # [B, H, N, dh]
        k = self.to_k(ctx).reshape(-1, l, h, dh).transpose(1, 2)  # [B, H, L, dh]
        v = self.to_v(ctx).reshape(-1, l, h, dh).transpose(1, 2)  # [B, H, L, dh]
        probs = ((q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(dh))).softmax(dim=-1)  # [B, H, N, L]
        out = (probs @ v).transpose(1, 2).reshape(-1, n, h * dh)  # [B, N, D]
        return self.to_out(out), probs.mean(dim=1)


class GEGLU(nn.Module):
    """Gated GELU feed-forward (Shazeer 2020), as in SD's BasicTransformerBlock."""

    def __init__(self, dim: int, inner: int):
        super().__init__()
        self.proj = nn.Linear(dim, 2 * inner)
        self.out = nn.Linear(inner, dim)
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, gate = self.proj(x).split(self.inner, dim=-1)
        return self.out(a * F.gelu(gate, approximate="tanh"))


class BasicTransformerBlock(nn.Module):
    """LayerNorm -> self-attention, LayerNorm -> cross-attention to the text, LayerNorm -> GEGLU."""

    def __init__(self, dim: int, context_dim: int, head_dim: int, ff_mult: int, tokens: int, context_tokens: int):
        super().__init__()
        self.norm1, self.attn1 = nn.LayerNorm(dim), Attention(dim, None, head_dim, tokens)
        self.norm2, self.attn2 = nn.LayerNorm(dim), Attention(dim, context_dim, head_dim, tokens, context_tokens)
        self.norm3, self.ff = nn.LayerNorm(dim), GEGLU(dim, ff_mult * dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x + self.attn1(self.norm1(x))[0]
        a, probs = self.attn2(self.norm2(x), context)
        x = x + a
        return x + self.ff(self.norm3(x)), probs  # [B, N, D], [B, N, L]


class Transformer2DModel(nn.Module):
    """GroupNorm -> 1x1 proj_in -> tokens -> BasicTransformerBlock -> 1x1 proj_out, plus the residual."""

    def __init__(self, channels: int, size: int, cfg: TextUNetConfig):
        super().__init__()
        self.size, self.channels = size, channels
        self.norm = group_norm(channels)
        self.proj_in = nn.Conv2d(channels, channels, 1)
        self.block = BasicTransformerBlock(
            channels, cfg.cross_attention_dim, cfg.attention_head_dim, cfg.ff_mult, size * size, cfg.text_context_length
        )
        self.proj_out = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.proj_out.weight)  # zero-initialised: each attention layer starts as identity
        nn.init.zeros_(self.proj_out.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c, s = self.channels, self.size
        h = self.proj_in(self.norm(x)).reshape(-1, c, s * s).transpose(1, 2)  # [B, S*S, C]
        h, probs = self.block(h, context)
        h = h.transpose(1, 2).reshape(-1, c, s, s)  # [B, C, S, S]
        return x + self.proj_out(h), probs


class TextUNet(nn.Module):
    """UNet2DConditionModel in miniature: CrossAttnDownBlock2D x2, mid block with cross-attention,
    CrossAttnUpBlock2D x2, skip connections as diffusers (conv_in, every resnet, every downsample)."""

    def __init__(self, cfg: TextUNetConfig = TextUNetConfig()):
        super().__init__()
        self.cfg = cfg
        ch = cfg.block_out_channels
        e = cfg.time_embed_dim
        self.time_embedding = nn.Sequential(nn.Linear(cfg.time_freq_dim, e), nn.SiLU(), nn.Linear(e, e))
        add_in = cfg.text_embeds_dim + cfg.num_time_ids * cfg.addition_time_embed_dim
        self.add_embedding = nn.Sequential(nn.Linear(add_in, e), nn.SiLU(), nn.Linear(e, e))
        if cfg.class_embed_type == "timestep":
            self.class_embedding = nn.Sequential(nn.Linear(cfg.time_freq_dim, e), nn.SiLU(), nn.Linear(e, e))
        elif cfg.class_embed_type is not None:
            raise ValueError(f"unsupported class_embed_type {cfg.class_embed_type!r}")
        else:
            self.class_embedding = None
        self.conv_in = nn.Conv2d(cfg.in_channels, ch[0], 3, padding=1)

        sizes = [cfg.sample_size // 2**i for i in range(len(ch))]  # 8, 4
        self.down_resnets, self.down_attns, self.downsamplers = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        skip_channels = [ch[0]]
        c_prev = ch[0]
        for i, c in enumerate(ch):
            for _ in range(cfg.layers_per_block):
                self.down_resnets.append(ResBlock(c_prev, c, e))
                self.down_attns.append(self._attention(i, c, sizes[i]))
                skip_channels.append(c)
                c_prev = c
            last = i == len(ch) - 1
            self.downsamplers.append(nn.Identity() if last else Downsample(c))
            if not last:
                skip_channels.append(c)
        self.mid_resnet1 = ResBlock(c_prev, c_prev, e)
        self.mid_attn = Transformer2DModel(c_prev, sizes[-1], cfg)
        self.mid_resnet2 = ResBlock(c_prev, c_prev, e)

        self.up_resnets, self.up_attns, self.upsamplers = nn.ModuleList(), nn.ModuleList(), nn.ModuleList()
        for i, c in reversed(list(enumerate(ch))):
            for _ in range(cfg.layers_per_block + 1):
                self.up_resnets.append(ResBlock(c_prev + skip_channels.pop(), c, e))
                self.up_attns.append(self._attention(i, c, sizes[i]))
                c_prev = c
            self.upsamplers.append(Upsample(c) if i > 0 else nn.Identity())
        self.conv_norm_out = group_norm(c_prev)
        self.conv_out = nn.Conv2d(c_prev, cfg.out_channels or cfg.in_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def _attention(self, level: int, channels: int, size: int) -> nn.Module:
        """A Transformer2DModel at this level, or Identity where attention_levels leaves it out."""
        levels = self.cfg.attention_levels
        return Transformer2DModel(channels, size, self.cfg) if levels is None or level in levels else nn.Identity()

    @property
    def attention_layers(self) -> list[Transformer2DModel]:
        """The Transformer2DModels in forward order (down blocks, mid block, up blocks)."""
        return [a for a in (*self.down_attns, self.mid_attn, *self.up_attns) if isinstance(a, Transformer2DModel)]

    @property
    def num_cross_attention_layers(self) -> int:
        return len(self.attention_layers)

    def embed(self, timestep: torch.Tensor, text_embeds: torch.Tensor, time_ids: torch.Tensor | None,
              class_labels: torch.Tensor | None = None) -> torch.Tensor:
        """emb = time_embedding(t) + add_embedding([text_embeds, sinusoids(time_ids)]) (SDXL 'text_time'),
        + class_embedding(sinusoids(class_labels)) when class_embed_type is "timestep"."""
        cfg = self.cfg
        emb = self.time_embedding(timestep_embedding(timestep, cfg.time_freq_dim))  # [B, E]
        added = [text_embeds]  # [B, 64]
        if cfg.num_time_ids:
            ids = timestep_embedding(time_ids.reshape(-1), cfg.addition_time_embed_dim)  # [B*6, A]
            added.append(ids.reshape(-1, cfg.num_time_ids * cfg.addition_time_embed_dim))  # [B, 6A]
        emb = emb + self.add_embedding(torch.cat(added, dim=1))
        if self.class_embedding is not None:
            emb = emb + self.class_embedding(timestep_embedding(class_labels, cfg.time_freq_dim))  # [B, E]
        return emb

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        text_embeds: torch.Tensor,
        time_ids: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Predict epsilon, and return every cross-attention layer's head-averaged probabilities.

        sample [B, 4, 8, 8], timestep float [B], encoder_hidden_states [B, L, 64], text_embeds [B, 64],
        time_ids [B, 6] -> out_sample [B, 4, 8, 8], cross_attention_probs [B, layers, L, 8, 8]
        (4x4 layers repeated to 8x8 so all layers share one grid).
        """
        out, maps = self.predict(sample, timestep, encoder_hidden_states, text_embeds, time_ids)
        return out, self.stack_maps(maps)

    @staticmethod
    def _attend(attn: nn.Module, h: torch.Tensor, ctx: torch.Tensor, maps: list[torch.Tensor]) -> torch.Tensor:
        """Run one block's attention (if it has one), collecting its cross-attention probabilities."""
        if isinstance(attn, nn.Identity):
            return h
        h, p = attn(h, ctx)
        maps.append(p)
        return h

    def predict(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        text_embeds: torch.Tensor,
        time_ids: torch.Tensor | None = None,
        class_labels: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The UNet pass (diffusers' UNet2DConditionModel.forward): out_sample [B, C_out, S, S] and each
        attention layer's cross-attention probabilities [B, N_i, L], unstacked."""
        emb = self.embed(timestep, text_embeds, time_ids, class_labels)
        ctx = encoder_hidden_states
        maps: list[torch.Tensor] = []
        h = self.conv_in(sample)  # [B, C0, 8, 8]
        skips = [h]
        r = 0
        for down in self.downsamplers:
            for _ in range(self.cfg.layers_per_block):
                h = self.down_resnets[r](h, emb)
                h = self._attend(self.down_attns[r], h, ctx, maps)
                skips.append(h)
                r += 1
            if not isinstance(down, nn.Identity):
                h = down(h)
                skips.append(h)
        h = self.mid_resnet1(h, emb)
        h, p = self.mid_attn(h, ctx)
        maps.append(p)
        h = self.mid_resnet2(h, emb)
        r = 0
        for up in self.upsamplers:
            for _ in range(self.cfg.layers_per_block + 1):
                h = self.up_resnets[r](torch.cat([h, skips.pop()], dim=1), emb)
                h = self._attend(self.up_attns[r], h, ctx, maps)
                r += 1
            h = up(h)
        out = self.conv_out(F.silu(self.conv_norm_out(h)))  # [B, 4, 8, 8]
        return out, maps

    def stack_maps(self, maps: list[torch.Tensor]) -> torch.Tensor:
        """[B, N_i, L] per layer -> [B, layers, L, S, S] on the full latent grid (nearest repeat)."""
        s, l = self.cfg.sample_size, self.cfg.text_context_length
        grids = []
        for p, attn in zip(maps, self.attention_layers):
            n = attn.size
            g = p.transpose(1, 2).reshape(-1, l, n, n)  # [B, L, n, n]
            if n != s:
                g = F.interpolate(g, scale_factor=float(s // n), mode="nearest")
            grids.append(g)
        return torch.stack(grids, dim=1)
