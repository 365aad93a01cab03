"""Quality metrics: Fréchet distance (FID, Heusel et al. 2017), PSNR and SSIM (Wang et al. 2004)."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F


def _sqrtm_psd(m: np.ndarray) -> np.ndarray:
    """Symmetric PSD matrix square root by eigen-decomposition."""
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^1/2) for feature sets a [N, D], b [M, D] (FID)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # Tr((S_a S_b)^1/2) = Tr((S_a^1/2 S_b S_a^1/2)^1/2), whose argument is symmetric PSD.
    ra = _sqrtm_psd(s_a)
    covmean_trace = np.trace(_sqrtm_psd(ra @ s_b @ ra))
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(s_a) + np.trace(s_b) - 2 * covmean_trace)


def psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB for images in [0, 1]: 10 log10(1 / MSE). x, y [N, C, H, W] -> [N]."""
    mse = ((x - y) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1.0 / mse)


def ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Per-image SSIM (Wang et al. 2004, Gaussian 11x11 window, sigma 1.5, K1=0.01, K2=0.03) in [0, 1] range."""
    c = x.shape[1]
    coords = torch.arange(window, dtype=torch.float32) - window // 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    kernel = (g[:, None] * g[None, :]).expand(c, 1, window, window).contiguous()  # [C, 1, k, k]

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, kernel, groups=c)  # 'valid' window positions, as skimage/Wang's reference

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    c1, c2 = 0.01**2, 0.03**2
    s = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (sxx + syy + c2))
    return s.flatten(1).mean(1)


def background_grid(x: torch.Tensor, radius: int = 3) -> dict:
    """How much a 2x2 grid shows in the background of dark-background images (MNIST digits).

    x [N, 1, H, W] in [-1, 1]. Background = pixels with no stroke (value > -0.9) within `radius` px.
    speckle = their mean level in 8-bit units (0 for real digits, whose background is exact black);
    phase_spread = max - min over the 4 positions of a 2x2 block of that mean: a pattern tied to the
    2x2 space-to-depth grid shows as a spread, noise without the grid does not.
    """
    v = (x.clamp(-1, 1) + 1) * 127.5  # [N, 1, H, W] in 0..255
    far = F.max_pool2d(x, 2 * radius + 1, 1, radius) < -0.9  # [N, 1, H, W]
    n, _, h, w = x.shape
    phases = (v * far).reshape(n, h // 2, 2, w // 2, 2).sum(dim=(0, 1, 3))  # [2, 2]
    counts = far.float().reshape(n, h // 2, 2, w // 2, 2).sum(dim=(0, 1, 3)).clamp(min=1)
    means = phases / counts
    return {"speckle": round(float(v[far].mean()) if far.any() else 0.0, 3), "phase_spread": round(float(means.max() - means.min()), 3),
            "background_share": round(float(far.float().mean()), 3)}
