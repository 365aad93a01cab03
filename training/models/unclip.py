"""unCLIP's two generative stages (Ramesh et al. 2022, "Hierarchical Text-Conditional Image
Generation with CLIP Latents", DALL-E 2) in miniature, on the tiny CLIP's 64-d embedding space.

- DiffusionPrior: text -> CLIP image embedding, a transformer over [text tokens, text embedding,
  timestep, noisy image embedding, query] whose query token predicts the clean embedding (sec. 2.2).
- UnCLIPDecoder: CLIP image embedding -> VAE latent, the mini SD TextUNet with the embedding fed
  through SDXL's add_embedding (DALL-E 2 adds it to the timestep embedding) and projected into
  extra context tokens for cross-attention (sec. 2.1; diffusers' UnCLIPTextProjModel).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from .layers import timestep_embedding
from .text_unet import Attention, TextUNet, TextUNetConfig


def unit_rms(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """x [B, E] -> x / rms(x): norm sqrt(E), i.e. unit variance per dimension; zeros stay zeros.

    DALL-E 2 works with L2-normalised CLIP embeddings; the extra sqrt(E) gives the diffusion data
    the unit scale its noise schedule assumes (sec. 2.2 and appendix C).
    """
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps)


@dataclass(frozen=True)
class PriorConfig:
    """Sizes of the diffusion prior (DALL-E 2's is a 1B-parameter decoder-only transformer)."""

    embed_dim: int = 64  # tiny CLIP's joint embedding width (text_embeds, image_embeds)
    text_hidden_dim: int = 64  # width of the tiny CLIP's last_hidden_state
    text_context_length: int = 16  # tokens per prompt (tiny CLIP's context)
    width: int = 128  # two embedding widths: room to mix 20 tokens, ~0.86M parameters
    layers: int = 4  # ~0.09 s per batch-64 step at 1 thread: ~6k steps in the 10-minute budget
    attention_head_dim: int = 32  # 4 heads
    mlp_ratio: int = 4  # as GPT-2 / CLIP
    time_freq_dim: int = 128  # sinusoidal features of the timestep

    @property
    def num_tokens(self) -> int:
        """Text tokens + text embedding + timestep + noisy image embedding + query."""
        return self.text_context_length + 4

    def to_dict(self) -> dict:
        return asdict(self)


class PriorBlock(nn.Module):
    """Pre-LN transformer block: LayerNorm -> self-attention, LayerNorm -> GELU MLP (GPT-2)."""

    def __init__(self, cfg: PriorConfig):
        super().__init__()
        d = cfg.width
        self.norm1, self.attn = nn.LayerNorm(d), Attention(d, None, cfg.attention_head_dim, cfg.num_tokens)
        self.norm2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, cfg.mlp_ratio * d), nn.GELU(approximate="tanh"), nn.Linear(cfg.mlp_ratio * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))[0]  # [B, N, D]
        return x + self.mlp(self.norm2(x))  # [B, N, D]


