"""Tiny CLIP on emoji/caption pairs: contrastive pre-training (Radford et al. 2021) at toy scale."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial

import numpy as np
import torch
from torch.nn import functional as F

from ..data import load_emoji
from ..export import ExportSpec, IOSpec
from ..models.clip import CLIPConfig, TinyCLIP
from ..paths import RUNS
from ..tokenizer import WordTokenizer
from ..trainer import TrainConfig, Trainer, overridden

NAME = "tiny_clip"
CLIP = CLIPConfig()
TRAIN = TrainConfig(
    steps=6000,  # cap; the 45-minute budget binds first on this CPU (~0.6 s/step at 1 thread)
    max_minutes=45.0,  # runs after the VAE on the same core; ends well before the export deadline
    batch_size=128,  # 128 distinct base emoji per batch: enough negatives, no false ones
    lr=2e-3,  # small transformer + CNN; cosine-decayed
    warmup_steps=200,
    weight_decay=0.05,  # AdamW regularisation for the ~1.8k training emoji
)


def caption_lists(d: dict, mask: np.ndarray) -> list[list[str]]:
    """Caption variants (decoded from their JSON strings) of the masked images."""
    return [json.loads(c) for c in d["captions"][mask]]


def build_tokenizer() -> WordTokenizer:
    """Vocabulary from every caption variant of the training split only (validation words become <|unk|>)."""
    d = load_emoji()
    caps = caption_lists(d, d["split"] == 0)
    return WordTokenizer.build([c for cs in caps for c in cs], CLIP.context_length)


def make_model(tok: WordTokenizer) -> TinyCLIP:
    """Both CLIP towers, the token table sized to the tokenizer's vocabulary."""
    return TinyCLIP(replace(CLIP, vocab_size=len(tok.vocab)), tok.eos_id)


def export_specs(model, tok) -> tuple[ExportSpec, ExportSpec]:
    """CLIP graphs: input_ids [B, L] -> last_hidden_state, text_embeds; pixel_values -> image_embeds."""
    L, D, E = model.cfg.context_length, model.cfg.width, model.cfg.embed_dim
    vocab = len(tok.vocab)

    def ids(b, g):
        out = torch.full((b, L), tok.pad_id, dtype=torch.long)
        for i in range(b):
            n = int(torch.randint(1, L - 1, (1,), generator=g))
            out[i, 0] = tok.vocab["<|startoftext|>"]
            out[i, 1 : n + 1] = torch.randint(4, vocab, (n,), generator=g)
            out[i, n + 1] = tok.eos_id
        return (out,)

    text = ExportSpec(model.text, [IOSpec("input_ids", ["batch", L], "int64")],
                      [IOSpec("last_hidden_state", ["batch", L, D], "float32"), IOSpec("text_embeds", ["batch", E], "float32")], ids)
    image = ExportSpec(model.image, [IOSpec("pixel_values", ["batch", 3, 32, 32], "float32")],
                       [IOSpec("image_embeds", ["batch", E], "float32")], lambda b, g: (torch.rand(b, 3, 32, 32, generator=g) * 2 - 1,))
    return text, image


def shift_white(x: torch.Tensor, g: torch.Generator, max_shift: int = 2) -> torch.Tensor:
    """Translate by up to +-2 px, filling with white (+1): emoji sit on white backgrounds. No flips: arrows."""
    b, _, h, w = x.shape
    padded = F.pad(x, (max_shift,) * 4, value=1.0)
    dx = torch.randint(0, 2 * max_shift + 1, (b,), generator=g)
    dy = torch.randint(0, 2 * max_shift + 1, (b,), generator=g)
    return torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(b)])


def train(cfg: TrainConfig = TRAIN, subset: int | None = None, run_dir=None) -> Trainer:
    """Each step: 128 distinct base emoji, one random image (tone/vendor) and one random caption variant each."""
    d = load_emoji()
    mask = d["split"] == 0
    tok = build_tokenizer()
    images = torch.from_numpy(d["images"][mask]).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)  # [N, 3, 32, 32]
    ids = [torch.tensor([tok.encode(c) for c in caps]) for caps in caption_lists(d, mask)]  # N x [V_i, L]
    bases = d["base"][mask]
    if subset:
        images, ids, bases = images[:subset], ids[:subset], bases[:subset]
    by_base = [torch.from_numpy(np.flatnonzero(bases == b)) for b in np.unique(bases)]
    trainer = Trainer(NAME, make_model(tok), cfg, run_dir)
    tok.save(trainer.dir / "tokenizer.json")
    batch = min(cfg.batch_size, len(by_base))

    def loss_fn(model, step, g):
        chosen = torch.randperm(len(by_base), generator=g)[:batch]
        idx = [int(by_base[b][torch.randint(0, len(by_base[b]), (1,), generator=g)]) for b in chosen.tolist()]
        caps = torch.stack([ids[i][torch.randint(0, len(ids[i]), (1,), generator=g)][0] for i in idx])  # [B, L]
        px = shift_white(images[idx], g)  # [B, 3, 32, 32]
        return model.loss(px.to(trainer.device), caps.to(trainer.device))

    trainer.summary = trainer.fit(loss_fn)
    trainer.tokenizer = tok
    return trainer


@torch.no_grad()
def evaluate(model: TinyCLIP, tok: WordTokenizer) -> dict:
    """Validation retrieval: each image against the distinct primary captions (name + skin tone) of the split."""
    model.eval()
    d = load_emoji()
    mask = d["split"] == 1
    caps = [c[0] for c in caption_lists(d, mask)]
    unique = sorted(set(caps))
    target = torch.tensor([unique.index(c) for c in caps])
    images = torch.from_numpy(d["images"][mask]).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
    img = F.normalize(model.image(images), dim=-1)  # [N, E]
    txt = F.normalize(model.text(torch.tensor([tok.encode(c) for c in unique]))[1], dim=-1)  # [K, E]
    sim = img @ txt.t()  # [N, K]
    rank = (sim > sim.gather(1, target[:, None])).sum(1)  # 0 = correct caption ranked first
    k = len(unique)
    # text -> image: for each caption, is one of its images the best match among all validation images?
    t2i_best = sim.argmax(0)  # [K]
    return {
        "validation_images": int(mask.sum()),
        "validation_captions": k,
        "image_to_text_top1": float((rank < 1).float().mean()),
        "image_to_text_top5": float((rank < 5).float().mean()),
        "chance_top1": 1.0 / k,
        "chance_top5": min(1.0, 5.0 / k),
        "text_to_image_top1": float((target[t2i_best] == torch.arange(k)).float().mean()),
        "text_to_image_chance_top1": float(np.mean([(target == i).float().mean().item() for i in range(k)])),
        "logit_scale": float(model.logit_scale.exp()),
        "protocol": "cosine similarity of each validation image against the distinct primary captions ('<name>[ <skin tone>]') of the validation split",
    }


def load_tokenizer() -> WordTokenizer:
    """The tokenizer saved by the training run (the one the shipped text encoder was trained with)."""
    return WordTokenizer.load(RUNS / NAME / "tokenizer.json")


with_overrides = partial(overridden, TRAIN)  # this recipe's TrainConfig with CLI overrides
