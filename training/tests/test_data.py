"""Dataset shapes, value ranges and splits (fixed seeds, split by base emoji)."""

import json

import numpy as np


def test_mnist_shapes_and_split(mnist):
    assert mnist["train_images"].shape == (8000, 32, 32)
    assert mnist["test_images"].shape == (2000, 32, 32)
    assert mnist["train_images"].dtype == np.uint8
    assert set(np.unique(mnist["test_labels"])) == set(range(10))
    # the 2 px padding border is empty: digits stay centred in 28x28 as in MNIST
    assert mnist["train_images"][:, :2].max() == 0 and mnist["train_images"][:, :, -2:].max() == 0


def test_emoji_shapes_labels_and_captions(emoji):
    n = len(emoji["images"])
    assert emoji["images"].shape == (n, 32, 32, 3) and n > 7000
    assert set(np.unique(emoji["vendor"])) == {0, 1}
    assert emoji["category"].max() < len(emoji["category_names"])
    assert emoji["subcategory"].max() < len(emoji["subcategory_names"])
    caps = json.loads(emoji["captions"][0])
    assert caps and all(isinstance(c, str) and c for c in caps)
    # composited on white: the corner pixels of (almost) every emoji are white
    assert (emoji["images"][:, 0, 0] == 255).all(axis=1).mean() > 0.8


def test_emoji_split_by_base(emoji):
    val = emoji["split"] == 1
    val_bases, train_bases = set(emoji["base"][val]), set(emoji["base"][~val])
    assert not val_bases & train_bases  # every tone and vendor of a held-out emoji is held out
    frac = len(val_bases) / (len(val_bases) + len(train_bases))
    assert 0.04 < frac < 0.06
    for b in list(val_bases)[:10]:
        assert set(emoji["vendor"][emoji["base"] == b]) == {0, 1}


def test_unseen_styles_same_emoji_in_each_style():
    from training.data import UNSEEN_STYLES, load_emoji_unseen

    d = load_emoji_unseen()
    assert d["style_names"].tolist() == list(UNSEEN_STYLES)
    per_style = [d["base"][d["style"] == i] for i in range(len(UNSEEN_STYLES))]
    assert all(len(b) == 512 for b in per_style)
    assert all((b == per_style[0]).all() for b in per_style)  # the same objects drawn in each style
    assert d["images"].shape == (512 * len(UNSEEN_STYLES), 32, 32, 3) and d["images"].dtype == np.uint8
    # composited on white: corners are white, and the styles differ on the same emoji
    assert (d["images"][:, 0, 0] == 255).mean() > 0.9
    assert np.abs(d["images"][d["style"] == 0].astype(int) - d["images"][d["style"] == 1]).mean() > 10


def test_extra_styles_hold_no_held_out_emoji_and_no_benchmark_style():
    import json

    from training.data import EXTRA_STYLES, UNSEEN_STYLES, _name_key, load_emoji, load_emoji_styles, load_emoji_unseen
    from training.paths import NODE_MODULES

    assert not set(EXTRA_STYLES) & set(UNSEEN_STYLES)  # the VAE never trains on a benchmark style
    d, e, u = load_emoji_styles(), load_emoji(), load_emoji_unseen()
    assert d["style_names"].tolist() == list(EXTRA_STYLES)
    assert all((d["style"] == i).sum() > 500 for i in range(len(EXTRA_STYLES)))
    assert (d["images"][:, 0, 0] == 255).mean() > 0.8  # composited on white
    # matched by name, skin-tone variants included: no validation or benchmark emoji is kept
    assert _name_key("waving-hand-medium-dark-skin-tone") == _name_key("WAVING HAND") == "wavinghand"
    meta = json.loads((NODE_MODULES / "emoji-datasource-google" / "emoji.json").read_text())
    meta.sort(key=lambda m: m["sort_order"])
    held = set(e["base"][e["split"] == 1].tolist()) | set(u["base"].tolist())
    held_keys = {_name_key(meta[b]["name"]) for b in held if meta[b]["name"]}
    assert len(held_keys) > 500
    assert not {_name_key(n) for n in d["name"].tolist()} & held_keys
