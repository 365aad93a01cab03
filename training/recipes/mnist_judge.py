"""MNIST judge: a CNN classifier whose accuracy and penultimate features score the DDPM's samples."""

from __future__ import annotations

from functools import partial

import torch
from torch.nn import functional as F

from ..export import ExportSpec, IOSpec
from ..models.judge import Judge, JudgeConfig
from ..trainer import TrainConfig, Trainer, overridden
from .mnist_ddpm import mnist_tensors

NAME = "mnist_judge"
JUDGE = JudgeConfig()
TRAIN = TrainConfig(
    steps=3000,  # ~24 epochs of 8k digits at batch 64; accuracy plateaus well before
    max_minutes=12.0,  # small next to the DDPM; leaves the cores to the generative models
    batch_size=64,
    lr=2e-3,  # BatchNorm CNN tolerates a high Adam rate
    warmup_steps=100,
    weight_decay=1e-4,
)


def make_model() -> Judge:
    """The ~0.16M-parameter judge CNN."""
    return Judge(JUDGE)


def export_spec(model) -> ExportSpec:
    """Judge graph: pixel_values [B, 1, 32, 32] -> logits [B, 10], features [B, 128]."""
    return ExportSpec(
        model,
        [IOSpec("pixel_values", ["batch", 1, 32, 32], "float32")],
        [IOSpec("logits", ["batch", 10], "float32"), IOSpec("features", ["batch", model.head.in_features], "float32")],
        lambda b, g: (torch.rand(b, 1, 32, 32, generator=g) * 2 - 1,),
    )


def random_shift(x: torch.Tensor, g: torch.Generator, max_shift: int = 2, fill: float = -1.0) -> torch.Tensor:
    """Translate each image by up to +-max_shift px (the classic MNIST augmentation) via padding and cropping."""
    b, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=fill)  # [B, C, H+4, W+4]; background is -1 (black) for MNIST
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=g)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=g)
    return torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(b)])  # [B, C, H, W]


def train(cfg: TrainConfig = TRAIN, subset: int | None = None, run_dir=None) -> Trainer:
    """Cross-entropy training with shift augmentation."""
    x, y = mnist_tensors("train")
    if subset:
        x, y = x[:subset], y[:subset]
    trainer = Trainer(NAME, make_model(), cfg, run_dir)

    def loss_fn(model, step, g):
        idx = torch.randint(0, len(x), (cfg.batch_size,), generator=g)
        logits, _ = model(random_shift(x[idx], g).to(trainer.device))
        return F.cross_entropy(logits, y[idx].to(trainer.device))

    trainer.summary = trainer.fit(loss_fn)
    return trainer


@torch.no_grad()
def classify(model: Judge, x: torch.Tensor, batch: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits [N, 10] and features [N, 128] for images [N, 1, 32, 32] in [-1, 1]."""
    model.eval()
    outs = [model(x[i : i + batch]) for i in range(0, len(x), batch)]
    return torch.cat([o[0] for o in outs]), torch.cat([o[1] for o in outs])


def evaluate(model: Judge) -> dict:
    """Test-split accuracy."""
    x, y = mnist_tensors("test")
    logits, _ = classify(model, x)
    return {"test_accuracy": float((logits.argmax(1) == y).float().mean()), "test_size": len(y)}


with_overrides = partial(overridden, TRAIN)  # this recipe's TrainConfig with CLI overrides
