"""Mini rectified flow: the mini Stable Diffusion UNet retrained with flow matching (Lipman et al. 2023;
Liu et al. 2023) as Stable Diffusion 3 trains it (Esser et al. 2024): x_t = (1 - t) x0 + t eps on the
same scaled emoji VAE latents, velocity target v = eps - x0, timesteps t ~ logit-normal(0, 1).

Everything but the objective is `mini_sd`'s: the UNet configuration, the cached views with SDXL
micro-conditioning, the prompt dropout for classifier-free guidance, and the step/batch budget of the
shipped `sd_unet` run (7,523 steps at batch 128, read from the manifest). The frozen VAE encoder and
text encoder are the shipped ONNX files themselves, so the cache can be built on any machine that has
`public/weights` (a fresh `build all` exports them before this recipe runs).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from functools import partial

import numpy as np
import torch

from ..data import load_emoji
from ..export import ExportSpec, cpu_session
from ..models.vae import sample_posterior
from ..paths import RUNS, WEIGHTS
from ..tokenizer import WordTokenizer
from ..trainer import TrainConfig, Trainer, overridden
from . import mini_sd

NAME = "mini_flow"
UNET = mini_sd.UNET  # same architecture as sd_unet: the comparison is about the objective, not the network
P_UNCOND = mini_sd.P_UNCOND
NUM_TRAIN_TIMESTEPS = 1000  # the model sees t * 1000, as SD3's transformer sees sigma * 1000
LOGIT_NORMAL = (0.0, 1.0)  # SD3's best timestep density (sec. 3.1): more weight on the middle of the path
TRAIN = TrainConfig(
    steps=7523,  # sd_unet's shipped run: 7,523 steps at batch 128 (manifest sd_unet.training)
    max_minutes=70.0,  # a CPU cap (2 threads here: ~0.5 s a step, so it binds before the step cap); on a GPU the step cap binds
    batch_size=128,
    lr=5e-4,
    warmup_steps=200,
    ema_decay=0.999,
)


def make_model():
    """The ~2.4M-parameter text-conditional latent UNet of mini_sd; its output is now a velocity."""
    return mini_sd.make_model()


def export_spec(model) -> ExportSpec:
    """mini_sd's UNet graph (same inputs and outputs), stored with int8 weight matrices instead of float16."""
    return replace(mini_sd.export_spec(model), fp16_weights=False, int8_weights=True)


def load_tokenizer() -> WordTokenizer:
    """The shipped tokenizer (the one the shipped text encoder was trained with)."""
    return WordTokenizer.load(WEIGHTS / "tokenizer.json")


