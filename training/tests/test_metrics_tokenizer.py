"""Metric sanity (FID, PSNR, SSIM) and the tokenizer's CLIP-style layout."""

import numpy as np
import torch

from training.metrics import frechet_distance, psnr, ssim
from training.tokenizer import WordTokenizer, normalize


def test_fid_zero_for_same_distribution_and_positive_for_shift():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 8))
    assert frechet_distance(a, a) < 1e-6
    assert abs(frechet_distance(a, a + 1.0) - 8.0) < 1e-6  # mean shift of 1 in 8 dims


def test_psnr_ssim():
    x = torch.rand(2, 3, 32, 32)
    assert torch.allclose(ssim(x, x), torch.ones(2), atol=1e-5)
    y = (x + 0.1).clamp(0, 1)
    assert (psnr(x, y) > 19).all() and (ssim(x, y) < 1).all()


def test_tokenizer_layout():
    tok = WordTokenizer.build(["grinning face", "an emoji of a red heart"], context_length=8)
    ids = tok.encode("Grinning  FACE unknownword")
    assert len(ids) == 8
    assert ids[0] == tok.vocab["<|startoftext|>"] and ids[4] == tok.eos_id and ids[-1] == tok.pad_id
    assert ids[3] == tok.vocab["<|unk|>"]
    long = tok.encode("face " * 20)
    assert long[-1] == tok.eos_id  # truncation keeps EOS, the pooling position
    assert normalize("Côte d’Ivoire") == ["cote", "d", "ivoire"]  # noqa: RUF001 -- the curly apostrophe is the case under test
