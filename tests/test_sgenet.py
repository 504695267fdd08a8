"""SGE-Net re-implementation: SPADE identity, confidence gating / re-inference, outputs, train step, paper size."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from bench.registry import METHODS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS, register_all_modules
from methods.common.spade import SPADE, SPADEResBlock
from methods.sgenet import SGEBlock, confidence_targets, gate_segmentation

torch.set_num_threads(1)
register_all_modules()
CONFIGS = Path(__file__).resolve().parents[1] / "methods" / "sgenet" / "configs"


def _cfg(preset="smoke"):
    return Config.fromfile(str(CONFIGS / f"sgenet_{preset}.py"))


def _batch(b=2, size=64, k=8):
    g = torch.Generator().manual_seed(0)
    img = torch.rand(b, 3, size, size, generator=g) * 2 - 1
    mask = torch.zeros(b, 1, size, size)
    mask[:, :, 16:44, 12:40] = 1
    seg = torch.randint(0, k, (b, size, size), generator=g)
    seg[:, :4] = 255
    return dict(img=img, mask=mask, seg=seg, meta=[{} for _ in range(b)])


def _build(k=8, preset="smoke"):
    cfg = _cfg(preset)
    model = MODELS.build(dict(cfg.model.to_dict(), num_classes=k))
    ctor = OPTIM_WRAPPER_CONSTRUCTORS.build(dict(type=cfg.optim_wrapper["constructor"], optim_wrapper_cfg={
        k_: v for k_, v in cfg.optim_wrapper.to_dict().items() if k_ != "constructor"}))
    return model, ctor(model)


def test_method_spec():
    spec = METHODS["sgenet"]
    assert spec.reimplementation and spec.predicts_segmentation and spec.paper_name == "SGE-Net"
    assert "ECCV 2020" in spec.origin and "2003.06877" in spec.origin
    for preset in ("smoke", "paper"):
        assert spec.config_path(None, preset).is_file()


# -- SPADE ---------------------------------------------------------------------------------------------------
def test_spade_is_param_free_norm_when_gamma_beta_zero():
    """out = norm(x)·(1 + γ) + β; with γ = β = 0 (zeroed γ/β convs) SPADE returns exactly the parameter-free
    instance normalisation of x, whatever the segmentation map."""
    torch.manual_seed(0)
    spade = SPADE(6, 4, hidden=8)
    for conv in (spade.gamma, spade.beta):
        torch.nn.init.zeros_(conv.weight)
        torch.nn.init.zeros_(conv.bias)
    x = torch.randn(2, 6, 8, 8) * 3 + 1
    seg = torch.rand(2, 4, 16, 16)  # other size: resized nearest inside
    expected = F.instance_norm(x, eps=1e-5)
    out = spade(x, seg)
    assert torch.equal(out, spade.param_free_norm(x))
    assert torch.allclose(out, expected, atol=1e-5)
    gamma, beta = spade.modulation(seg, x.shape[-2:])
    assert torch.equal(gamma, torch.zeros_like(gamma)) and torch.equal(beta, torch.zeros_like(beta))
    # a map that differs only in one region changes the output only there (3x3 convs -> within 2 px)
    seg2 = seg.clone()
    seg2[:, :, :4, :4] = torch.rand(2, 4, 4, 4)
    spade2 = SPADE(6, 4, hidden=8)
    diff = (spade2(x, seg) - spade2(x, seg2)).abs().sum(1)
    assert diff[:, :2, :2].gt(0).all() and diff[:, 5:, 5:].eq(0).all()


def test_spade_resblock_shapes_and_shortcut():
    blk = SPADEResBlock(8, 4, 3, hidden=8)
    assert blk.learned_shortcut
    out = blk(torch.randn(1, 8, 16, 16), torch.rand(1, 3, 16, 16))
    assert out.shape == (1, 4, 16, 16)
    assert not SPADEResBlock(8, 8, 3, hidden=8).learned_shortcut


# -- confidence evaluation and re-inference --------------------------------------------------------------------
def test_gate_segmentation_soft_and_hard():
    prev = torch.softmax(torch.randn(1, 3, 4, 4), 1)
    re = torch.softmax(torch.randn(1, 3, 4, 4), 1)
    conf = torch.zeros(1, 1, 4, 4)
    conf[..., :2] = 1.0
    conf[..., 2, 2] = 0.7
    g = gate_segmentation(prev, conf, re)
    assert torch.equal(g[..., :2], prev[..., :2]) and torch.equal(g[..., 3], re[..., 3])
    assert torch.allclose(g[..., 2, 2], 0.7 * prev[..., 2, 2] + 0.3 * re[..., 2, 2])
    h = gate_segmentation(prev, conf, re, gate="hard", threshold=0.5)
    assert torch.equal(h[..., 2, 2], prev[..., 2, 2])
    assert torch.allclose(g.sum(1), torch.ones(1, 4, 4))


def test_confidence_changes_reinferred_regions_and_output():
    """Two confidence maps → the low-confidence regions take the re-inferred semantics, the others keep the
    previous scale's; the guided features (SPADE) differ accordingly."""
    torch.manual_seed(0)
    block = SGEBlock(8, 4, 4, num_classes=5, spade_hidden=8, head_channels=8).eval()
    phi, skip = torch.randn(1, 8, 4, 4), torch.randn(1, 4, 8, 8)
    prev = torch.randn(1, 5, 4, 4) * 3
    conf_a = torch.ones(1, 1, 4, 4)
    conf_b = conf_a.clone()
    conf_b[..., :2, :2] = 0.0  # top-left quarter unreliable -> re-inferred at the next scale
    with torch.no_grad():
        out_a, info_a = block(phi, skip, prev, conf_a)
        out_b, info_b = block(phi, skip, prev, conf_b)
    prev_up = F.interpolate(torch.softmax(prev, 1), size=(8, 8), mode="nearest")
    re = torch.softmax(info_a["reinfer_logits"], 1)
    assert torch.equal(info_a["reinfer_logits"], info_b["reinfer_logits"])
    assert torch.allclose(info_a["guide"], prev_up)                 # all reliable: carried over
    assert torch.allclose(info_b["guide"][..., :4, :4], re[..., :4, :4])  # re-inferred region
    assert torch.allclose(info_b["guide"][..., 4:, :], prev_up[..., 4:, :])
    assert torch.allclose(info_b["guide"][..., :, 4:], prev_up[..., :, 4:])
    assert not torch.allclose(out_a, out_b)  # (instance norm inside SPADE spreads the change over the map)


