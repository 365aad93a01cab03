"""Emoji judge: a small CNN that names an emoji's category, used only to score the mini DiT's samples."""

from __future__ import annotations

from functools import partial

import torch
from torch import nn
from torch.nn import functional as F

from ..data import load_emoji
from ..export import ExportSpec, IOSpec
from ..models.judge import Judge, JudgeConfig
from ..trainer import TrainConfig, Trainer, overridden
from .mnist_judge import random_shift

NAME = "emoji_judge"
JUDGE = JudgeConfig(
    in_channels=3,  # RGB emoji on white
    channels=(24, 48),  # ~89k parameters: the fp32 file stays under 0.5 MB
    feature_dim=96,
)
TRAIN = TrainConfig(
    steps=4000,  # cap; the 5-minute budget binds first at 1 thread
    max_minutes=5.0,  # an evaluation tool, not a shipped generator: a small share of the CPU
    batch_size=64,
    lr=2e-3,  # BatchNorm CNN tolerates a high Adam rate (as the MNIST judge)
    warmup_steps=100,
    weight_decay=1e-4,
)


class LogitsOnly(nn.Module):
    """The judge with its features dropped: the exported graph has one output, `logits`."""

    def __init__(self, judge: Judge):
        super().__init__()
        self.judge = judge

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """pixel_values [B, 3, 32, 32] in [-1, 1] -> logits [B, 10]."""
        return self.judge(pixel_values)[0]


def make_model() -> Judge:
    """The ~89k-parameter emoji category CNN."""
    return Judge(JUDGE)


def export_spec(model) -> ExportSpec:
    """Emoji judge graph: pixel_values [B, 3, 32, 32] -> logits [B, 10] (its features stay training-side)."""
    return ExportSpec(
        LogitsOnly(model),
        [IOSpec("pixel_values", ["batch", 3, 32, 32], "float32")],
        [IOSpec("logits", ["batch", model.head.out_features], "float32")],
        lambda b, g: (torch.rand(b, 3, 32, 32, generator=g) * 2 - 1,),
    )


def emoji_labelled(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images [N, 3, 32, 32] in [-1, 1] and category labels [N] for split 'train' or 'validation'."""
    d = load_emoji()
    mask = d["split"] == (1 if split == "validation" else 0)
    x = torch.from_numpy(d["images"][mask]).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    return x, torch.from_numpy(d["category"][mask])


def train(cfg: TrainConfig = TRAIN, subset: int | None = None, run_dir=None) -> Trainer:
    """Cross-entropy with class-balanced sampling, horizontal flips and +-2 px shifts on white."""
    x, y = emoji_labelled("train")
    if subset:
        x, y = x[:subset], y[:subset]
    # People & Body (every skin tone of every person emoji) is ~60% of the images and Component
    # ~0.1%: inverse-frequency sampling keeps the judge from defaulting to the big category.
    counts = torch.bincount(y, minlength=JUDGE.num_classes).float()
    weights = 1.0 / counts[y]  # [N]
    trainer = Trainer(NAME, make_model(), cfg, run_dir)

    def loss_fn(model, step, g):
        b = cfg.batch_size
        idx = torch.multinomial(weights, b, replacement=True, generator=g)
        xb = x[idx]  # [B, 3, 32, 32]
        flip = torch.rand(b, generator=g) < 0.5
        xb = random_shift(torch.where(flip[:, None, None, None], xb.flip(-1), xb), g, fill=1.0)  # white background
        logits, _ = model(xb.to(trainer.device))
        return F.cross_entropy(logits, y[idx].to(trainer.device))

    trainer.summary = trainer.fit(loss_fn)
    return trainer


@torch.no_grad()
def classify(model: Judge, x: torch.Tensor, batch: int = 500) -> torch.Tensor:
    """Logits [N, 10] for images [N, 3, 32, 32] in [-1, 1]."""
    model.eval()
    return torch.cat([model(x[i : i + batch])[0] for i in range(0, len(x), batch)])


def evaluate(model: Judge) -> dict:
    """Validation accuracy, class-balanced accuracy and per-category recall (held-out base emoji)."""
    x, y = emoji_labelled("validation")
    names = [str(c) for c in load_emoji()["category_names"]]
    hit = (classify(model, x).argmax(1) == y).float()
    present = [c for c in range(JUDGE.num_classes) if (y == c).any()]
    recall = {names[c]: float(hit[y == c].mean()) for c in present}
    return {
        "validation_accuracy": float(hit.mean()),
        "validation_balanced_accuracy": sum(recall.values()) / len(recall),
        "validation_recall_per_category": recall,
        "validation_size": len(y),
        "note": "validation = emoji whose base is held out (every tone and vendor); categories with no validation images are omitted",
    }


with_overrides = partial(overridden, TRAIN)  # this recipe's TrainConfig with CLI overrides
