"""Filesystem locations shared by every step of the pipeline (all relative to the repo root)."""

from pathlib import Path

TRAINING = Path(__file__).resolve().parent
ROOT = TRAINING.parent
NODE_MODULES = TRAINING / "node_modules"
DATA = TRAINING / "data"
RUNS = TRAINING / "runs"
WEIGHTS = ROOT / "public" / "weights"
