"""CLI, run from the repository root.

  python -m training build all            # data + every model + manifest (what CI would run)
  python -m training build mnist_ddpm     # one recipe (build.MODEL_IDS lists them in build order)
  python -m training build all --no-train # re-export/evaluate from existing checkpoints
  python -m training build mini_sd --evaluate-only  # new metrics for the shipped file, nothing re-exported
  python -m training train emoji_vae --max-minutes 10 --threads 1
  python -m training data                 # npm install + rebuild training/data/*.npz
  python -m training manifest             # rewrite manifest.json from runs/*/result.json
  python -m training recover emoji_vae    # frozen checkpoints back from the shipped ONNX (training/recover.py)
"""

from __future__ import annotations

import argparse
import importlib


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m training", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["build", "train", "data", "manifest", "recover"])
    ap.add_argument("target", nargs="*", default=["all"])
    ap.add_argument("--device", default=None, help="cpu (default) or cuda")
    ap.add_argument("--max-minutes", type=float, default=None, help="wall-clock training budget (summed over resumes)")
    ap.add_argument("--steps", type=int, default=None, help="step cap")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    ap.add_argument("--batch-size", type=int, default=None)
    ap.add_argument("--no-train", action="store_true", help="build: skip training, use existing checkpoints")
    ap.add_argument("--evaluate-only", action="store_true", help="build: no training, no export; re-evaluate the shipped files")
    a = ap.parse_args()
    overrides = dict(device=a.device, max_minutes=a.max_minutes, steps=a.steps, threads=a.threads, batch_size=a.batch_size)
    if a.command == "recover":
        from .recover import SHIPPED, recover

        for name in SHIPPED if a.target == ["all"] else a.target:
            recover(name)
        return
    if len(a.target) != 1:
        raise SystemExit(f"{a.command} takes one target")
    a.target = a.target[0]
    if a.command == "data":
        from .data import build_all

        build_all(force=True)
    elif a.command == "manifest":
        from .build import write_attribution, write_manifest

        write_attribution()
        write_manifest()
    elif a.command == "build":
        from .build import build

        build(a.target, train=not a.no_train, overrides=overrides, evaluate_only=a.evaluate_only)
    else:
        mod = importlib.import_module(f".recipes.{a.target}", __package__)
        mod.train(mod.with_overrides(**overrides))


if __name__ == "__main__":
    main()
