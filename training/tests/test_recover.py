"""training/recover.py: a frozen checkpoint read back from ONNX files reproduces the module that wrote them."""

import json

import pytest
import torch

from training.checkpoints import load_trained
from training.export import export
from training.recipes import emoji_judge, emoji_vae, mnist_judge, tiny_clip
from training.recover import SHIPPED, recorded_segments, recover
from training.tokenizer import WordTokenizer


def _randomise(model: torch.nn.Module) -> None:
    """Every weight distinct (the exporter shares identical initialisers, as trained weights never are) and
    non-trivial BatchNorm statistics, so the folding is exercised rather than a no-op."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.3)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)


def _ship(mod, weights, model, specs, extra=None):
    ids = SHIPPED[mod.NAME]
    for spec, mid in zip(specs, ids, strict=True):
        export(spec, weights / f"{mid}.onnx")
    entry = {"training": {"steps": 12, "wall_time_s": 3.0}, **(extra or {})}
    (weights / "manifest.json").write_text(json.dumps({"models": {mid: {**entry, "file": f"{mid}.onnx"} for mid in ids}}))


@pytest.mark.parametrize("mod", [mnist_judge, emoji_judge, emoji_vae])
def test_recovered_module_matches_the_original(tmp_path, mod, monkeypatch, mnist, emoji):
    torch.manual_seed(0)
    model = mod.make_model().eval()
    _randomise(model)
    weights, runs = tmp_path / "weights", tmp_path / "runs"
    weights.mkdir()
    specs = mod.export_specs(model, 1.0) if hasattr(mod, "export_specs") else (mod.export_spec(model),)
    _ship(mod, weights, model, specs, {"scaling_factor": 1.0})
    diffs = recover(mod.NAME, weights, runs)
    assert max(diffs.values()) < 1e-4
    monkeypatch.setattr("training.checkpoints.RUNS", runs)
    back = load_trained(mod)
    x = torch.rand(3, 3 if mod is not mnist_judge else 1, 32, 32) * 2 - 1
    with torch.no_grad():
        if mod is emoji_vae:
            want, got = model.encoder(x)[0], back.encoder(x)[0]
        else:
            want, got = model(x)[0], back(x)[0]
    assert torch.allclose(want, got, atol=1e-4)
    state = torch.load(runs / mod.NAME / "ckpt.pt", weights_only=False)
    assert state["step"] == 12 and state["opt"] is None  # a resuming trainer finds its cap reached


def test_clip_recovers_both_towers_and_the_temperature(tmp_path, monkeypatch, emoji):
    torch.manual_seed(0)
    tok = WordTokenizer.build(["red heart", "grinning face", "rocket"])
    model = tiny_clip.make_model(tok).eval()
    _randomise(model)
    weights, runs = tmp_path / "weights", tmp_path / "runs"
    weights.mkdir()
    tok.save(weights / "tokenizer.json")
    _ship(tiny_clip, weights, model, tiny_clip.export_specs(model, tok), {"metrics": {"logit_scale": 20.0}})
    recover(tiny_clip.NAME, weights, runs)
    monkeypatch.setattr("training.checkpoints.RUNS", runs)
    back = load_trained(tiny_clip, tok)
    ids = torch.tensor([tok.encode("red heart")])
    with torch.no_grad():
        assert torch.allclose(model.text(ids)[1], back.text(ids)[1], atol=1e-5)
    assert float(back.logit_scale.exp()) == pytest.approx(20.0, rel=1e-5)


def test_a_wrong_file_is_refused(tmp_path, mnist):
    """The emoji judge's file under the MNIST judge's name: shapes differ, so recovery must fail loudly."""
    weights = tmp_path / "weights"
    weights.mkdir()
    _ship(emoji_judge, weights, None, (emoji_judge.export_spec(emoji_judge.make_model().eval()),))
    (weights / "manifest.json").write_text(json.dumps({"models": {"mnist_judge": {"training": {}, "file": "emoji_judge.onnx"}}}))
    with pytest.raises(ValueError):
        recover("mnist_judge", weights, tmp_path / "runs")


def test_evaluate_only_keeps_the_shipped_file_and_entry(tmp_path, monkeypatch):
    """build(..., evaluate_only=True): export() hands back the manifest's entry and writes nothing."""
    from training import build

    target = tmp_path / "mnist_judge.onnx"
    entry = {"file": target.name, "sha256": "abc", "export_check": {"opset": 17}}
    monkeypatch.setattr(build, "_SHIPPED", {target.name: entry})
    got = build.export(mnist_judge.export_spec(mnist_judge.make_model().eval()), target)
    assert got == entry and got is not entry and not target.exists()
    monkeypatch.setattr(build, "_SHIPPED", None)
    assert build.export(mnist_judge.export_spec(mnist_judge.make_model().eval()), target)["file"] == target.name
    assert target.exists()


def test_evaluate_only_needs_no_run_for_an_unrecoverable_recipe(tmp_path, monkeypatch):
    """Without runs/<name>, an evaluate-only build keeps the shipped file and training block, loading no checkpoint."""
    from training import build
    from training.recipes import unclip_prior

    target = tmp_path / "unclip_prior.onnx"
    training = {"steps": 12, "wall_time_s": 3.0, "frozen": ["clip_text"]}
    entry = {"file": target.name, "sha256": "abc", "training": training}
    monkeypatch.setattr(build, "RUNS", tmp_path / "runs")
    monkeypatch.setattr("training.checkpoints.RUNS", tmp_path / "runs")
    monkeypatch.setattr(build, "_SHIPPED", {target.name: entry})
    monkeypatch.setattr(build, "_SHIPPED_BY_ID", {"unclip_prior": entry})
    monkeypatch.setattr(build, "load_trained", lambda *a: pytest.fail("loaded a checkpoint"))
    assert build.export_trained(unclip_prior, target) == entry and not target.exists()
    assert build.training_info("unclip_prior") == training
    (tmp_path / "runs" / "unclip_prior").mkdir(parents=True)  # an evaluation's out_dir is not a run
    assert build.training_info("unclip_prior") == training
    monkeypatch.setattr(build, "_SHIPPED", None)
    with pytest.raises(FileNotFoundError):  # a normal build reads the run
        build.training_info("unclip_prior")


def test_recorded_segments_say_when_and_where_a_one_machine_run_began():
    """A resumed recovered run reports each machine's share; older manifests record only (step, threads, device)."""
    gpu = {"cpu": "Xeon", "threads": 2, "gpu": "NVIDIA H100 80GB HBM3"}
    one = {"steps": 100, "device": "cuda", "hardware": gpu, "segments": [{"from_step": 0, "threads": 2, "device": "cuda"}]}
    assert recorded_segments(one) == [{"from_step": 0, "threads": 2, "device": "cuda", "from_elapsed_s": 0.0, "hardware": gpu}]
    assert one["segments"] == [{"from_step": 0, "threads": 2, "device": "cuda"}]  # the manifest's block is left as it was
    two = {**one, "segments": one["segments"] + [{"from_step": 50, "threads": 1, "device": "cpu"}]}
    assert recorded_segments(two) == two["segments"]  # which hardware ran the first half is not recorded: guess nothing
    assert recorded_segments({"steps": 3}) is None
