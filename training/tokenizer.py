"""Word-level tokenizer for the tiny CLIP text encoder, with CLIP's BOS/EOS/PAD layout.

Normalisation is kept trivially portable so the site can re-implement it in a few lines of
TypeScript: NFKD, drop combining marks, lowercase, then words = runs of [a-z0-9].
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PAD, BOS, EOS, UNK = "<|pad|>", "<|startoftext|>", "<|endoftext|>", "<|unk|>"
WORD_RE = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> list[str]:
    """NFKD -> strip combining marks -> lowercase -> [a-z0-9]+ words ('Côte d\u2019Ivoire' -> cote, d, ivoire)."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(ch for ch in t if not unicodedata.combining(ch)).lower()
    return WORD_RE.findall(t)


@dataclass
class WordTokenizer:
    """Fixed-length encoding [BOS, w1..wn, EOS, PAD...] of context_length ids (CLIP's layout)."""

    vocab: dict[str, int] = field(default_factory=dict)
    context_length: int = 16  # 99% of captions have <= 15 words; CLIP uses 77 for long prompts

    @classmethod
    def build(cls, captions: list[str], context_length: int = 16) -> WordTokenizer:
        """Vocabulary = every word in the training captions, most frequent first, after 4 specials."""
        counts = Counter(w for c in captions for w in normalize(c))
        words = sorted(counts, key=lambda w: (-counts[w], w))
        vocab = {tok: i for i, tok in enumerate([PAD, BOS, EOS, UNK, *words])}
        return cls(vocab, context_length)

    @property
    def pad_id(self) -> int:
        return self.vocab[PAD]

    @property
    def eos_id(self) -> int:
        return self.vocab[EOS]

    def encode(self, text: str) -> list[int]:
        """Words beyond context_length - 2 are dropped so EOS (the pooling position) is always present."""
        words = normalize(text)[: self.context_length - 2]
        ids = [self.vocab[BOS]] + [self.vocab.get(w, self.vocab[UNK]) for w in words] + [self.vocab[EOS]]
        return ids + [self.vocab[PAD]] * (self.context_length - len(ids))

    def to_json(self) -> dict:
        """tokenizer.json for the site: vocab, special tokens, context length and normalisation rules."""
        return {
            "type": "word-level",
            "context_length": self.context_length,
            "normalization": {
                "unicode": "NFKD",
                "strip_combining_marks": True,
                "lowercase": True,
                "word_pattern": "[a-z0-9]+",
                "description": "NFKD, drop combining marks (U+0300-U+036F), lowercase, words = runs of [a-z0-9]; everything else separates words",
            },
            "special_tokens": {"pad": PAD, "bos": BOS, "eos": EOS, "unk": UNK},
            "special_token_ids": {"pad": self.vocab[PAD], "bos": self.vocab[BOS], "eos": self.vocab[EOS], "unk": self.vocab[UNK]},
            "layout": "[bos, word ids (at most context_length - 2, extra words dropped), eos, pad ...]; pooled output is read at the eos position",
            "vocab_size": len(self.vocab),
            "vocab": self.vocab,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":")))

    @classmethod
    def load(cls, path: Path) -> WordTokenizer:
        d = json.loads(path.read_text())
        return cls(d["vocab"], d["context_length"])
