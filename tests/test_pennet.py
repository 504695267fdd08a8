"""PEN-Net: official sizes and shapes, official checkpoint loading, one smoke train step."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from bench.registry import METHODS, MODELS, register_all_modules
from methods.common.official_weights import CheckpointMismatchError
from methods.common.optim import MultiOptimWrapperConstructor
from methods.pennet import AtnConv, PENNet, PENNetDiscriminator, PENNetGenerator, load_pennet_official

CONFIGS = Path(__file__).resolve().parents[1] / "methods" / "pennet" / "configs"
register_all_modules()  # default scope ``bench`` (the data preprocessor is built from the registry)


def _count(m):
    return sum(p.numel() for p in m.parameters())


def _batch(n=2, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    mask = torch.zeros(n, 1, size, size)
    mask[:, :, size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1
    return img, mask


def test_paper_parameter_counts_and_official_keys():
    g, d = PENNetGenerator(), PENNetDiscriminator()
    assert _count(g) == 10_231_538
    assert _count(d) == 4_318_401
    gsd, dsd = g.state_dict(), d.state_dict()
    assert len(gsd) == 68 and len(dsd) == 14
    # a few keys/shapes of the official layout (anchors: pennet_official_state_dict.txt)
    assert tuple(gsd["dw_conv01.0.weight"].shape) == (32, 4, 3, 3)
    assert tuple(gsd["at_conv04.conv00.0.weight"].shape) == (64, 256, 3, 3)
    assert tuple(gsd["up_conv04.0.weight"].shape) == (256, 1024, 3, 3)
    assert tuple(gsd["torgb5.0.weight"].shape) == (3, 1024, 1, 1)
    assert tuple(gsd["decoder.2.weight"].shape) == (3, 32, 3, 3)
    assert tuple(dsd["encoder.6.weight_v"].shape) == (6400,)
    assert tuple(dsd["classifier.weight"].shape) == (1, 512, 5, 5)
    assert "at_conv05.conv00.0.weight" not in gsd  # level 5: ksize 1, no fusion


@torch.no_grad()
def test_shapes_at_256():
    g, d = PENNetGenerator().eval(), PENNetDiscriminator().eval()
    img, mask = _batch(1, 256)
    pyramid, out = g(torch.cat([img * (1 - mask) + mask, mask], 1), mask)
    assert out.shape == (1, 3, 256, 256)
    assert [p.shape[-1] for p in pyramid] == [128, 64, 32, 16, 8]
    assert out.abs().max() <= 1
    assert d(out).shape == (1, 1, 27, 27)


@torch.no_grad()
def test_atnconv_batched_equals_per_sample():
    torch.manual_seed(0)
    atn = AtnConv(16, 16).eval()
    x1, x2 = torch.randn(3, 16, 16, 16), torch.randn(3, 16, 8, 8)
    mask = torch.zeros(3, 1, 64, 64)
    mask[0, :, 10:40, 5:30] = 1
    mask[2, :, 30:60, 30:60] = 1
    both = atn(x1, x2, mask)
    single = torch.cat([atn(x1[i:i + 1], x2[i:i + 1], mask[i:i + 1]) for i in range(3)])
    assert both.shape == x1.shape
    torch.testing.assert_close(both, single, rtol=1e-5, atol=1e-6)


def _official_files(model: PENNet, folder: Path, tag="00042", gen_state=None):
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"netG": gen_state if gen_state is not None else model.generator.state_dict()},
               folder / f"gen_{tag}.pth")
    torch.save({"netD": model.disc.state_dict()}, folder / f"dis_{tag}.pth")
    (folder / "latest.ckpt").write_text(f"{tag}\n")


@torch.no_grad()
def test_official_checkpoint_roundtrip(tmp_path):
    torch.manual_seed(1)
    src = PENNet().eval()          # paper size, random weights
    for p in src.parameters():     # move away from the init so a no-op load would be caught
        p.add_(torch.randn_like(p) * 0.01)
    _official_files(src, tmp_path / "pennet_places2_square256")
    dst = PENNet().eval()
    loaded = load_pennet_official(dst, tmp_path / "pennet_places2_square256")
    assert loaded["generator"].endswith("gen_00042.pth") and loaded["disc"].endswith("dis_00042.pth")
    img, mask = _batch(1, 64)
    torch.testing.assert_close(dst.generate(img, mask)["raw"], src.generate(img, mask)["raw"], rtol=0, atol=0)
    torch.testing.assert_close(dst.disc(img), src.disc(img), rtol=0, atol=0)
    # a single gen file works too, and via the model argument
    via_arg = PENNet(official_weights=str(tmp_path / "pennet_places2_square256" / "gen_00042.pth")).eval()
    torch.testing.assert_close(via_arg.generate(img, mask)["raw"], src.generate(img, mask)["raw"], rtol=0, atol=0)


def test_official_checkpoint_mismatch_names_keys(tmp_path):
    src = PENNet(width_mult=0.25)
    sd = dict(src.generator.state_dict())
    sd["dw_conv01.0.weight_renamed"] = sd.pop("dw_conv01.0.weight")
    sd["torgb3.0.weight"] = torch.zeros(3, 7, 1, 1)
    _official_files(src, tmp_path / "bad", gen_state=sd)
    with pytest.raises(CheckpointMismatchError) as e:
        load_pennet_official(PENNet(width_mult=0.25), tmp_path / "bad")
    msg = str(e.value)
    assert "dw_conv01.0.weight_renamed" in msg and "dw_conv01.0.weight'" in msg
    assert "torgb3.0.weight" in msg and "(3, 7, 1, 1)" in msg


def test_release_folder_without_marker(tmp_path):
    with pytest.raises(FileNotFoundError, match="latest.ckpt"):
        load_pennet_official(PENNet(width_mult=0.25), tmp_path)


def test_smoke_train_step_changes_parameters():
    register_all_modules()
    cfg = Config.fromfile(str(CONFIGS / "pennet_smoke.py"))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert isinstance(model, PENNet)
    optim = MultiOptimWrapperConstructor({k: v for k, v in cfg.optim_wrapper.items() if k != "constructor"})(model)
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    img, mask = _batch(2, 64)
    logs = model.train_step(dict(img=img, mask=mask, meta=[{}, {}]), optim)
    for key in ("disc.loss_d", "g.loss_hole", "g.loss_valid", "g.loss_pyramid", "g.loss_adv"):
        assert key in logs and torch.isfinite(torch.as_tensor(logs[key]))
    after = model.state_dict()
    for prefix in ("generator.dw_conv01.0.weight", "generator.decoder.2.weight", "disc.classifier.weight",
                   "disc.encoder.0.weight_orig"):
        assert not torch.equal(before[prefix], after[prefix]), prefix
    preds = model.eval()(img, mask, meta=[{}, {}], mode="predict")
    assert len(preds) == 2 and preds[0]["composite"].shape == (3, 64, 64)


def test_paper_config_is_official_recipe():
    cfg = Config.fromfile(str(CONFIGS / "pennet_paper.py"))
    assert cfg.model.width_mult == 1.0
    assert dict(cfg.model.loss_weights) == dict(hole=6.0, valid=1.0, pyramid=0.5, adversarial=0.1)
    for key in ("generator", "disc"):
        opt = cfg.optim_wrapper[key].optimizer
        assert opt.type == "Adam" and opt.lr == 1e-4 and tuple(opt.betas) == (0.5, 0.999)


def test_method_spec():
    spec = METHODS["pennet"]
    assert spec.paper_name == "PEN-Net" and "researchmm/PEN-Net-for-Inpainting" in spec.origin
    assert spec.config_path(None, "smoke").name == "pennet_smoke.py"
    assert spec.config_path(None, "paper").name == "pennet_paper.py"
    smoke = Config.fromfile(str(spec.config_path(None, "smoke")))
    assert smoke.notes and smoke.model.width_mult == 0.25 and "train_iters" not in smoke
