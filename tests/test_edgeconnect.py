"""EdgeConnect: official sizes and shapes, official checkpoint loading, Canny edges, smoke train steps."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from skimage.feature import canny

from bench.registry import METHODS, MODELS, register_all_modules
from methods.common.official_weights import CheckpointMismatchError
from methods.common.optim import MultiOptimWrapperConstructor
from methods.edgeconnect import (EdgeConnect, EdgeConnectDiscriminator, EdgeGenerator, InpaintGenerator,
                                 canny_edges, load_edgeconnect_official, rgb_to_gray)

CONFIGS = Path(__file__).resolve().parents[1] / "methods" / "edgeconnect" / "configs"
register_all_modules()


def _count(m):
    return sum(p.numel() for p in m.parameters())


def _batch(n=2, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    img = torch.nn.functional.avg_pool2d(img, 5, 1, 2)  # some structure for Canny
    mask = torch.zeros(n, 1, size, size)
    mask[:, :, size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1
    return img, mask


def _build(config: str, **model_overrides):
    cfg = Config.fromfile(str(CONFIGS / config))
    cfg.model.update(model_overrides)
    model = MODELS.build(cfg.model)
    optim = MultiOptimWrapperConstructor({k: v for k, v in cfg.optim_wrapper.items() if k != "constructor"})(model)
    return model, optim


def test_paper_parameter_counts_and_official_keys():
    eg, ig = EdgeGenerator(), InpaintGenerator()
    d2, d3 = EdgeConnectDiscriminator(2), EdgeConnectDiscriminator(3)
    assert _count(eg) == 10_761_089
    assert _count(ig) == 10_774_595
    assert _count(d2) == 2_762_752
    assert _count(d3) == 2_763_776
    esd, isd, dsd = eg.state_dict(), ig.state_dict(), d2.state_dict()
    assert (len(esd), len(isd), len(dsd)) == (70, 44, 15)  # official D: 18 with the features.* alias
    assert tuple(esd["encoder.1.weight_v"].shape) == (147,)
    assert tuple(esd["middle.7.conv_block.5.weight_orig"].shape) == (256, 256, 3, 3)
    assert "middle.0.conv_block.1.bias" not in esd and "middle.0.conv_block.1.bias" in isd
    assert tuple(esd["decoder.0.weight_orig"].shape) == (256, 128, 4, 4)
    assert tuple(esd["decoder.7.weight"].shape) == (1, 64, 7, 7)
    assert tuple(isd["encoder.1.weight"].shape) == (64, 4, 7, 7)
    assert tuple(dsd["conv5.0.weight_v"].shape) == (8192,)


@torch.no_grad()
def test_shapes_at_256():
    d2, d3 = EdgeConnectDiscriminator(2).eval(), EdgeConnectDiscriminator(3).eval()
    out, feats = d3(torch.rand(1, 3, 256, 256))
    assert out.shape == (1, 1, 30, 30)
    assert [f.shape[1:] for f in feats] == [(64, 128, 128), (128, 64, 64), (256, 32, 32), (512, 31, 31), (1, 30, 30)]
    assert d2(torch.rand(1, 2, 256, 256))[0].shape == (1, 1, 30, 30)
    # generators are fully convolutional: same size out (checked at 64 px, paper width, in the roundtrip test)


def test_canny_matches_skimage_and_respects_known_region():
    img, mask = _batch(2, 64)
    gray = rgb_to_gray((img + 1) / 2)
    full = canny_edges(gray, 2.0)
    ref = canny(gray[1, 0].double().numpy(), sigma=2.0)
    assert np.array_equal(full[1, 0].numpy().astype(bool), ref)
    known = canny_edges(gray, 2.0, known=1 - mask)
    assert known[mask.bool()].sum() == 0 and full.sum() > 0


def _write_official(model: EdgeConnect, folder: Path, gen_states=None, drop=()):
    folder.mkdir(parents=True, exist_ok=True)
    gen_states = gen_states or {}
    for attr, name in (("edge_generator", "EdgeModel"), ("generator", "InpaintingModel")):
        if name in drop:
            continue
        torch.save({"iteration": 1234, "generator": gen_states.get(attr, getattr(model, attr).state_dict())},
                   folder / f"{name}_gen.pth")
    for attr, name in (("edge_disc", "EdgeModel"), ("disc", "InpaintingModel")):
        sd = dict(getattr(model, attr).state_dict())
        sd.update({"features." + k[len("conv1."):]: v for k, v in sd.items() if k.startswith("conv1.")})  # alias
        torch.save({"discriminator": sd}, folder / f"{name}_dis.pth")


@torch.no_grad()
def test_official_checkpoint_roundtrip(tmp_path):
    torch.manual_seed(3)
    src = EdgeConnect(use_vgg_losses=False).eval()   # paper size, random weights
    _write_official(src, tmp_path / "places2")
    torch.manual_seed(4)
    dst = EdgeConnect(use_vgg_losses=False).eval()   # different random weights until loaded
    assert not torch.equal(dst.generator.decoder[7].weight, src.generator.decoder[7].weight)
    loaded = load_edgeconnect_official(dst, tmp_path / "places2")
    assert set(loaded) == {"edge_generator", "edge_disc", "generator", "disc"}
    img, mask = _batch(1, 32)   # small input: the paper-width residual blocks are costly on CPU
    a, b = dst.generate(img, mask), src.generate(img, mask)
    torch.testing.assert_close(a["edges"], b["edges"], rtol=0, atol=0)
    torch.testing.assert_close(a["raw"], b["raw"], rtol=0, atol=0)
    x = (img + 1) / 2
    torch.testing.assert_close(dst.disc(x)[0], src.disc(x)[0], rtol=0, atol=0)


@torch.no_grad()
def test_official_weights_model_argument(tmp_path):
    src = EdgeConnect(width_mult=0.125, use_vgg_losses=False)
    _write_official(src, tmp_path / "psv", drop=("EdgeModel",))
    # stage 'inpaint' only needs InpaintingModel_gen.pth
    via_arg = EdgeConnect(stage="inpaint", width_mult=0.125, use_vgg_losses=False,
                          official_weights=str(tmp_path / "psv"))
    for k, v in src.generator.state_dict().items():
        assert torch.equal(via_arg.generator.state_dict()[k], v), k
    with pytest.raises(FileNotFoundError, match="EdgeModel_gen.pth"):
        EdgeConnect(stage="joint", width_mult=0.125, use_vgg_losses=False, official_weights=str(tmp_path / "psv"))


def test_official_checkpoint_mismatch_names_keys(tmp_path):
    src = EdgeConnect(width_mult=0.125, use_vgg_losses=False)
    sd = dict(src.generator.state_dict())
    sd["middle.3.conv_block.1.weight_renamed"] = sd.pop("middle.3.conv_block.1.weight")
    sd["encoder.4.weight"] = torch.zeros(5, 8, 4, 4)
    _write_official(src, tmp_path / "bad", gen_states={"generator": sd})
    with pytest.raises(CheckpointMismatchError) as e:
        load_edgeconnect_official(EdgeConnect(width_mult=0.125, use_vgg_losses=False), tmp_path / "bad")
    msg = str(e.value)
    assert "InpaintingModel_gen.pth" in msg
    assert "middle.3.conv_block.1.weight_renamed" in msg and "middle.3.conv_block.1.weight'" in msg
    assert "encoder.4.weight" in msg and "(5, 8, 4, 4)" in msg


def test_discriminator_alias_must_duplicate_conv1(tmp_path):
    src = EdgeConnect(width_mult=0.125, use_vgg_losses=False)
    _write_official(src, tmp_path / "ok")
    sd = torch.load(tmp_path / "ok" / "EdgeModel_dis.pth", weights_only=True)["discriminator"]
    sd["features.0.weight_orig"] = sd["features.0.weight_orig"] + 1
    torch.save({"discriminator": sd}, tmp_path / "ok" / "EdgeModel_dis.pth")
    with pytest.raises(CheckpointMismatchError, match="features.0.weight_orig differs from conv1.0.weight_orig"):
        load_edgeconnect_official(EdgeConnect(width_mult=0.125, use_vgg_losses=False), tmp_path / "ok")


def _changed(before, model, prefix):
    after = model.state_dict()
    return any(not torch.equal(before[k], after[k]) for k in before if k.startswith(prefix)
               and before[k].is_floating_point() and not k.endswith(("_u", "_v")))


def test_smoke_joint_train_step_changes_all_networks():
    torch.manual_seed(0)
    model, optim = _build("edgeconnect_smoke.py")
    assert model.stage == "joint" and set(optim.keys()) == {"edge_generator", "edge_disc", "generator", "disc"}
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    img, mask = _batch(2, 64)
    logs = model.train_step(dict(img=img, mask=mask, meta=[{}, {}]), optim)
    for key in ("edge_disc.loss_d", "disc.loss_d", "g.loss_edge_adv", "g.loss_edge_fm", "g.loss_adv", "g.loss_l1"):
        assert key in logs and torch.isfinite(torch.as_tensor(logs[key]))
    assert "g.loss_perceptual" not in logs  # smoke: VGG losses off
    for prefix in ("edge_generator.", "edge_disc.", "generator.", "disc."):
        assert _changed(before, model, prefix), prefix
    preds = model.eval()(img, mask, meta=[{}, {}], mode="predict")
    assert len(preds) == 2 and preds[0]["raw"].shape == (3, 64, 64) and preds[0]["raw"].abs().max() <= 1


def test_smoke_edge_inpaint_keeps_edge_model_frozen():
    torch.manual_seed(0)
    model, optim = _build("edgeconnect_edge_inpaint_smoke.py")
    assert set(optim.keys()) == {"generator", "disc"}
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    img, mask = _batch(2, 64)
    model.train_step(dict(img=img, mask=mask, meta=[{}, {}]), optim)
    assert _changed(before, model, "generator.") and _changed(before, model, "disc.")
    assert not _changed(before, model, "edge_generator.") and not _changed(before, model, "edge_disc.")


def test_method_spec_and_configs():
    spec = METHODS["edgeconnect"]
    assert spec.paper_name == "EdgeConnect" and "knazeri/edge-connect" in spec.origin
    for variant in spec.variants:
        for preset in ("paper", "smoke"):
            cfg = Config.fromfile(str(spec.config_path(variant, preset)))
            assert cfg.model.stage == ("joint" if variant == "default" else variant)
            assert cfg.model.use_vgg_losses is (preset == "paper")
            if preset == "smoke":
                assert cfg.notes
    cfg = Config.fromfile(str(CONFIGS / "edgeconnect_paper.py"))
    assert cfg.model.width_mult == 1.0 and cfg.model.sigma == 2.0 and cfg.model.gan_loss == "nsgan"
    assert dict(cfg.model.loss_weights) == dict(edge_adversarial=1.0, feature_matching=10.0, l1=1.0,
                                                perceptual=0.1, style=250.0, adversarial=0.1)
    assert cfg.optim_wrapper.generator.optimizer.lr == 1e-4 and cfg.optim_wrapper.disc.optimizer.lr == 1e-5
    assert tuple(cfg.optim_wrapper.edge_disc.optimizer.betas) == (0.0, 0.9)


def test_edge_inpaint_initialises_from_earlier_stage_runs(tmp_path):
    torch.manual_seed(5)
    edge_run, _ = _build("edgeconnect_edge_smoke.py")
    inpaint_run, _ = _build("edgeconnect_inpaint_smoke.py")
    torch.save({"meta": {}, "state_dict": edge_run.state_dict()}, tmp_path / "edge_iter_20.pth")
    torch.save({"meta": {}, "state_dict": inpaint_run.state_dict()}, tmp_path / "inpaint_iter_20.pth")
    model, _ = _build("edgeconnect_edge_inpaint_smoke.py",
                      init_from=dict(edge=str(tmp_path / "edge_iter_20.pth"),
                                     inpaint=str(tmp_path / "inpaint_iter_20.pth")))
    for name, src in (("edge_generator", edge_run), ("edge_disc", edge_run), ("generator", inpaint_run),
                      ("disc", inpaint_run)):
        for k, v in getattr(src, name).state_dict().items():
            assert torch.equal(getattr(model, name).state_dict()[k], v), f"{name}.{k}"
    assert not any(p.requires_grad for p in model.edge_generator.parameters())
