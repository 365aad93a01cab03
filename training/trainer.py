"""A small resumable training loop shared by every recipe: checkpoints, EMA, time budget, progress."""

from __future__ import annotations

import copy
import json
import math
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from torch import nn

from .paths import RUNS


@dataclass
class TrainConfig:
    """Budget and optimiser settings common to all recipes (each recipe overrides its defaults)."""

    steps: int = 1000  # step cap: training stops at steps or max_minutes, whichever comes first
    max_minutes: float = 60.0  # wall-clock cap across resumes (the per-model budget)
    batch_size: int = 64
    lr: float = 5e-4
    warmup_steps: int = 100  # linear warm-up keeps Adam's first, noisy moments from blowing up
    weight_decay: float = 0.0
    ema_decay: float = 0.0  # 0 disables EMA; diffusion models sample far better from EMA weights
    grad_clip: float = 1.0
    threads: int = 2  # `build all` trains one model at a time; pass --threads 1 to run two side by side
    seed: int = 0
    log_every: int = 25
    ckpt_minutes: float = 2.0  # how much work a crash can lose
    device: str = "cpu"


def overridden(cfg: TrainConfig, **kw) -> TrainConfig:
    """`cfg` with the CLI's overrides applied (None = keep the recipe's default)."""
    return replace(cfg, **{k: v for k, v in kw.items() if v is not None})


