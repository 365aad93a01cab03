"""Small CNN digit classifier used only to judge samples (class accuracy and an 'MNIST-FID')."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class JudgeConfig:
    """A VGG-style CNN: enough for >= 98% test accuracy on 8k training digits in minutes."""

    in_channels: int = 1  # 1 for MNIST digits, 3 for RGB emoji
    channels: tuple[int, int] = (32, 64)  # two conv stages at 32 px and 16 px
    feature_dim: int = 128  # penultimate width: the feature space of MNIST-FID
    num_classes: int = 10
    dropout: float = 0.3  # regularises the 8k-image training set


class Judge(nn.Module):
    """conv-conv-pool x2 -> conv -> global average -> 128-d features -> logits (Simonyan & Zisserman 2015 style)."""

    def __init__(self, cfg: JudgeConfig = JudgeConfig()):
        super().__init__()
        c1, c2 = cfg.channels

        def stage(ci: int, co: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(ci, co, 3, padding=1), nn.BatchNorm2d(co), nn.ReLU(),
                nn.Conv2d(co, co, 3, padding=1), nn.BatchNorm2d(co), nn.ReLU(),
                nn.MaxPool2d(2),
            )

        self.body = nn.Sequential(
            stage(cfg.in_channels, c1), stage(c1, c2),
            nn.Conv2d(c2, c2 * 2, 3, padding=1), nn.BatchNorm2d(c2 * 2), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),  # global average (Lin et al. 2014): few weights, exports as GlobalAveragePool
        )
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c2 * 2, cfg.feature_dim), nn.ReLU())
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.feature_dim, cfg.num_classes)

    def forward(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """pixel_values [B, C_in, 32, 32] in [-1, 1] -> (logits [B, 10], features [B, 128])."""
        h = self.body(pixel_values)  # [B, 128, 1, 1]
        features = self.fc(h)  # [B, 128]
        return self.head(self.drop(features)), features