def test_generator_confidences_in_unit_interval_and_override_changes_output():
    model, _ = _build()
    model.eval()
    data = _batch()
    with torch.no_grad():
        out = model.generate(data["img"], data["mask"])
        assert out["raw"].shape == (2, 3, 64, 64) and out["raw"].abs().max() <= 1
        assert out["seg_logits"].shape == (2, 8, 64, 64)
        assert [c.shape[-1] for c in out["confidences"]] == [4, 8, 16, 32]
        for c in out["confidences"]:
            assert c.min() >= 0 and c.max() <= 1
        ones = {l: torch.ones_like(c) for l, c in enumerate(out["confidences"], start=1)}
        zeros = {l: torch.zeros_like(c) for l, c in enumerate(out["confidences"], start=1)}
        a = model.generate(data["img"], data["mask"], confidence_override=ones)
        b = model.generate(data["img"], data["mask"], confidence_override=zeros)
    assert not torch.allclose(a["raw"], b["raw"])
    # with C = 1 the guide of scale 2 is the (upsampled) scale-1 prediction; with C = 0 the re-inferred one
    prev = F.interpolate(torch.softmax(a["segs"][0], 1), size=(8, 8), mode="nearest")
    assert torch.allclose(a["guides"][0], prev)
    assert torch.allclose(b["guides"][0], torch.softmax(b["reinfer_segs"][0], 1))
    preds = model(data["img"], data["mask"], seg=data["seg"], meta=data["meta"], mode="predict",
                  return_attention=True)
    assert preds[0]["seg_logits"].shape == (8, 64, 64)
    conf = preds[0]["attention"]["sge_confidence"]
    assert conf.shape == (64, 64) and conf.min() >= 0 and conf.max() <= 1


def test_confidence_targets():
    logits = torch.zeros(1, 3, 2, 2)
    logits[0, 1] = 1.0  # argmax = 1 everywhere
    labels = torch.tensor([[[1, 0], [255, 1]]])
    t, v = confidence_targets(logits, labels)
    assert t.flatten().tolist() == [1, 0, 0, 1] and v.flatten().tolist() == [1, 1, 0, 1]


# -- training -------------------------------------------------------------------------------------------------
def test_smoke_train_step_updates_generator_and_disc():
    torch.manual_seed(0)
    model, optim = _build()
    assert set(optim.keys()) == {"generator", "disc"}
    before = {k: [p.detach().clone() for p in getattr(model, k).parameters()] for k in optim.keys()}
    ev_before = [p.detach().clone() for p in model.generator.evaluators.parameters()]
    logs = model.train_step(_batch(), optim)
    for k, params in before.items():
        assert any(not torch.equal(p0, p1) for p0, p1 in zip(params, getattr(model, k).parameters())), k
    assert any(not torch.equal(p0, p1) for p0, p1 in zip(ev_before, model.generator.evaluators.parameters()))
    for key in ("g.loss_l1", "g.loss_gan", "g.loss_xe", "g.loss_conf", "disc.loss_gan_d"):
        assert key in logs and torch.isfinite(logs[key]), key


def test_train_step_without_labels_skips_seg_losses():
    torch.manual_seed(0)
    model, optim = _build()
    data = _batch()
    del data["seg"]
    logs = model.train_step(data, optim)
    assert "g.loss_xe" not in logs and "g.loss_conf" not in logs and torch.isfinite(logs["g.loss_l1"])


@pytest.mark.slow
@pytest.mark.parametrize("k", [8, 20])
def test_paper_size_builds_and_runs(k):
    cfg = _cfg("paper")
    model = MODELS.build(dict(cfg.model.to_dict(), num_classes=k)).eval()
    n_g = sum(p.numel() for p in model.generator.parameters())
    n_d = sum(p.numel() for p in model.disc.parameters())
    print(f"\nSGE-Net paper size, k={k}: generator {n_g:,}, disc {n_d:,}")
    assert 10e6 < n_g < 60e6
    img = torch.rand(1, 3, 256, 256) * 2 - 1
    mask = torch.zeros(1, 1, 256, 256)
    mask[:, :, 64:192, 80:176] = 1
    with torch.inference_mode():
        out = model.generate(img, mask)
    assert out["raw"].shape == (1, 3, 256, 256) and torch.isfinite(out["raw"]).all()
    assert out["seg_logits"].shape == (1, k, 256, 256)
