"""The two stages of a pixel-space cascade (GLIDE, Nichol et al. 2022; Imagen, Saharia et al. 2022),
both built from the mini SD UNet (TextUNet) so that the site draws them with the same block names.

- PixelTextUNet: the text-conditional base model on 16x16 RGB pixels.
- SuperResTextUNet: the 16 -> 32 upsampler; the low-resolution image (bilinearly upsampled to 32 and
  noise-augmented) enters as extra input channels, its augmentation level through class_labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch

from .text_unet import TextUNet, TextUNetConfig


def patchify(x: torch.Tensor, channels: int, p: int, size: int) -> torch.Tensor:
    """[B, C, S, S] -> [B, C*p*p, S/p, S/p] (space-to-depth, the channel order of models/unet.py).

    Every size is a Python int from the config, never read from x.shape, so the exported graph has
    constant Reshape targets and no int64 Shape/Gather/Div arithmetic (the WebGPU audit).
    """
    n = size // p
    x = x.reshape(-1, channels, n, p, n, p).permute(0, 1, 3, 5, 2, 4)  # [B, C, p, p, n, n]
    return x.reshape(-1, channels * p * p, n, n)


def unpatchify(x: torch.Tensor, channels: int, p: int, size: int) -> torch.Tensor:
    """Inverse of patchify: [B, C*p*p, S/p, S/p] -> [B, C, S, S]."""
    n = size // p
    x = x.reshape(-1, channels, p, p, n, n).permute(0, 1, 4, 2, 5, 3)  # [B, C, n, p, n, p]
    return x.reshape(-1, channels, size, size)


class PixelTextUNet(TextUNet):
    """Imagen's base model in miniature: TextUNet on RGB pixels, epsilon only (no attention maps out)."""

    def forward(
        self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor, text_embeds: torch.Tensor
    ) -> torch.Tensor:
        """sample [B, 3, 16, 16], timestep float [B], encoder_hidden_states [B, L, 64], text_embeds [B, 64]
        -> out_sample (epsilon) [B, 3, 16, 16]."""
        return self.predict(sample, timestep, encoder_hidden_states, text_embeds)[0]


@dataclass(frozen=True)
class SuperResConfig:
    """The upsampler: a TextUNet that runs on 2x2 space-to-depth patches of [x_t, low_res] at 32 px."""

    unet: TextUNetConfig = field(default_factory=TextUNetConfig)
    image_size: int = 32  # output resolution
    image_channels: int = 3  # RGB; sample and low_res_sample both have this many channels
    patch_size: int = 2  # 32 px -> a 16x16 grid of 2x2 patches: a quarter of the positions, as the MNIST UNet
    num_train_timesteps: int = 1000  # noise_level in [0, 1] is scaled to the timestep range before the sinusoids

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "unet"}
        return {**d, "unet": self.unet.to_dict()}


class SuperResTextUNet(TextUNet):
    """GLIDE / Imagen upsampler: epsilon for x_t given the upsampled low-res image (concatenated as
    channels) and its noise-conditioning augmentation level (embedded like the timestep, Imagen sec. 2.5)."""

    def __init__(self, cfg: SuperResConfig):
        super().__init__(cfg.unet)
        self.sr = cfg

    def forward(
        self,
        sample: torch.Tensor,
        timestep: torch.Tensor,
        low_res_sample: torch.Tensor,
        noise_level: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        text_embeds: torch.Tensor,
    ) -> torch.Tensor:
        """sample [B, 3, 32, 32], timestep float [B], low_res_sample [B, 3, 32, 32] (upsampled, augmented),
        noise_level float [B] in [0, 1], encoder_hidden_states [B, L, 64], text_embeds [B, 64] -> epsilon [B, 3, 32, 32]."""
        c = self.sr
        x = torch.cat([sample, low_res_sample], dim=1)  # [B, 6, 32, 32]
        x = patchify(x, 2 * c.image_channels, c.patch_size, c.image_size)  # [B, 24, 16, 16]
        level = noise_level * float(c.num_train_timesteps)  # [B], on the timestep's scale
        out, _ = self.predict(x, timestep, encoder_hidden_states, text_embeds, class_labels=level)  # [B, 12, 16, 16]
        return unpatchify(out, c.image_channels, c.patch_size, c.image_size)  # [B, 3, 32, 32]