class OnnxFrozen:
    """The shipped VAE and tiny CLIP as onnxruntime sessions: what every figure runs, frozen by construction."""

    def __init__(self, threads: int = 1):
        m = json.loads((WEIGHTS / "manifest.json").read_text())["models"]
        self.scaling_factor = float(m["vae_encoder"]["scaling_factor"])
        self.tok = load_tokenizer()
        self.encoder = cpu_session(WEIGHTS / "emoji_vae_encoder.onnx", threads)
        self.decoder = cpu_session(WEIGHTS / "emoji_vae_decoder.onnx", threads)
        self.text = cpu_session(WEIGHTS / "clip_text.onnx", threads)
        self.image = cpu_session(WEIGHTS / "clip_image.onnx", threads)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """RGB [B, 3, 32, 32] in [-1, 1] -> posterior mean and log-variance [B, 4, 8, 8]."""
        mean, logvar = self.encoder.run(None, {"sample": x.numpy()})
        return torch.from_numpy(mean), torch.from_numpy(logvar)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Unscaled latents [B, 4, 8, 8] -> RGB [B, 3, 32, 32] in [-1, 1]."""
        return torch.from_numpy(self.decoder.run(None, {"latent_sample": z.numpy()})[0]).clamp(-1, 1)

    def prompts(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """last_hidden_state [N, L, D] and text_embeds [N, E] of each prompt."""
        ids = np.array([self.tok.encode(p) for p in prompts], dtype=np.int64)
        h, e = self.text.run(["last_hidden_state", "text_embeds"], {"input_ids": ids})
        return torch.from_numpy(h), torch.from_numpy(e)

    def image_embeds(self, x: torch.Tensor) -> torch.Tensor:
        """RGB [B, 3, 32, 32] in [-1, 1] -> image_embeds [B, E]."""
        return torch.from_numpy(self.image.run(["image_embeds"], {"pixel_values": x.numpy()})[0])


@torch.no_grad()
def build_cache(seed: int = 0) -> dict:
    """mini_sd's cache (same views, same seed, same captions), encoded by the shipped ONNX encoders."""
    path = RUNS / NAME / "cache.pt"
    if path.exists():
        return torch.load(path, weights_only=False)
    frozen = OnnxFrozen(threads=torch.get_num_threads())
    d = load_emoji()
    mask = d["split"] == 0
    x = torch.from_numpy(d["images"][mask]).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)  # [N, 3, 32, 32]
    g = torch.Generator().manual_seed(seed)
    views, ids = [x], [torch.tensor([mini_sd.time_ids(mini_sd.TARGET_SIZE)] * len(x))]
    for _ in range(mini_sd.AUGMENTATIONS - 1):
        v, i = mini_sd.micro_augment(x, g)
        views.append(v)
        ids.append(i)
    means, logvars = [], []
    for v in views:
        for j in range(0, len(v), 512):
            m, lv = frozen.encode(v[j : j + 512].contiguous())
            means.append(m)
            logvars.append(lv)
    caps = [json.loads(c) for c in d["captions"][mask]]
    prompts = ["", *sorted({c for cs in caps for c in cs})]
    index = {p: i for i, p in enumerate(prompts)}
    hs, es = zip(*(frozen.prompts(prompts[i : i + 1024]) for i in range(0, len(prompts), 1024)))
    cache = {
        "mean": torch.cat(means), "logvar": torch.cat(logvars),  # [K*N, 4, 8, 8], view k of image i at k*N + i
        "time_ids": torch.cat(ids),  # [K*N, 6]
        "captions": [torch.tensor([index[c] for c in cs]) for cs in caps],
        "hidden": torch.cat(hs), "embeds": torch.cat(es),  # [P, L, D], [P, E]; prompt 0 is the empty prompt
        "scaling_factor": frozen.scaling_factor, "num_images": len(x),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(cache, path)
    return cache


def sample_t(b: int, g: torch.Generator) -> torch.Tensor:
    """SD3's logit-normal timestep density: t = sigmoid(m + s * n), n ~ N(0, 1); t in (0, 1)."""
    m, s = LOGIT_NORMAL
    return torch.sigmoid(m + s * torch.randn(b, generator=g))


def train(cfg: TrainConfig = TRAIN, subset: int | None = None, run_dir=None) -> Trainer:
    """Conditional flow matching: MSE between the UNet's output at x_t and the velocity eps - x0."""
    cache = build_cache()
    n = cache["num_images"] if not subset else min(subset, cache["num_images"])
    scale = cache["scaling_factor"]
    trainer = Trainer(NAME, make_model(), cfg, run_dir)

    def loss_fn(model, step, g):
        b = cfg.batch_size
        img = torch.randint(0, n, (b,), generator=g)
        view = torch.randint(0, mini_sd.AUGMENTATIONS, (b,), generator=g) * cache["num_images"] + img
        mean, logvar = cache["mean"][view], cache["logvar"][view]
        x0 = sample_posterior(mean, logvar, g) * scale  # [B, 4, 8, 8]
        caps = torch.stack([c[torch.randint(0, len(c), (1,), generator=g)][0] for c in (cache["captions"][i] for i in img.tolist())])
        caps[torch.rand(b, generator=g) < P_UNCOND] = 0  # the empty prompt
        t = sample_t(b, g)  # [B]
        noise = torch.randn(x0.shape, generator=g)
        tt = t.view(b, 1, 1, 1)
        xt = (1 - tt) * x0 + tt * noise  # the straight path (rectified flow, eq. 1 of Liu et al.)
        dev = trainer.device
        v, _ = model(xt.to(dev), (t * NUM_TRAIN_TIMESTEPS).to(dev), cache["hidden"][caps].to(dev), cache["embeds"][caps].to(dev),
                     cache["time_ids"][view].to(dev))
        return torch.mean((v - (noise - x0).to(dev)) ** 2)

    trainer.summary = trainer.fit(loss_fn)
    return trainer


with_overrides = partial(overridden, TRAIN)


def flow_sigmas(steps: int, shift: float = 1.0) -> list[float]:
    """diffusers FlowMatchEulerDiscreteScheduler.set_timesteps: sigmas from 1 to 1/T, shifted, then 0."""
    s = np.linspace(1.0, 1.0 / NUM_TRAIN_TIMESTEPS, steps)
    s = shift * s / (1 + (shift - 1) * s)  # SD3's timestep shift (Esser et al. 2024, eq. 23)
    return [float(v) for v in s] + [0.0]


@torch.no_grad()
def sample_flow(unet, shape, hidden, embeds, empty, ids, guidance: float, steps: int, seed: int = 0, shift: float = 1.0,
                x: torch.Tensor | None = None) -> torch.Tensor:
    """Euler on dx/dsigma = v from sigma = 1 (noise) to 0, with classifier-free guidance on v; `x` replaces the seeded noise."""
    b = shape[0]
    eh, ee = empty[0].expand(b, -1, -1), empty[1].expand(b, -1)
    if x is None:
        x = torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    sig = flow_sigmas(steps, shift)
    for s, s_next in itertools.pairwise(sig):
        t = torch.full((b,), s * NUM_TRAIN_TIMESTEPS)
        if guidance <= 1.0:
            v = unet(x, t, hidden, embeds, ids)
        else:
            out = unet(torch.cat([x, x]), torch.cat([t, t]), torch.cat([eh, hidden]), torch.cat([ee, embeds]), torch.cat([ids, ids]))
            u, c = out.chunk(2)
            v = u + guidance * (c - u)
        x = x + (s_next - s) * v
    return x


@torch.no_grad()
def sample_ddim(unet, shape, hidden, embeds, empty, ids, guidance: float, steps: int, seed: int = 0) -> torch.Tensor:
    """sd_unet's DDIM with trailing spacing (so one step starts from t = 999, not t = 1)."""
    from ..schedule import DDIMConfig, ddim_sample

    b = shape[0]
    eh, ee = empty[0].expand(b, -1, -1), empty[1].expand(b, -1)

    def fn(x, t):
        if guidance <= 1.0:
            return unet(x, t, hidden, embeds, ids)
        eps = unet(torch.cat([x, x]), torch.cat([t, t]), torch.cat([eh, hidden]), torch.cat([ee, embeds]), torch.cat([ids, ids]))
        u, c = eps.chunk(2)
        return u + guidance * (c - u)

    cfg = DDIMConfig(num_inference_steps=steps, timestep_spacing="trailing", clip_sample=False, set_alpha_to_one=False)
    return ddim_sample(fn, shape, mini_sd.SCHEDULER, cfg, torch.Generator().manual_seed(seed))


STEP_COUNTS = (1, 2, 4, 8, 25)
GUIDANCE = 5.0  # sd_unet's recommended guidance scale (manifest sd_unet.recommended_sampling)


@torch.no_grad()
def evaluate(flow_path, sd_path=WEIGHTS / "sd_unet.onnx", threads: int = 1, out_dir=None) -> dict:
    """Tiny CLIP retrieval of held-out prompts at 1/2/4/8/25 steps: this flow model (Euler) beside sd_unet (DDIM)."""
    from ..evaluate_ddpm import save_grid_rgb

    frozen = OnnxFrozen(threads)
    flow, sd = mini_sd.onnx_text_unet(flow_path, threads), mini_sd.onnx_text_unet(sd_path, threads)
    d = load_emoji()
    caps, _ = mini_sd._primary_captions(d, 1)
    hidden, embeds = frozen.prompts(caps)
    empty = frozen.prompts([""])
    ids = torch.tensor([mini_sd.time_ids(mini_sd.TARGET_SIZE)] * len(caps))
    txt = torch.nn.functional.normalize(embeds, dim=-1)
    shape = (len(caps), UNET.in_channels, UNET.sample_size, UNET.sample_size)

    def score(z: torch.Tensor) -> dict:
        img = frozen.decode(z / frozen.scaling_factor)
        sim = torch.nn.functional.normalize(frozen.image_embeds(img), dim=-1) @ txt.t()  # [N, N]
        rank = (sim > sim.diagonal()[:, None]).sum(1)
        return {"top1": float((rank < 1).float().mean()), "top5": float((rank < 5).float().mean())}, img

    results: dict = {
        "protocol": (f"one image per distinct held-out primary caption ({len(caps)} prompts), seed 0, guidance {GUIDANCE:g}, decoded by "
                     "the shipped VAE; the tiny CLIP ranks the image's own caption among all of them (top-1 / top-5). This model: "
                     "Euler on the flow (FlowMatchEulerDiscreteScheduler, shift 1); sd_unet: DDIM eta 0 with trailing spacing, "
                     "so that one step starts from pure noise at t = 999"),
        "guidance_scale": GUIDANCE, "prompts": len(caps), "flow": {}, "sd_unet": {},
    }
    for steps in STEP_COUNTS:
        for key, make in (("flow", lambda steps=steps: sample_flow(flow, shape, hidden, embeds, empty, ids, GUIDANCE, steps)),
                          ("sd_unet", lambda steps=steps: sample_ddim(sd, shape, hidden, embeds, empty, ids, GUIDANCE, steps))):
            s, img = score(make())
            results[key][str(steps)] = s
            print(f"{key} {steps} steps: {s}", flush=True)
            if out_dir is not None:
                save_grid_rgb(img[:64], out_dir / f"samples_{key}_{steps}_steps.png", nrow=8)
    return results
