"""Reading finished (or in-progress) training runs from training/runs/<name>/.

Recipes load earlier recipes' frozen models through here, and build.py reads the runs it exports;
this module depends only on paths and torch, so no recipe needs to import build.py (which imports
the recipes).
"""

from __future__ import annotations

import json

import torch

from .paths import RUNS


def load_trained(mod, *args) -> torch.nn.Module:
    """Rebuild a recipe's model and load its final checkpoint (EMA weights when the run kept them)."""
    model = mod.make_model(*args)
    state = torch.load(RUNS / mod.NAME / "ckpt.pt", map_location="cpu", weights_only=False)
    model.load_state_dict(state["ema"] if state.get("ema") is not None else state["model"])
    return model.eval()


def run_summary(name: str) -> dict:
    """runs/<name>/summary.json, written by the trainer at the end of each run.

    Exporting a run that is still training (to try its weights early) records where it stands.
    """
    path = RUNS / name / "summary.json"
    if path.exists():
        return json.loads(path.read_text())
    state = torch.load(RUNS / name / "ckpt.pt", map_location="cpu", weights_only=False)
    return {"steps": state["step"], "wall_time_s": round(state["elapsed"], 1), "in_progress": True, **state.get("config", {})}
