"""Diffusion Transformer (Peebles & Xie 2023, "Scalable Diffusion Models with Transformers").

A class-conditional DiT with adaLN-Zero blocks on the emoji VAE's 8x8x4 latents. Names follow
facebookresearch/DiT `models.py` (x_embedder, t_embedder, y_embedder, blocks, final_layer,
adaLN_modulation) so a reader can hold this file next to the paper's code.

Besides the prediction, the forward pass returns what the site draws: every block's softmax
attention probabilities per head, and how open each block's adaLN-Zero gates are for this input.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from .layers import timestep_embedding


@dataclass(frozen=True)
class DiTConfig:
    """Sizes of the mini DiT; DiT's constructor argument names."""

    input_size: int = 8  # latent side (32 px emoji, VAE f = 4)
    patch_size: int = 2  # DiT's p = 2: (8 / 2)^2 = 16 tokens
    in_channels: int = 4  # VAE latent channels
    hidden_size: int = 128  # DiT-S is 384; 128 x 6 blocks trains at ~0.15-0.25 s a step (batch 64, one CPU thread)
    depth: int = 6  # DiT-S is 12; half the depth of the smallest published model
    num_heads: int = 4  # head dim 32 (DiT-S: 384 / 6 = 64)
    mlp_ratio: float = 4.0  # DiT (and ViT) default
    num_classes: int = 10  # emoji categories; index num_classes is the null class for CFG
    frequency_embedding_size: int = 256  # DiT's TimestepEmbedder sinusoid width
    learn_sigma: bool = False  # epsilon only: the site's DDIM/Euler samplers need no learned variance

    @property
    def out_channels(self) -> int:
        """Channels predicted per latent pixel: epsilon, plus the variance when learn_sigma (DiT's 2C)."""
        return self.in_channels * 2 if self.learn_sigma else self.in_channels

    @property
    def grid_size(self) -> int:
        """Tokens per side: 8 / 2 = 4."""
        return self.input_size // self.patch_size

    @property
    def num_patches(self) -> int:
        """Sequence length T: 16 tokens."""
        return self.grid_size**2

    def to_dict(self) -> dict:
        return asdict(self)


