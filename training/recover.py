"""Rebuild a frozen recipe's checkpoint from the ONNX files it shipped, so a later recipe can be retrained.

`build all` trains every recipe in order, so a fresh machine never needs this. It is for a machine
that has `public/weights` but not `training/runs` (every new session): to retrain, say, the MNIST
UNet, its evaluation needs the MNIST judge; to retrain the DiT, its latents need the VAE. Retraining
those ancestors would give different weights and break every shipped model built on them (new VAE,
new latent space), as Stable Diffusion's UNet only works with the autoencoder it was trained on.

Each graph's weights are read back by name where the exporter kept names, and in graph order where
it folded them (a BatchNorm folded into the Conv before it, a Linear's weight stored transposed for
MatMul). The recovered module is then run against the ONNX file on random inputs and refused unless
the outputs agree, so a wrong mapping cannot pass silently.

    python -m training recover mnist_judge emoji_vae tiny_clip emoji_judge
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import torch
from onnx import numpy_helper
from torch import nn

from .export import cpu_session
from .paths import RUNS, WEIGHTS

# recipe -> the files its export specs wrote, in the order export_spec(s) returns them
SHIPPED = {
    "mnist_judge": (("mnist_judge",), ("mnist_judge.onnx",)),
    "emoji_judge": (("emoji_judge",), ("emoji_judge.onnx",)),
    "emoji_vae": (("vae_encoder", "vae_decoder"), ("emoji_vae_encoder.onnx", "emoji_vae_decoder.onnx")),
    "tiny_clip": (("clip_text", "clip_image"), ("clip_text.onnx", "clip_image.onnx")),
}
TOLERANCE = 1e-4  # max abs difference between the recovered module and the file on random inputs


def _initializers(path) -> tuple[dict[str, np.ndarray], list[np.ndarray]]:
    """Named weights (the exporter's parameter names, '_fp16' stripped) and the folded ones, in graph order."""
    model = onnx.load(str(path))
    named: dict[str, np.ndarray] = {}
    unnamed: list[np.ndarray] = []
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init).astype(np.float32)
        name = init.name.removesuffix("_fp16")
        if name.startswith("onnx::"):
            unnamed.append(a)
        elif not name.startswith("/"):  # '/.../Constant_output_0': folded constants, not weights
            named[name] = a
    return named, unnamed


def _load_graph(module: nn.Module, path) -> None:
    """Fill `module` from one ONNX file: by name, else the next folded weight of a matching shape."""
    named, unnamed = _initializers(path)
    state = module.state_dict()
    mods = dict(module.named_modules())
    new: dict[str, torch.Tensor] = {}
    queue = list(unnamed)
    for key, value in state.items():
        owner, _, leaf = key.rpartition(".")
        if isinstance(mods.get(owner), nn.BatchNorm2d):
            # folded into the Conv before it; identity BatchNorm keeps the folded Conv exact
            eps = mods[owner].eps
            fill = {"weight": 1.0, "bias": 0.0, "running_mean": 0.0, "running_var": 1.0 - eps}
            new[key] = torch.full_like(value, fill[leaf]) if leaf in fill else value
            continue
        if key in named:
            a = named.pop(key)
        else:
            if not queue:
                raise ValueError(f"{path.name}: no weight left for {key} {tuple(value.shape)}")
            a = queue.pop(0)
            if isinstance(mods.get(owner), nn.Linear) and leaf == "weight":
                a = a.T  # MatMul stores the Linear's weight as [in, out]
        if a.shape != tuple(value.shape) and a.squeeze().shape == value.squeeze().shape:
            a = a.reshape(value.shape)  # GroupNorm's affine, stored [C, 1, 1] after InstanceNormalization
        if a.shape != tuple(value.shape):
            raise ValueError(f"{path.name}: {key} wants {tuple(value.shape)}, the file has {a.shape}")
        new[key] = torch.from_numpy(np.ascontiguousarray(a))
    module.load_state_dict(new)


@torch.no_grad()
def _check(spec, path) -> float:
    """Max abs difference between the recovered module and the shipped file on the spec's sample inputs."""
    spec.module.eval()
    inputs = spec.make_inputs(4, torch.Generator().manual_seed(0))
    got = spec.module(*inputs)
    got = got if isinstance(got, tuple) else (got,)
    sess = cpu_session(path)
    feeds = {s.name: x.numpy() for s, x in zip(spec.inputs, inputs, strict=True)}
    want = sess.run([o.name for o in spec.outputs], feeds)
    return max(float(np.abs(g.numpy() - w).max()) for g, w in zip(got, want, strict=True))


def recover(name: str, weights=WEIGHTS, runs=RUNS) -> dict:
    """Write runs/<name>/ckpt.pt (and summary.json from the manifest) from the shipped ONNX files."""
    import importlib

    ids, files = SHIPPED[name]
    mod = importlib.import_module(f".recipes.{name}", __package__)
    run = runs / name
    run.mkdir(parents=True, exist_ok=True)
    entry = json.loads((weights / "manifest.json").read_text())["models"][ids[0]]
    if name == "tiny_clip":
        shutil.copyfile(weights / "tokenizer.json", run / "tokenizer.json")
        tok = mod.WordTokenizer.load(run / "tokenizer.json")
        model = mod.make_model(tok)
        specs = mod.export_specs(model, tok)
    else:
        model = mod.make_model()
        specs = mod.export_specs(model, entry.get("scaling_factor", 1.0)) if hasattr(mod, "export_specs") else (mod.export_spec(model),)
    covered = {id(t) for spec in specs for t in spec.module.state_dict(keep_vars=True).values()}
    if name == "tiny_clip":  # the temperature is in no graph; the manifest records exp(logit_scale)
        with torch.no_grad():
            model.logit_scale.fill_(float(np.log(entry["metrics"]["logit_scale"])))
        covered.add(id(model.logit_scale))
    missing = [k for k, t in model.state_dict(keep_vars=True).items() if id(t) not in covered]
    if missing:
        raise ValueError(f"{name}: no shipped graph holds {missing[:5]}")
    diffs = {}
    for spec, file in zip(specs, files, strict=True):
        _load_graph(spec.module, weights / file)
        diffs[file] = _check(spec, weights / file)
        if diffs[file] > TOLERANCE:
            raise ValueError(f"{name}: recovered {file} differs from the file by {diffs[file]:.2e}")
    training = entry.get("training", {})
    # A trainer resuming from this finds its step cap reached and trains no further.
    torch.save({"model": model.state_dict(), "ema": None, "opt": None, "step": training.get("steps", 0),
                "elapsed": training.get("wall_time_s", 0.0), "generator": torch.Generator().manual_seed(0).get_state(),
                "config": {}, "recovered_from": list(files)}, run / "ckpt.pt")
    (run / "summary.json").write_text(json.dumps({**training, "recovered_from_onnx": list(files)}, indent=2))
    print(f"{name}: recovered from {', '.join(files)}, max abs difference {max(diffs.values()):.1e}", flush=True)
    return diffs
