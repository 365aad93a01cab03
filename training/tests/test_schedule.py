"""Schedule and DDIM sampler agree with diffusers' DDPMScheduler / DDIMScheduler conventions."""

import torch

from training.schedule import (
    DDIMConfig,
    SchedulerConfig,
    add_noise,
    alphas_cumprod,
    ddim_sample,
    ddim_timesteps,
    velocity,
)


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


def test_ddim_with_oracle_v_recovers_data():
    """v-prediction (the upsampler's target): the true v of a fixed x0 must also land DDIM on that x0."""
    sched = SchedulerConfig(beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction")
    ac = alphas_cumprod(sched)
    x0 = torch.rand(4, 3, 8, 8) * 1.6 - 0.8
    g = torch.Generator().manual_seed(1)

    def oracle(x, t):
        a = ac[t.long()].view(-1, 1, 1, 1)
        eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
        return velocity(x0, eps, t.long(), ac)

    out = ddim_sample(oracle, x0.shape, sched, DDIMConfig(num_inference_steps=25), g)
    assert torch.allclose(out, x0, atol=1e-4)
    noise = torch.randn(x0.shape, generator=g)
    t = torch.tensor([0, 250, 500, 999])
    v = velocity(x0, noise, t, ac)
    a = ac[t].view(-1, 1, 1, 1)
    assert torch.allclose(a.sqrt() * add_noise(x0, noise, t, ac) - (1 - a).sqrt() * v, x0, atol=1e-5)  # x0 from (x_t, v)


def test_add_noise_matches_closed_form():
    ac = alphas_cumprod(SchedulerConfig())
    x0, n = torch.ones(2, 1, 2, 2), torch.zeros(2, 1, 2, 2)
    xt = add_noise(x0, n, torch.tensor([0, 999]), ac)
    assert torch.allclose(xt[:, 0, 0, 0], ac[[0, 999]].sqrt())
