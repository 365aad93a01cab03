"""Rebuild a frozen recipe's checkpoint from the ONNX files it shipped, so a later recipe can be retrained.

`build all` trains every recipe in order, so a fresh machine never needs this. It is for a machine
that has `public/weights` but not `training/runs` (every new session): to retrain, say, the MNIST
UNet, its evaluation needs the MNIST judge; to retrain the DiT, its latents need the VAE. Retraining
those ancestors would give different weights and break every shipped model built on them (new VAE,
new latent space), as Stable Diffusion's UNet only works with the autoencoder it was trained on.

Each graph's weights are read back by name where the exporter kept names, and by the module scope of
the node that consumes them where it did not (a BatchNorm folded into the Conv before it, a Linear's
weight stored transposed for MatMul, a norm's affine reshaped). The recovered module is then run
against the ONNX file on random inputs and refused unless the outputs agree, so a wrong mapping
cannot pass silently.

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

# recipe -> the manifest entries of the graphs its export spec(s) wrote, in the order they return them
SHIPPED = {
    "mnist_judge": ("mnist_judge",),
    # not mnist_ddpm: its full-resolution input conv is exported re-parameterised (12 channels for WebGPU's sake)
    "emoji_judge": ("emoji_judge",),
    "emoji_vae": ("vae_encoder", "vae_decoder"),
    "tiny_clip": ("clip_text", "clip_image"),
    "mini_sd": ("sd_unet",),
    "mini_dit": ("dit",),
    "cascade_base": ("cascade_base",),
    "cascade_sr": ("cascade_sr",),
}
TOLERANCE = 1e-4  # max abs difference between the recovered module and the file on random inputs


def _module_path(node_name: str) -> str:
    """'/down_resnets.1/norm2/Mul' -> 'down_resnets.1.norm2'; '/body/body.0/Conv' -> 'body.0'.

    The exporter names a node by its module scopes, each scope the child's name as its parent spells it
    (a Sequential's child repeats the parent: 'body' then 'body.0').
    """
    path: list[str] = []
    for seg in node_name.strip("/").split("/")[:-1]:
        if path and seg.startswith(path[-1] + "."):
            path[-1] = seg  # 'fc' then 'fc.1': the Sequential's child
        else:
            path.append(seg)
    return ".".join(path)


# (op, input position) -> which parameter of the consuming module an unnamed initializer is, and
# whether it is stored transposed ([in, out] for MatMul)
_ROLE = {("Conv", 1): ("weight", False), ("Conv", 2): ("bias", False), ("MatMul", 1): ("weight", True),
         ("Gemm", 1): ("weight", False), ("Gemm", 2): ("bias", False), ("Mul", 1): ("weight", False),
         ("Add", 1): ("bias", False), ("Add", 0): ("bias", False), ("Mul", 0): ("weight", False),
         ("LayerNormalization", 1): ("weight", False), ("LayerNormalization", 2): ("bias", False)}


def _initializers(path) -> dict[str, np.ndarray]:
    """Every weight of the file under its module's parameter name: the exporter's own name where it kept
    one ('_fp16' stripped), else the name read from the node that consumes it (through the fp16 Cast)."""
    model = onnx.load(str(path))
    consumers: dict[str, tuple[onnx.NodeProto, int]] = {}
    cast_of: dict[str, str] = {}
    for node in model.graph.node:
        for pos, name in enumerate(node.input):
            consumers.setdefault(name, (node, pos))
        if node.op_type == "Cast":
            cast_of[node.input[0]] = node.output[0]
    out: dict[str, np.ndarray] = {}
    for init in model.graph.initializer:
        a = numpy_helper.to_array(init).astype(np.float32)
        name = init.name.removesuffix("_fp16")
        if init.name.startswith("/"):  # '/.../Constant_output_0': folded constants, not weights
            continue
        if not name.startswith("onnx::"):
            out[name] = a
            continue
        node, pos = consumers[cast_of.get(init.name, init.name)]
        role = _ROLE.get((node.op_type, pos))
        if role is None:
            continue  # a shape or index constant
        leaf, transposed = role
        key = f"{_module_path(node.name)}.{leaf}"
        if key in out:
            raise ValueError(f"{path.name}: two weights claim {key}")
        out[key] = a.T if transposed else a
    return out


def _load_graph(module: nn.Module, path) -> None:
    """Fill `module` from one ONNX file; a BatchNorm folded into its Conv becomes the identity."""
    weights = _initializers(path)
    mods = dict(module.named_modules())
    new: dict[str, torch.Tensor] = {}
    for key, value in module.state_dict().items():
        owner, _, leaf = key.rpartition(".")
        if isinstance(mods.get(owner), nn.BatchNorm2d):
            # folded into the Conv before it; identity BatchNorm keeps the folded Conv exact
            eps = mods[owner].eps
            fill = {"weight": 1.0, "bias": 0.0, "running_mean": 0.0, "running_var": 1.0 - eps}
            new[key] = torch.full_like(value, fill[leaf]) if leaf in fill else value
            continue
        if key not in weights:
            raise ValueError(f"{path.name}: no weight for {key} {tuple(value.shape)}")
        a = weights.pop(key)
        if a.shape != tuple(value.shape) and a.squeeze().shape == value.squeeze().shape:
            a = a.reshape(value.shape)  # a norm's affine, stored [C, 1, 1] after InstanceNormalization
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

    ids = SHIPPED[name]
    mod = importlib.import_module(f".recipes.{name}", __package__)
    run = runs / name
    if (run / "ckpt.pt").exists() and not torch.load(run / "ckpt.pt", weights_only=False).get("recovered_from"):
        raise SystemExit(f"{name}: runs/{name}/ckpt.pt is a training run; not overwriting it")
    run.mkdir(parents=True, exist_ok=True)
    entries = json.loads((weights / "manifest.json").read_text())["models"]
    entry = entries[ids[-1]]  # the last graph's entry holds the whole run: the VAE decoder's has the fine-tune the encoder sat out
    files = [entries[i]["file"] for i in ids]
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
        # float16 storage also rounds constants that are no parameter (the DiT's positional table): allow
        # the file's own recorded rounding effect, no more
        allowed = max(TOLERANCE, entries[ids[list(files).index(file)]].get("export_check", {}).get("max_abs_diff_vs_float32_weights", 0))
        if diffs[file] > allowed:
            raise ValueError(f"{name}: recovered {file} differs from the file by {diffs[file]:.2e} (allowed {allowed:.1e})")
    training = entry.get("training", {})
    # A trainer resuming from this finds its step cap reached and trains no further.
    torch.save({"model": model.state_dict(), "ema": None, "opt": None, "step": training.get("steps", 0),
                "elapsed": training.get("wall_time_s", 0.0), "generator": torch.Generator().manual_seed(0).get_state(),
                "config": {}, "segments": recorded_segments(training), "recovered_from": list(files)}, run / "ckpt.pt")
    (run / "summary.json").write_text(json.dumps({**training, "recovered_from_onnx": list(files)}, indent=2))
    print(f"{name}: recovered from {', '.join(files)}, max abs difference {max(diffs.values()):.1e}", flush=True)
    return diffs


def recorded_segments(training: dict) -> list[dict] | None:
    """The manifest's thread segments, each with its start time and hardware where the manifest implies them.

    Older manifests record only (from_step, threads, device); a one-segment run began at 0 s on the
    machine its `hardware` names, which is what a resumed run needs to say which steps ran where.
    """
    segments = training.get("segments")
    if not segments:
        return None
    out = [dict(s) for s in segments]
    if len(out) == 1:
        out[0].setdefault("from_elapsed_s", 0.0)
        if "hardware" in training:
            out[0].setdefault("hardware", training["hardware"])
    return out
