"""Sample the MNIST UNet with DDIM + classifier-free guidance and score it with the judge."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .export import cpu_session
from .metrics import background_grid, frechet_distance
from .recipes.mnist_judge import classify
from .schedule import DDIMConfig, SchedulerConfig, cfg_model_fn, ddim_sample

UNetFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def onnx_unet(path: Path, threads: int = 1) -> UNetFn:
    """Wrap the exported UNet in an onnxruntime session, so the shipped file itself is what gets scored."""
    sess = cpu_session(path, threads)

    def fn(x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = sess.run(["out_sample"], {"sample": x.numpy(), "timestep": t.numpy().astype(np.float32), "class_labels": y.numpy()})
        return torch.from_numpy(out[0])

    return fn


def save_grid(x: torch.Tensor, path: Path, nrow: int = 10) -> None:
    """Images [N, 1, H, W] in [-1, 1] -> one PNG grid, for eyeballing samples."""
    n, _, h, w = x.shape
    rows = (n + nrow - 1) // nrow
    grid = np.zeros((rows * h, nrow * w), dtype=np.uint8)
    a = ((x[:, 0].clamp(-1, 1) + 1) * 127.5).round().byte().numpy()
    for i in range(n):
        r, c = divmod(i, nrow)
        grid[r * h : (r + 1) * h, c * w : (c + 1) * w] = a[i]
    Path(path).parent.mkdir(parents=True, exist_ok=True)  # an evaluate-only build may have no run folder
    Image.fromarray(grid).save(path)


def evaluate(
    unet: UNetFn,
    judge: torch.nn.Module,
    test_images: torch.Tensor,
    sched: SchedulerConfig,
    guidance_scales: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0),
    samples: dict[float, int] | None = None,
    ddim: DDIMConfig = DDIMConfig(),
    null_class: int = 10,
    batch: int = 250,
    out_dir: Path | None = None,
    seed: int = 0,
) -> dict:
    """Class accuracy (judge argmax == requested digit) and MNIST-FID (judge features vs the test split)."""
    samples = samples or dict.fromkeys(guidance_scales, 1000)
    _, ref_feats = classify(judge, test_images)
    ref = ref_feats.double().numpy()
    results: dict[str, dict] = {}
    for g in guidance_scales:
        t0 = time.time()
        n = samples[g]
        labels = torch.arange(n) % 10  # balanced digits
        gen = torch.Generator().manual_seed(seed)
        xs = []
        for i in range(0, n, batch):
            lab = labels[i : i + batch]
            fn = cfg_model_fn(unet, lab, g, null_class)
            xs.append(ddim_sample(fn, (len(lab), 1, 32, 32), sched, ddim, gen))
        x = torch.cat(xs)  # [N, 1, 32, 32]
        logits, feats = classify(judge, x)
        acc = float((logits.argmax(1) == labels).float().mean())
        results[f"guidance_{g:g}"] = {
            "guidance_scale": g,
            "samples": n,
            "class_accuracy": acc,
            "mnist_fid": frechet_distance(feats.double().numpy(), ref),
            "background_grid": background_grid(x),
            "seconds": round(time.time() - t0, 1),
        }
        print(f"guidance {g:g}: accuracy {acc:.4f} FID {results[f'guidance_{g:g}']['mnist_fid']:.2f} ({n} samples)", flush=True)
        if out_dir is not None:
            save_grid(x[:100], out_dir / f"samples_guidance_{g:g}.png")
    return results


def save_grid_rgb(x: torch.Tensor, path: Path, nrow: int = 8) -> None:
    """RGB images [N, 3, H, W] in [-1, 1] -> one PNG grid."""
    n, _, h, w = x.shape
    rows = (n + nrow - 1) // nrow
    grid = np.full((rows * h, nrow * w, 3), 255, dtype=np.uint8)
    a = ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
    for i in range(n):
        r, c = divmod(i, nrow)
        grid[r * h : (r + 1) * h, c * w : (c + 1) * w] = a[i]
    Path(path).parent.mkdir(parents=True, exist_ok=True)  # an evaluate-only build may have no run folder
    Image.fromarray(grid).save(path)
