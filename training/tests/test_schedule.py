"""Schedule and DDIM sampler agree with diffusers' DDPMScheduler / DDIMScheduler conventions."""

import torch

from training.schedule import DDIMConfig, SchedulerConfig, add_noise, alphas_cumprod, ddim_sample, ddim_timesteps


def test_linear_alphas_cumprod():
    ac = alphas_cumprod(SchedulerConfig())
    assert ac.shape == (1000,)
    assert abs(float(ac[0]) - 0.9999) < 1e-7
    assert abs(float(ac[-1]) - 4.0358e-5) < 1e-8  # diffusers linear 1e-4..0.02, 1000 steps


def test_ddim_leading_timesteps():
    ts = ddim_timesteps(DDIMConfig(num_inference_steps=50), 1000)
    assert ts[0] == 980 and ts[-1] == 0 and len(ts) == 50


def test_ddim_with_oracle_eps_recovers_data():
    """If the model returns the true noise of a fixed x0, DDIM must land on that x0."""
    sched = SchedulerConfig()
    ac = alphas_cumprod(sched)
    x0 = torch.rand(4, 1, 8, 8) * 1.6 - 0.8

    def oracle(x, t):
        a = ac[t.long()].view(-1, 1, 1, 1)
        return (x - a.sqrt() * x0) / (1 - a).sqrt()

    out = ddim_sample(oracle, x0.shape, sched, DDIMConfig(num_inference_steps=20), torch.Generator().manual_seed(0))
    assert torch.allclose(out, x0, atol=1e-4)


def test_add_noise_matches_closed_form():
    ac = alphas_cumprod(SchedulerConfig())
    x0, n = torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)
    xt = add_noise(x0, n, torch.tensor([0, 999]), ac)
    assert torch.allclose(xt[:, 0, 0, 0], ac[[0, 999]].sqrt())