class DiffusionPrior(nn.Module):
    """DALL-E 2's diffusion prior (sec. 2.2): predicts the clean CLIP image embedding (x0) from a noisy
    one, the timestep, the text embedding and the text tokens.

    DALL-E 2 masks attention causally and reads a final learned token; with a single output token,
    full attention (used here) lets every token see the same context and drops the mask op.
    """

    def __init__(self, cfg: PriorConfig = PriorConfig()):
        super().__init__()
        self.cfg = cfg
        d = cfg.width
        self.encoder_hidden_states_proj = nn.Linear(cfg.text_hidden_dim, d)
        self.embedding_proj = nn.Linear(cfg.embed_dim, d)  # text_embeds -> one token
        self.proj_in = nn.Linear(cfg.embed_dim, d)  # noisy image embedding -> one token
        self.time_embedding = nn.Sequential(nn.Linear(cfg.time_freq_dim, d), nn.SiLU(), nn.Linear(d, d))
        self.prd_embedding = nn.Parameter(torch.zeros(1, 1, d))  # the query token ("prd" as diffusers' PriorTransformer)
        self.positional_embedding = nn.Parameter(torch.randn(1, cfg.num_tokens, d) * 0.02)
        self.blocks = nn.ModuleList(PriorBlock(cfg) for _ in range(cfg.layers))
        self.norm_out = nn.LayerNorm(d)
        self.proj_to_clip_embeddings = nn.Linear(d, cfg.embed_dim)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, text_embeds: torch.Tensor,
                encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        """sample [B, E] (noisy, unit-rms scale), timestep float [B], text_embeds [B, E] (raw tiny CLIP
        output; normalised here), encoder_hidden_states [B, L, Dt] -> predicted_image_embedding [B, E]."""
        c = self.cfg
        tokens = torch.cat([
            self.encoder_hidden_states_proj(encoder_hidden_states),  # [B, L, D]
            self.embedding_proj(unit_rms(text_embeds))[:, None],  # [B, 1, D]
            self.time_embedding(timestep_embedding(timestep, c.time_freq_dim))[:, None],  # [B, 1, D]
            self.proj_in(sample)[:, None],  # [B, 1, D]
            self.prd_embedding + 0.0 * sample[:, :1, None],  # [B, 1, D]: broadcast to the batch without shape ops
        ], dim=1) + self.positional_embedding  # [B, L + 4, D]
        for block in self.blocks:
            tokens = block(tokens)
        return self.proj_to_clip_embeddings(self.norm_out(tokens[:, -1]))  # [B, E]


@dataclass(frozen=True)
class DecoderConfig:
    """The mini SD UNet, unchanged but for its context: the image embedding's extra tokens, no text."""

    embed_dim: int = 64  # tiny CLIP image_embeds width
    # DALL-E 2 projects the CLIP embedding into four extra context tokens; with no caption tokens
    # beside them, the UNet's context is just those four (no padding for attention to sink into).
    unet: TextUNetConfig = field(default_factory=lambda: replace(TextUNetConfig(), text_context_length=4))
    # SDXL micro-conditioning pinned to a clean, uncropped 32 px image (the decoder trains on clean views).
    time_ids: tuple[float, ...] = (32.0, 32.0, 0.0, 0.0, 32.0, 32.0)

    @property
    def clip_extra_context_tokens(self) -> int:
        return self.unet.text_context_length

    def to_dict(self) -> dict:
        return {"embed_dim": self.embed_dim, "clip_extra_context_tokens": self.clip_extra_context_tokens,
                "time_ids": list(self.time_ids), "unet": self.unet.to_dict()}


class UnCLIPDecoder(nn.Module):
    """unCLIP decoder (sec. 2.1): a latent UNet conditioned on a CLIP image embedding, which is added
    to the timestep embedding (via add_embedding) and projected into extra cross-attention tokens."""

    def __init__(self, cfg: DecoderConfig = DecoderConfig()):
        super().__init__()
        self.cfg = cfg
        n, dc = cfg.clip_extra_context_tokens, cfg.unet.cross_attention_dim
        self.clip_extra_context_tokens_proj = nn.Linear(cfg.embed_dim, n * dc)  # diffusers UnCLIPTextProjModel's name
        self.unet = TextUNet(cfg.unet)
        self.register_buffer("time_ids", torch.tensor([cfg.time_ids]), persistent=False)  # [1, 6]

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, image_embeds: torch.Tensor) -> torch.Tensor:
        """sample [B, 4, 8, 8], timestep float [B], image_embeds [B, E] (any scale; zeros = unconditional)
        -> out_sample (epsilon) [B, 4, 8, 8]."""
        cfg = self.cfg
        e = unit_rms(image_embeds)  # [B, E]
        context = self.clip_extra_context_tokens_proj(e).reshape(-1, cfg.clip_extra_context_tokens, cfg.unet.cross_attention_dim)  # [B, 4, Dc]
        ids = self.time_ids + 0.0 * e[:, :1]  # [B, 6] without shape ops
        out, _ = self.unet(sample, timestep, context, e, ids)
        return out
