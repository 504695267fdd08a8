"""SPG-Net re-implementation: stage 1 never sees labels inside the hole, test-label switch, train step, paper size."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from bench.registry import METHODS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS, register_all_modules
from methods.spgnet import known_label_map
from methods.spgnet.model import VGG_LAYER_WEIGHTS

torch.set_num_threads(1)
register_all_modules()
CONFIGS = Path(__file__).resolve().parents[1] / "methods" / "spgnet" / "configs"
HOLE = (slice(16, 44), slice(12, 40))


def _cfg(preset="smoke"):
    return Config.fromfile(str(CONFIGS / f"spgnet_{preset}.py"))


def _batch(b=2, size=64, k=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(b, 3, size, size, generator=g) * 2 - 1
    mask = torch.zeros(b, 1, size, size)
    mask[:, :, HOLE[0], HOLE[1]] = 1
    seg = torch.randint(0, k, (b, size, size), generator=g)
    seg[:, :4] = 255
    return dict(img=img, mask=mask, seg=seg, meta=[{} for _ in range(b)])


def _build(k=8, **overrides):
    cfg = _cfg()
    model = MODELS.build(dict(cfg.model.to_dict(), num_classes=k, **overrides))
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(type=cfg.optim_wrapper["constructor"], optim_wrapper_cfg={
        k_: v for k_, v in cfg.optim_wrapper.to_dict().items() if k_ != "constructor"}))
    return model, ctor(model)


def test_method_spec():
    spec = METHODS["spgnet"]
    assert spec.reimplementation and spec.predicts_segmentation and spec.paper_name == "SPG-Net"
    assert "BMVC 2018" in spec.origin and "1805.03356" in spec.origin
    for preset in ("smoke", "paper"):
        assert spec.config_path(None, preset).is_file()


def test_known_label_map_masks_hole_and_ignore():
    seg = torch.tensor([[[0, 1, 2], [255, 1, 7]]])
    mask = torch.tensor([[[[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]]])
    onehot, valid = known_label_map(seg, mask, num_classes=3)
    assert valid[0, 0].tolist() == [[1, 0, 1], [0, 1, 0]]  # hole, ignore (255) and out-of-range (7) invalid
    assert onehot[0, :, 0, 1].sum() == 0 and onehot[0, :, 1, 0].sum() == 0 and onehot[0, :, 1, 2].sum() == 0
    assert onehot[0, :, 0, 0].tolist() == [1, 0, 0] and onehot[0, :, 0, 2].tolist() == [0, 0, 1]
    z, v = known_label_map(None, mask, 3)
    assert z.shape == (1, 3, 2, 3) and z.sum() == 0 and v.sum() == 0


@pytest.mark.parametrize("train", [False, True])
def test_stage1_never_sees_labels_inside_the_hole(train):
    torch.manual_seed(0)
    model, _ = _build()
    model.train(train)
    data = _batch()
    inside = data["seg"].clone()
    inside[:, HOLE[0], HOLE[1]] = (inside[:, HOLE[0], HOLE[1]] + 3) % 8   # other labels inside the hole only
    outside = data["seg"].clone()
    outside[:, 50:60, 50:60] = (outside[:, 50:60, 50:60] + 3) % 8         # other labels outside the hole
    with torch.no_grad():
        base = model.generate(data["img"], data["mask"], data["seg"])
        a = model.generate(data["img"], data["mask"], inside)
        b = model.generate(data["img"], data["mask"], outside)
    assert torch.equal(base["known_labels"], a["known_labels"])
    assert torch.equal(base["seg_logits"], a["seg_logits"]) and torch.equal(base["raw"], a["raw"])
    assert not torch.allclose(base["seg_logits"], b["seg_logits"])


def test_completed_map_and_test_label_switch():
    torch.manual_seed(0)
    model, _ = _build()
    model.eval()
    data = _batch()
    with torch.no_grad():
        out = model.generate(data["img"], data["mask"], data["seg"])
        known = out["known_valid"].bool().expand_as(out["completed_seg"])
        assert torch.equal(out["completed_seg"][known], out["known_labels"][known])
        hole = data["mask"].bool().expand_as(out["completed_seg"])
        assert torch.allclose(out["completed_seg"][hole], torch.softmax(out["seg_logits"], 1)[hole])
        no_seg = model.generate(data["img"], data["mask"], None)   # 'dataset' without labels -> zeros
        model.test_labels = "none"
        none = model.generate(data["img"], data["mask"], data["seg"])
    assert torch.equal(none["seg_logits"], no_seg["seg_logits"]) and none["known_valid"].sum() == 0
    assert not torch.allclose(none["seg_logits"], out["seg_logits"])
    preds = model(data["img"], data["mask"], seg=data["seg"], meta=data["meta"], mode="predict")
    assert preds[0]["seg_logits"].shape == (8, 64, 64) and preds[0]["raw"].shape == (3, 64, 64)
    model.train()
    with pytest.raises(ValueError, match="label"):
        model.generate(data["img"], data["mask"], None)
    with pytest.raises(ValueError, match="test_labels"):
        _build(test_labels="gt")


def test_smoke_train_step_updates_all_modules():
    torch.manual_seed(0)
    model, optim = _build()
    assert set(optim.keys()) == {"generator", "disc", "disc_seg"}
    mods = {"sp": model.generator.sp, "sg": model.generator.sg, "disc": model.disc, "disc_seg": model.disc_seg}
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in mods.items()}
    logs = model.train_step(_batch(), optim)
    for k, params in before.items():
        assert any(not torch.equal(p0, p1) for p0, p1 in zip(params, mods[k].parameters())), k
    for key in ("g.loss_ce", "g.loss_l1", "g.loss_gan", "g.loss_fm", "g.loss_seg_adv", "disc.loss_gan_d",
                "disc_seg.loss_seg_gan_d"):
        assert key in logs and torch.isfinite(logs[key]), key
    assert "g.loss_vgg" not in logs  # smoke: VGG loss off


def test_train_step_with_vgg_loss_random_weights():
    from methods.common.perceptual import PerceptualLoss

    torch.manual_seed(0)
    model, optim = _build(use_vgg_losses=True)   # building never needs the VGG file (built on first use)
    model.__dict__["_vgg_loss"] = PerceptualLoss(VGG_LAYER_WEIGHTS, pretrained=False, input_range=(-1.0, 1.0),
                                                 imagenet_norm=True)
    logs = model.train_step(_batch(b=1), optim)
    assert torch.isfinite(logs["g.loss_vgg"]) and logs["g.loss_vgg"] > 0
    assert not any(k.startswith("vgg") for k in model.state_dict())


@pytest.mark.slow
@pytest.mark.parametrize("k", [8, 20])
def test_paper_size_builds_and_runs(k):
    cfg = _cfg("paper")
    model = MODELS.build(dict(cfg.model.to_dict(), num_classes=k)).eval()  # use_vgg_losses=True: no VGG file needed
    counts = {n: sum(p.numel() for p in getattr(model, n).parameters()) for n in ("generator", "disc", "disc_seg")}
    print(f"\nSPG-Net paper size, k={k}: " + ", ".join(f"{n} {c:,}" for n, c in counts.items()))
    assert 50e6 < counts["generator"] < 120e6
    img = torch.rand(1, 3, 256, 256) * 2 - 1
    mask = torch.zeros(1, 1, 256, 256)
    mask[:, :, 64:192, 80:176] = 1
    seg = torch.randint(0, k, (1, 256, 256))
    with torch.inference_mode():
        out = model.generate(img, mask, seg)
    assert out["raw"].shape == (1, 3, 256, 256) and torch.isfinite(out["raw"]).all()
    assert out["seg_logits"].shape == (1, k, 256, 256)
