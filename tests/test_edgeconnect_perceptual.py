"""VGG19 perceptual/style losses and their weights resolution (used by EdgeConnect; later SPG-Net)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from bench.registry import register_all_modules
from methods.common.optim import MultiOptimWrapperConstructor
from methods.common.perceptual import VGG19_LAYERS, PerceptualLoss, StyleLoss, VGG19Features, gram_matrix
from methods.common.weights_resolver import VGG19, WeightsNotFoundError, resolve_weights
from methods.edgeconnect import EdgeConnect

CONFIGS = Path(__file__).resolve().parents[1] / "methods" / "edgeconnect" / "configs"
register_all_modules()


def _fake_vgg_file(path):
    """A state dict with torchvision's vgg19 key names (random values), up to conv5_2, plus a classifier key."""
    torch.manual_seed(0)
    feats = VGG19Features(["relu5_2"], pretrained=False)
    state = {k: v.clone() for k, v in feats.state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(4, 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
    return state


@pytest.fixture
def offline_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("BENCH_OFFLINE", "1")
    monkeypatch.delenv("BENCH_VGG_WEIGHTS", raising=False)
    return tmp_path / "torch_home"


def test_vgg19_layer_indices_match_torchvision():
    assert VGG19_LAYERS["relu1_1"] == 1 and VGG19_LAYERS["relu2_2"] == 8 and VGG19_LAYERS["relu3_4"] == 17
    assert VGG19_LAYERS["relu4_4"] == 26 and VGG19_LAYERS["relu5_1"] == 29 and VGG19_LAYERS["relu5_2"] == 31
    assert len(VGG19Features(["relu5_2"], pretrained=False).features) == 32


def test_missing_weights_error_names_file_and_place(offline_home):
    with pytest.raises(WeightsNotFoundError) as e:
        resolve_weights(VGG19)
    msg = str(e.value)
    assert "vgg19-dcbb9e9d.pth" in msg and str(offline_home / "hub" / "checkpoints") in msg
    assert "BENCH_VGG_WEIGHTS" in msg
    # the paper preset (VGG losses on) builds (evaluation needs no VGG) but its first train step fails clearly
    cfg = Config.fromfile(str(CONFIGS / "edgeconnect_smoke.py"))
    model = EdgeConnect(width_mult=0.125, use_vgg_losses=True)
    optim = MultiOptimWrapperConstructor({k: v for k, v in cfg.optim_wrapper.items() if k != "constructor"})(model)
    img, mask = torch.zeros(1, 3, 64, 64), torch.ones(1, 1, 64, 64)
    with pytest.raises(WeightsNotFoundError, match="vgg19-dcbb9e9d.pth"):
        model.train_step(dict(img=img, mask=mask, meta=[{}]), optim)
    with pytest.raises(WeightsNotFoundError, match="does not exist"):
        resolve_weights(VGG19, explicit=offline_home / "nowhere.pth")


def test_resolution_order(offline_home, tmp_path, monkeypatch):
    hub_file = offline_home / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    _fake_vgg_file(hub_file)
    assert resolve_weights(VGG19) == hub_file
    env_file = tmp_path / "elsewhere" / "vgg.pth"
    _fake_vgg_file(env_file)
    monkeypatch.setenv("BENCH_VGG_WEIGHTS", str(env_file))
    assert resolve_weights(VGG19) == env_file
    explicit = tmp_path / "explicit.pth"
    _fake_vgg_file(explicit)
    assert resolve_weights(VGG19, explicit=explicit) == explicit


def test_losses_math():
    vgg = VGG19Features(["relu1_1", "relu2_1", "relu2_2"], pretrained=False)
    perc = PerceptualLoss({"relu1_1": 1.0, "relu2_1": 1.0}, vgg=vgg)
    style = StyleLoss({"relu2_2": 1.0}, vgg=vgg)
    x, y = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    assert perc(x, x) == 0 and perc(x, y) > 0 and style(x, y) > 0
    assert perc.state_dict() == {} and not list(perc.parameters())  # the VGG is not part of the owner
    f = torch.ones(1, 2, 3, 3)
    torch.testing.assert_close(gram_matrix(f), torch.full((1, 2, 2), 9.0 / 18))


def test_edgeconnect_trains_with_vgg_losses(offline_home):
    _fake_vgg_file(offline_home / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth")
    cfg = Config.fromfile(str(CONFIGS / "edgeconnect_inpaint_smoke.py"))
    model = EdgeConnect(stage="inpaint", width_mult=0.125, use_vgg_losses=True)
    assert not any(k.startswith(("perceptual", "style")) for k in model.state_dict())
    optim = MultiOptimWrapperConstructor({k: v for k, v in cfg.optim_wrapper.items() if k != "constructor"})(model)
    img = torch.rand(2, 3, 64, 64) * 2 - 1
    mask = torch.zeros(2, 1, 64, 64)
    mask[..., 8:40, 20:50] = 1
    before = model.generator.encoder[1].weight.detach().clone()
    logs = model.train_step(dict(img=img, mask=mask, meta=[{}, {}]), optim)
    assert logs["g.loss_perceptual"] > 0 and logs["g.loss_style"] > 0
    assert not torch.equal(before, model.generator.encoder[1].weight)