def get_2d_sincos_pos_embed(embed_dim: int, grid_size: int) -> np.ndarray:
    """Fixed 2-D sine-cosine position embedding (MAE, He et al. 2022; DiT): the first half of the
    channels encodes the column, the second half the row, each as [sin, cos] of a 1-D position
    (Vaswani et al. 2017 frequencies). Returns [grid_size^2, embed_dim], tokens row-major."""

    def one_d(dim: int, pos: np.ndarray) -> np.ndarray:
        omega = 1.0 / 10000 ** (np.arange(dim // 2, dtype=np.float64) / (dim / 2.0))  # [D/2]
        out = np.einsum("m,d->md", pos.reshape(-1), omega)  # [M, D/2]
        return np.concatenate([np.sin(out), np.cos(out)], axis=1)  # [M, D]

    pos = np.arange(grid_size, dtype=np.float64)
    cols, rows = np.meshgrid(pos, pos, indexing="xy")  # [g, g] each; token i*g + j is row i, column j
    # DiT's meshgrid(grid_w, grid_h) puts the column index first, whatever its comment says.
    return np.concatenate([one_d(embed_dim // 2, cols), one_d(embed_dim // 2, rows)], axis=1)  # [T, D]


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """adaLN: x * (1 + scale) + shift, one (shift, scale) per sample broadcast over tokens (DiT sec. 3.2)."""
    return x * (1 + scale[:, None, :]) + shift[:, None, :]  # [B, T, D]


def split_modulation(m: torch.Tensor, n: int, d: int) -> list[torch.Tensor]:
    """[B, n*D] -> n x [B, D], as DiT's chunk(n, dim=1).

    Slices at Python-int offsets (d is the config's hidden size, not m.shape), because a traced
    chunk() derives its split points from the runtime shape: int64 arithmetic that WebGPU would
    push to the CPU.
    """
    return [m[:, i * d : (i + 1) * d] for i in range(n)]


class PatchEmbed(nn.Module):
    """Non-overlapping p x p patches -> linear tokens (ViT, Dosovitskiy et al. 2021), as a stride-p conv."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.proj = nn.Conv2d(cfg.in_channels, cfg.hidden_size, cfg.patch_size, stride=cfg.patch_size)
        self.tokens, self.hidden = cfg.num_patches, cfg.hidden_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[B, C, H, W] -> [B, T, D] in row-major patch order."""
        h = self.proj(x)  # [B, D, H/p, W/p]
        return h.reshape(-1, self.hidden, self.tokens).transpose(1, 2)  # [B, T, D]


class TimestepEmbedder(nn.Module):
    """Sinusoidal timestep features (cos-then-sin, 256 wide) -> Linear -> SiLU -> Linear (DiT)."""

    def __init__(self, hidden_size: int, frequency_embedding_size: int):
        super().__init__()
        self.frequency_embedding_size = frequency_embedding_size
        self.mlp = nn.Sequential(nn.Linear(frequency_embedding_size, hidden_size), nn.SiLU(), nn.Linear(hidden_size, hidden_size))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """t float [B] -> [B, D]."""
        return self.mlp(timestep_embedding(t, self.frequency_embedding_size))


class LabelEmbedder(nn.Module):
    """Class embedding table with one extra row, the null class that classifier-free guidance uses.

    Label dropout (Ho & Salimans 2022) happens in the training loss, not here, so the exported
    graph is a plain Gather and the same module serves conditional and unconditional passes.
    """

    def __init__(self, num_classes: int, hidden_size: int):
        super().__init__()
        self.embedding_table = nn.Embedding(num_classes + 1, hidden_size)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        """labels int64 [B] in 0..num_classes -> [B, D]."""
        return self.embedding_table(labels)


class Attention(nn.Module):
    """Multi-head self-attention (timm's qkv layout) that also returns its probabilities."""

    def __init__(self, dim: int, num_heads: int, tokens: int):
        super().__init__()
        self.heads, self.head_dim, self.tokens, self.dim = num_heads, dim // num_heads, tokens, dim
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x [B, T, D] -> (out [B, T, D], probs [B, H, T, T]); softmax(q k^T / sqrt(dh)) (Vaswani et al. 2017)."""
        # Python-int sizes (batch as -1) keep Shape/Gather/Concat chains out of the ONNX graph.
        t, h, dh = self.tokens, self.heads, self.head_dim
        qkv = self.qkv(x).reshape(-1, t, 3, h, dh).permute(2, 0, 3, 1, 4)  # [3, B, H, T, dh]
        q, k, v = qkv[0], qkv[1], qkv[2]  # [B, H, T, dh] each
        probs = ((q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(dh))).softmax(dim=-1)  # [B, H, T, T]
        out = (probs @ v).transpose(1, 2).reshape(-1, t, self.dim)  # [B, T, D]
        return self.proj(out), probs


class DiTBlock(nn.Module):
    """adaLN-Zero block (DiT fig. 3): c -> (shift, scale, gate) for attention and MLP, gates zero at init."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        d = self.hidden = cfg.hidden_size
        # No affine parameters: adaLN supplies every per-sample scale and shift.
        self.norm1 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(d, cfg.num_heads, cfg.num_patches)
        self.norm2 = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        hidden = int(d * cfg.mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, d))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 6 * d))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x [B, T, D], c [B, D] -> (x [B, T, D], attention probs [B, H, T, T], mean |gate| [B, 2])."""
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = split_modulation(self.adaLN_modulation(c), 6, self.hidden)  # 6 x [B, D]
        a, probs = self.attn(modulate(self.norm1(x), shift_msa, scale_msa))
        x = x + gate_msa[:, None, :] * a  # [B, T, D]
        x = x + gate_mlp[:, None, :] * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))  # [B, T, D]
        gates = torch.stack([gate_msa.abs().mean(dim=1), gate_mlp.abs().mean(dim=1)], dim=1)  # [B, 2]
        return x, probs, gates


class FinalLayer(nn.Module):
    """adaLN (shift, scale) -> LayerNorm -> Linear to p*p*C_out per token; zero-initialised (DiT)."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        d, p = cfg.hidden_size, cfg.patch_size
        self.hidden = d
        self.norm_final = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.linear = nn.Linear(d, p * p * cfg.out_channels)
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(d, 2 * d))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """x [B, T, D], c [B, D] -> [B, T, p*p*C_out]."""
        shift, scale = split_modulation(self.adaLN_modulation(c), 2, self.hidden)  # 2 x [B, D]
        return self.linear(modulate(self.norm_final(x), shift, scale))


class DiT(nn.Module):
    """DiT: patchify -> + fixed sin-cos positions -> N adaLN-Zero blocks conditioned on t + y -> unpatchify."""

    def __init__(self, cfg: DiTConfig = DiTConfig()):
        super().__init__()
        self.cfg = cfg
        self.x_embedder = PatchEmbed(cfg)
        self.t_embedder = TimestepEmbedder(cfg.hidden_size, cfg.frequency_embedding_size)
        self.y_embedder = LabelEmbedder(cfg.num_classes, cfg.hidden_size)
        pos = torch.from_numpy(get_2d_sincos_pos_embed(cfg.hidden_size, cfg.grid_size)).float()[None]  # [1, T, D]
        self.register_buffer("pos_embed", pos, persistent=False)  # fixed, so not in checkpoints
        self.blocks = nn.ModuleList([DiTBlock(cfg) for _ in range(cfg.depth)])
        self.final_layer = FinalLayer(cfg)
        self.initialize_weights()

    def initialize_weights(self) -> None:
        """DiT's init: Xavier-uniform linears and patch conv, N(0, 0.02) embeddings, adaLN-Zero and output zeroed."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        w = self.x_embedder.proj.weight
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))  # as a Linear over the flattened patch
        nn.init.zeros_(self.x_embedder.proj.bias)
        nn.init.normal_(self.y_embedder.embedding_table.weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[0].weight, std=0.02)
        nn.init.normal_(self.t_embedder.mlp[2].weight, std=0.02)
        # adaLN-Zero: every block starts as the identity, the network as a zero predictor.
        for block in self.blocks:
            nn.init.zeros_(block.adaLN_modulation[-1].weight)
            nn.init.zeros_(block.adaLN_modulation[-1].bias)
        nn.init.zeros_(self.final_layer.adaLN_modulation[-1].weight)
        nn.init.zeros_(self.final_layer.adaLN_modulation[-1].bias)
        nn.init.zeros_(self.final_layer.linear.weight)
        nn.init.zeros_(self.final_layer.linear.bias)

    def unpatchify(self, x: torch.Tensor) -> torch.Tensor:
        """[B, T, p*p*C] -> [B, C, H, W]; each token's values are laid out (p, q, c) as in DiT."""
        c, p, g = self.cfg.out_channels, self.cfg.patch_size, self.cfg.grid_size
        x = x.reshape(-1, g, g, p, p, c)  # [B, h, w, p, q, C]
        x = x.permute(0, 5, 1, 3, 2, 4)  # [B, C, h, p, w, q] (DiT's einsum nhwpqc -> nchpwq)
        return x.reshape(-1, c, g * p, g * p)  # [B, C, H, W]

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, class_labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Predict epsilon and return what each block did.

        sample [B, 4, 8, 8] (scaled latents), timestep float [B], class_labels int64 [B] (10 = null)
        -> out_sample [B, 4, 8, 8], attention_probs [B, depth, heads, 16, 16], adaln_gates [B, depth, 2].
        """
        x = self.x_embedder(sample) + self.pos_embed  # [B, T, D]
        c = self.t_embedder(timestep) + self.y_embedder(class_labels)  # [B, D]
        probs, gates = [], []
        for block in self.blocks:
            x, p, gt = block(x, c)
            probs.append(p)
            gates.append(gt)
        x = self.final_layer(x, c)  # [B, T, p*p*C_out]
        out = self.unpatchify(x)  # [B, C_out, H, W]
        if self.cfg.learn_sigma:
            out = out[:, : self.cfg.in_channels]  # epsilon half; the site has no use for the variance
        return out, torch.stack(probs, dim=1), torch.stack(gates, dim=1)
