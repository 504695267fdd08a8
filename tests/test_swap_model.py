"""SWAP model: outputs of ``generate``, variants, and a full GAN train step from the smoke config."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from bench.registry import METHODS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS, register_all_modules

torch.set_num_threads(1)
register_all_modules()
CONFIGS = Path(__file__).resolve().parents[1] / "methods" / "swap" / "configs"


def _cfg(variant="full", preset="smoke"):
    return Config.fromfile(str(CONFIGS / f"swap_{variant}_{preset}.py"))


def _batch(b=2, size=64, k=8, seg=True):
    g = torch.Generator().manual_seed(0)
    img = torch.rand(b, 3, size, size, generator=g) * 2 - 1
    mask = torch.zeros(b, 1, size, size)
    mask[:, :, 16:44, 12:40] = 1
    data = dict(img=img, mask=mask, meta=[{} for _ in range(b)])
    if seg:
        s = torch.randint(0, k, (b, size, size), generator=g)
        s[:, :4] = 255
        data["seg"] = s
    return data


def _build(variant="full", k=8):
    cfg = _cfg(variant)
    model = MODELS.build(dict(cfg.model.to_dict(), num_classes=k))
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(type=cfg.optim_wrapper["constructor"], optim_wrapper_cfg={
        k_: v for k_, v in cfg.optim_wrapper.to_dict().items() if k_ != "constructor"}))
    return model, ctor(model)


def test_method_spec():
    spec = METHODS["swap"]
    assert spec.variants[0] == "full" and set(spec.variants) == {"full", "base", "att", "swap"}
    assert spec.predicts_segmentation and spec.reimplementation and "CVPR 2021" in spec.origin
    for v in spec.variants:
        for p in ("smoke", "paper"):
            assert spec.config_path(v, p).is_file()


def test_generate_outputs_and_attention_map():
    model, _ = _build()
    data = _batch()
    model.eval()
    with torch.no_grad():
        out = model.generate(data["img"], data["mask"], return_attention=True)
    assert out["raw"].shape == (2, 3, 64, 64) and out["raw"].abs().max() <= 1
    assert out["seg_logits"].shape == (2, 8, 64, 64)
    assert [im.shape[-1] for im in out["images"]] == [4, 8, 16, 32, 64]
    assert [s.shape[1] for s in out["segs"]] == [8] * 5
    att = out["attention"]
    assert att["swap_match"].shape[0] == 2 and att["swap_match"].dtype == torch.long
    preds = model(data["img"], data["mask"], meta=data["meta"], mode="predict", return_attention=True)
    assert preds[0]["seg_logits"].shape == (8, 64, 64) and "swap_match" in preds[0]["attention"]
    # known pixels of the composite are the input's
    known = data["mask"][0] < 0.5
    assert torch.equal(preds[0]["composite"][known.expand(3, -1, -1)], data["img"][0][known.expand(3, -1, -1)])


def test_full_train_step_updates_all_four_modules():
    torch.manual_seed(0)
    model, optim = _build("full")
    assert set(optim.keys()) == {"generator", "disc", "disc_s", "disc_t"}
    assert model.disc_keys == ("disc", "disc_s", "disc_t")
    before = {k: [p.detach().clone() for p in getattr(model, k).parameters()] for k in optim.keys()}
    logs = model.train_step(_batch(), optim)
    for k, params in before.items():
        changed = any(not torch.equal(p0, p1) for p0, p1 in zip(params, getattr(model, k).parameters()))
        assert changed, f"{k} did not change"
    for key in ("g.loss_l1", "g.loss_gan", "g.loss_xe", "g.loss_nlco", "g.loss_sco", "disc.loss_gan_d",
                "disc_s.loss_sco_d", "disc_t.loss_sco_d"):
        assert key in logs and torch.isfinite(logs[key]), key


@pytest.mark.parametrize("variant,attention", [("base", "none"), ("att", "contextual"), ("swap", "semantic")])
def test_variants_without_coherence(variant, attention):
    model, optim = _build(variant, k=20)
    assert model.generator.attention == attention
    assert model.disc_keys == ("disc",) and set(optim.keys()) == {"generator", "disc"}
    assert not hasattr(model, "disc_s")
    logs = model.train_step(_batch(k=20), optim)
    assert "g.loss_xe" in logs and "g.loss_nlco" not in logs


def test_missing_seg_skips_ce_and_coherence():
    model, optim = _build("full")
    logs = model.train_step(_batch(seg=False), optim)
    assert "g.loss_l1" in logs and "g.loss_xe" not in logs and "disc_s.loss_sco_d" not in logs
    assert model._warned_no_seg


def test_state_dict_round_trip():
    model, _ = _build("full")
    clone, _ = _build("full")
    missing, unexpected = clone.load_state_dict(model.state_dict(), strict=True)
    assert not missing and not unexpected