def hardware() -> dict:
    """CPU model string and thread count, recorded in the manifest next to wall times."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"cpu": cpu, "threads": torch.get_num_threads(), "torch": torch.__version__}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


class Trainer:
    """Runs `loss_fn(model, step, generator)` for a step/time budget and checkpoints to runs/<name>/."""

    def __init__(self, name: str, model: nn.Module, cfg: TrainConfig, run_dir: Path | None = None):
        self.name = name
        self.cfg = cfg
        self.dir = run_dir or RUNS / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.device = torch.device(cfg.device)
        self.model = model.to(self.device)
        self.ema = copy.deepcopy(model).eval().requires_grad_(False) if cfg.ema_decay > 0 else None
        self.opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.step = 0
        self.elapsed = 0.0  # seconds of training so far, summed over resumes
        self.loss_ema: float | None = None
        self.segments: list[dict] = []  # one entry per (re)start: where it began and with how many threads
        self.rewarm_from = 0  # the step Adam's moments last started from zero: the linear warm-up counts from here
        self.generator = torch.Generator().manual_seed(cfg.seed)
        self.log_file = self.dir / "train.log"
        self._resume()

    @property
    def ckpt_path(self) -> Path:
        """runs/<name>/ckpt.pt: model, EMA, optimiser, RNG, step and elapsed time."""
        return self.dir / "ckpt.pt"

    def _resume(self) -> None:
        """Continue from ckpt.pt if present (weights, optimiser, RNG, step, elapsed time)."""
        if not self.ckpt_path.exists():
            return
        state = torch.load(self.ckpt_path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.step, self.elapsed = state["step"], state["elapsed"]
        self.rewarm_from = state.get("rewarm_from", 0)
        if state.get("opt") is not None:
            self.opt.load_state_dict(state["opt"])
        else:  # slim or recovered checkpoints keep no optimiser state: Adam restarts, so the learning rate warms up again
            self.rewarm_from = self.step
        if self.ema is not None:
            # a recovered checkpoint has no EMA: start it from the loaded weights, not from the fresh initialisation
            self.ema.load_state_dict(state["ema"] if state.get("ema") is not None else state["model"])
        self.loss_ema = state.get("loss_ema")
        self.generator.set_state(state["generator"].cpu())  # map_location moves it with the weights
        prev = state.get("config", {})
        self.segments = state.get("segments") or [{"from_step": 0, "threads": prev.get("threads"), "device": prev.get("device")}]
        self.log(f"resumed from step {self.step} ({self.elapsed / 60:.1f} min trained)")

    def save(self) -> None:
        """Atomic checkpoint (write then rename) so a kill mid-save never corrupts the resume point."""
        state = {
            "model": self.model.state_dict(), "opt": self.opt.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "step": self.step, "elapsed": self.elapsed, "loss_ema": self.loss_ema,
            "generator": self.generator.get_state(), "config": asdict(self.cfg), "segments": self.segments,
            "rewarm_from": self.rewarm_from,
        }
        tmp = self.ckpt_path.with_suffix(".tmp")
        torch.save(state, tmp)
        tmp.replace(self.ckpt_path)

    def log(self, msg: str) -> None:
        """Timestamped line to stdout and runs/<name>/train.log."""
        line = f"[{time.strftime('%H:%M:%S')}] {self.name}: {msg}"
        print(line, flush=True)
        with self.log_file.open("a") as f:
            f.write(line + "\n")

    def lr_at(self, step: int) -> float:
        """Linear warm-up then cosine decay to 10% (Loshchilov & Hutter 2017, no restarts).

        Progress is the larger of the step and the time fraction, so the decay completes
        whichever budget binds first instead of stopping mid-schedule at the time limit. A resume
        that lost Adam's moments (`rewarm_from`) ramps linearly up to the cosine's value again.
        """
        c = self.cfg
        if step < c.warmup_steps:
            return c.lr * (step + 1) / c.warmup_steps
        p_steps = (step - c.warmup_steps) / max(1, c.steps - c.warmup_steps)
        p = min(1.0, max(p_steps, self.elapsed / (c.max_minutes * 60)))
        lr = c.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))
        return lr * min(1.0, (step - self.rewarm_from + 1) / c.warmup_steps)

    @torch.no_grad()
    def _update_ema(self) -> None:
        """Polyak/EMA weights with the (1 + n) / (10 + n) warm-up used by diffusers' EMAModel."""
        d = min(self.cfg.ema_decay, (1 + self.step) / (10 + self.step))
        # one fused kernel per dtype group instead of one per tensor: the launch count binds on a GPU
        torch._foreach_lerp_(list(self.ema.parameters()), [p.detach() for p in self.model.parameters()], 1 - d)
        for be, bm in zip(self.ema.buffers(), self.model.buffers()):
            be.copy_(bm)

    def fit(self, loss_fn: Callable[[nn.Module, int, torch.Generator], torch.Tensor]) -> dict:
        """Train until the step cap or the time budget; returns the run summary for the manifest."""
        c = self.cfg
        torch.set_num_threads(c.threads)
        budget = c.max_minutes * 60
        if self.step < c.steps and self.elapsed < budget:
            # where and when each (re)start began, so a run that moved between machines reports each part's share
            seg = {"from_step": self.step, "from_elapsed_s": round(self.elapsed, 1), "threads": c.threads, "device": c.device,
                   "hardware": {**hardware(), "threads": c.threads}}
            if not self.segments or {k: self.segments[-1][k] for k in ("threads", "device")} != {k: seg[k] for k in ("threads", "device")}:
                self.segments.append(seg)
        self.log(f"start step={self.step}/{c.steps} budget={c.max_minutes} min threads={c.threads} device={c.device}")
        self.model.train()
        t_last_ckpt = time.time()
        t_window, s_window = time.time(), self.step
        loss_ema_t = None if self.loss_ema is None else torch.tensor(self.loss_ema, device=self.device)
        while self.step < c.steps and self.elapsed < budget:
            t0 = time.time()
            for g in self.opt.param_groups:
                g["lr"] = self.lr_at(self.step)
            loss = loss_fn(self.model, self.step, self.generator)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            if c.grad_clip:
                nn.utils.clip_grad_norm_(self.model.parameters(), c.grad_clip)
            self.opt.step()
            if self.ema is not None:
                self._update_ema()
            self.step += 1
            # The running loss stays a device tensor: reading it every step would make the CPU wait for the GPU.
            lv_t = loss.detach()
            loss_ema_t = lv_t if loss_ema_t is None else 0.98 * loss_ema_t + 0.02 * lv_t
            if self.step % c.log_every == 0 or self.step == c.steps:
                lv, self.loss_ema = float(lv_t), float(loss_ema_t)
                rate = (self.step - s_window) / max(1e-9, time.time() - t_window)
                t_window, s_window = time.time(), self.step
                eta = min((c.steps - self.step) / max(rate, 1e-9), budget - self.elapsed)
                self.log(
                    f"step {self.step}/{c.steps} loss {lv:.4f} (avg {self.loss_ema:.4f}) "
                    f"lr {self.lr_at(self.step):.2e} {rate:.2f} steps/s "
                    f"elapsed {self.elapsed / 60:.1f} min ETA {eta / 60:.1f} min"
                )
            self.elapsed += time.time() - t0  # on a GPU, queued work is paid for at the next log line's sync
            if time.time() - t_last_ckpt > c.ckpt_minutes * 60:
                self.loss_ema = float(loss_ema_t)
                self.save()
                t_last_ckpt = time.time()
        if loss_ema_t is not None:
            self.loss_ema = float(loss_ema_t)
        self.save()
        summary = {
            "steps": self.step, "batch_size": c.batch_size, "wall_time_s": round(self.elapsed, 1),
            "max_minutes": c.max_minutes, "step_cap": c.steps, "final_loss_ema": self.loss_ema,
            "lr": c.lr, "ema_decay": c.ema_decay, "seed": c.seed, "device": c.device,
            "hardware": {**hardware(), "threads": c.threads},
            "segments": self.segments,
        }
        (self.dir / "summary.json").write_text(json.dumps(summary, indent=2))
        self.log(f"done: {self.step} steps in {self.elapsed / 60:.1f} min")
        return summary

    def final_model(self) -> nn.Module:
        """The weights to ship: EMA when enabled, else the raw model."""
        return (self.ema if self.ema is not None else self.model).eval()


def slim_checkpoint(src: Path, dst: Path) -> None:
    """A copy of ckpt.pt without the optimiser state (a third to a half of its bytes), for shipping a run
    between machines; `build --no-train` and a resumed run both load it (a resumed run restarts Adam's moments)."""
    state = torch.load(src, map_location="cpu", weights_only=False)
    state["opt"] = None
    if state.get("ema") is not None:
        state["model"] = state["ema"]  # the EMA weights are the ones exported; keep one copy
    torch.save(state, dst)
