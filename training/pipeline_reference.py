"""Reference outputs of the site's pipelines, computed with the trained PyTorch modules.

The TypeScript pipelines run the exported ONNX files (onnxruntime-node in tests/unit, onnxruntime-web
in the browser); these numbers come from the PyTorch modules the files were exported from, through an
independent implementation of the sampling loop, so agreement checks the export, the runtime and the
TypeScript scheduler maths at once. Written to tests/fixtures/pipeline_reference.json.

Run after the models are trained: python -m training.pipeline_reference
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from .checkpoints import load_trained
from .data import load_emoji
from .export import round_weights_fp16, sha256
from .paths import WEIGHTS
from .schedule import SchedulerConfig, alphas_cumprod

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pipeline_reference.json"
NULL_CLASS = 10


@torch.no_grad()
def mnist_reference(class_label: int = 7, guidance: float = 2.0, steps: int = 10, seed: int = 0) -> dict:
    """DDIM (diffusers: leading spacing, set_alpha_to_one, clip_sample, use_clipped_model_output) with CFG."""
    from .recipes import mnist_ddpm as r

    model = load_trained(r)
    sched: SchedulerConfig = r.SCHEDULER
    ac = alphas_cumprod(sched).double()  # [T]
    ratio = sched.num_train_timesteps // steps
    timesteps = [i * ratio for i in range(steps)][::-1]
    latents = np.random.default_rng(seed).standard_normal((1, 1, 32, 32)).astype(np.float32)
    x = torch.from_numpy(latents)  # [1, 1, 32, 32]
    labels = torch.tensor([NULL_CLASS, class_label])
    for t in timesteps:
        out = model(torch.cat([x, x]), torch.full((2,), float(t)), labels)  # [2, 1, 32, 32]
        eps = out[0:1] + guidance * (out[1:2] - out[0:1])
        a_t = ac[t].float()
        a_prev = ac[t - ratio].float() if t - ratio >= 0 else torch.tensor(1.0)
        x0 = ((x - (1 - a_t).sqrt() * eps) / a_t.sqrt()).clamp(-1, 1)
        eps = (x - a_t.sqrt() * x0) / (1 - a_t).sqrt()  # use_clipped_model_output
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    return {
        "model": "mnist_ddpm",
        "onnx_sha256": sha256(WEIGHTS / "mnist_unet.onnx"),
        "class_label": class_label,
        "guidance_scale": guidance,
        "num_inference_steps": steps,
        "timesteps": timesteps,
        "latents": latents.ravel().tolist(),
        "image": x.numpy().ravel().tolist(),
    }


@torch.no_grad()
def vae_reference(index: int = 0) -> dict:
    """Encode a fixed validation emoji to its latent mean and decode it."""
    from .recipes import emoji_vae as r

    model = load_trained(r)
    emoji = load_emoji()
    val = np.flatnonzero(emoji["split"] == 1)  # 1 = validation (held-out base emoji)
    image = emoji["images"][val[index]].astype(np.float32) / 127.5 - 1  # [32, 32, 3]
    x = torch.from_numpy(image).permute(2, 0, 1)[None].contiguous()  # [1, 3, 32, 32]
    mean, logvar = model.encoder(x)
    recon = model.decoder(mean)
    return {
        "models": ["vae_encoder", "vae_decoder"],
        "onnx_sha256": {"vae_encoder": sha256(WEIGHTS / "emoji_vae_encoder.onnx"), "vae_decoder": sha256(WEIGHTS / "emoji_vae_decoder.onnx")},
        "validation_index": int(val[index]),
        "input": x.numpy().ravel().tolist(),
        "latent_mean": mean.numpy().ravel().tolist(),
        "latent_logvar": logvar.numpy().ravel().tolist(),
        "reconstruction": recon.numpy().ravel().tolist(),
    }


@torch.no_grad()
def text_to_image_reference(prompt: str = "red heart", guidance: float = 5.0, steps: int = 5, seed: int = 0,
                            original_size: int = 16) -> dict:
    """Mini SD: tiny-CLIP text states -> DDIM (SD settings) with CFG and SDXL time_ids -> VAE decode."""
    from .recipes import emoji_vae, mini_sd, tiny_clip

    tok = tiny_clip.load_tokenizer()
    clip = load_trained(tiny_clip, tok)
    unet = round_weights_fp16(load_trained(mini_sd))
    vae = load_trained(emoji_vae)
    scale = emoji_vae.scaling_factor(vae)
    ac = alphas_cumprod(mini_sd.SCHEDULER).double()
    ratio = mini_sd.SCHEDULER.num_train_timesteps // steps
    timesteps = [i * ratio + 1 for i in range(steps)][::-1]  # leading spacing, steps_offset 1
    ids = torch.tensor([tok.encode(""), tok.encode(prompt)])
    hidden, embeds = clip.text(ids)  # [2, L, D], [2, E]
    time_ids = torch.tensor([mini_sd.time_ids(original_size)] * 2)
    latents = np.random.default_rng(seed).standard_normal((1, 4, 8, 8)).astype(np.float32)
    x = torch.from_numpy(latents)
    for t in timesteps:
        out, _ = unet(torch.cat([x, x]), torch.full((2,), float(t)), hidden, embeds, time_ids)
        eps = out[0:1] + guidance * (out[1:2] - out[0:1])
        a_t = ac[t].float()
        a_prev = ac[t - ratio].float() if t - ratio >= 0 else ac[0].float()  # set_alpha_to_one False
        x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    image = vae.decoder(x / scale)
    return {
        "models": ["clip_text", "sd_unet", "vae_decoder"],
        "onnx_sha256": {"sd_unet": sha256(WEIGHTS / "sd_unet.onnx"), "clip_text": sha256(WEIGHTS / "clip_text.onnx")},
        "prompt": prompt, "guidance_scale": guidance, "num_inference_steps": steps, "original_size": [original_size, original_size],
        "timesteps": timesteps, "latents": latents.ravel().tolist(),
        "final_latents": x.numpy().ravel().tolist(), "image": image.numpy().ravel().tolist(),
    }


def main() -> None:
    reference = {
        "provenance": "python -m training.pipeline_reference: trained PyTorch modules (training/runs/*/ckpt.pt), float32, CPU",
        "mnist": mnist_reference(),
        "vae": vae_reference(),
        "text_to_image": text_to_image_reference(),
    }
    OUT.write_text(json.dumps(reference))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
