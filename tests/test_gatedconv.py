"""GatedConv / DeepFill v2 (``methods/gatedconv``): official sizes, gated conv, TF padding, the official
checkpoint layout, the SN-PatchGAN and one training step of the smoke config."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.registry import DefaultScope

from bench.registry import METHODS, MODELS
from methods.common.gated_conv import GatedConv2d, GatedUpConv2d, pad_for_conv, same_padding, tf_resize_nearest
from methods.common.losses import hinge_d_loss, hinge_g_loss
from methods.common.official_weights import CheckpointMismatchError
from methods.common.sn_patchgan import SNPatchGANDiscriminator
from methods.gatedconv import GatedConvInpaintor, load_official_deepfillv2, official_key_map
from methods.gatedconv.networks import DeepFillv2Generator

CONFIGS = Path(__file__).resolve().parents[1] / "methods" / "gatedconv" / "configs"

# The official layout: nipponjo networks_tf.Generator = states_tf_places2.pth['G'] (the PyTorch conversion of
# the official TF checkpoint), names and shapes in file order, as listed in the project's anchors
# (shared/anchors/deepfillv2_official_state_dict.txt).
OFFICIAL_G = [
    ("conv1.conv.weight", (48, 5, 5, 5)),
    ("conv1.conv.bias", (48,)),
    ("conv2_downsample.conv.weight", (96, 24, 3, 3)),
    ("conv2_downsample.conv.bias", (96,)),
    ("conv3.conv.weight", (96, 48, 3, 3)),
    ("conv3.conv.bias", (96,)),
    ("conv4_downsample.conv.weight", (192, 48, 3, 3)),
    ("conv4_downsample.conv.bias", (192,)),
    ("conv5.conv.weight", (192, 96, 3, 3)),
    ("conv5.conv.bias", (192,)),
    ("conv6.conv.weight", (192, 96, 3, 3)),
    ("conv6.conv.bias", (192,)),
    ("conv7_atrous.conv.weight", (192, 96, 3, 3)),
    ("conv7_atrous.conv.bias", (192,)),
    ("conv8_atrous.conv.weight", (192, 96, 3, 3)),
    ("conv8_atrous.conv.bias", (192,)),
    ("conv9_atrous.conv.weight", (192, 96, 3, 3)),
    ("conv9_atrous.conv.bias", (192,)),
    ("conv10_atrous.conv.weight", (192, 96, 3, 3)),
    ("conv10_atrous.conv.bias", (192,)),
    ("conv11.conv.weight", (192, 96, 3, 3)),
    ("conv11.conv.bias", (192,)),
    ("conv12.conv.weight", (192, 96, 3, 3)),
    ("conv12.conv.bias", (192,)),
    ("conv13_upsample.conv.conv.weight", (96, 96, 3, 3)),
    ("conv13_upsample.conv.conv.bias", (96,)),
    ("conv14.conv.weight", (96, 48, 3, 3)),
    ("conv14.conv.bias", (96,)),
    ("conv15_upsample.conv.conv.weight", (48, 48, 3, 3)),
    ("conv15_upsample.conv.conv.bias", (48,)),
    ("conv16.conv.weight", (24, 24, 3, 3)),
    ("conv16.conv.bias", (24,)),
    ("conv17.conv.weight", (3, 12, 3, 3)),
    ("conv17.conv.bias", (3,)),
    ("xconv1.conv.weight", (48, 3, 5, 5)),
    ("xconv1.conv.bias", (48,)),
    ("xconv2_downsample.conv.weight", (48, 24, 3, 3)),
    ("xconv2_downsample.conv.bias", (48,)),
    ("xconv3.conv.weight", (96, 24, 3, 3)),
    ("xconv3.conv.bias", (96,)),
    ("xconv4_downsample.conv.weight", (96, 48, 3, 3)),
    ("xconv4_downsample.conv.bias", (96,)),
    ("xconv5.conv.weight", (192, 48, 3, 3)),
    ("xconv5.conv.bias", (192,)),
    ("xconv6.conv.weight", (192, 96, 3, 3)),
    ("xconv6.conv.bias", (192,)),
    ("xconv7_atrous.conv.weight", (192, 96, 3, 3)),
    ("xconv7_atrous.conv.bias", (192,)),
    ("xconv8_atrous.conv.weight", (192, 96, 3, 3)),
    ("xconv8_atrous.conv.bias", (192,)),
    ("xconv9_atrous.conv.weight", (192, 96, 3, 3)),
    ("xconv9_atrous.conv.bias", (192,)),
    ("xconv10_atrous.conv.weight", (192, 96, 3, 3)),
    ("xconv10_atrous.conv.bias", (192,)),
    ("pmconv1.conv.weight", (48, 3, 5, 5)),
    ("pmconv1.conv.bias", (48,)),
    ("pmconv2_downsample.conv.weight", (48, 24, 3, 3)),
    ("pmconv2_downsample.conv.bias", (48,)),
    ("pmconv3.conv.weight", (96, 24, 3, 3)),
    ("pmconv3.conv.bias", (96,)),
    ("pmconv4_downsample.conv.weight", (192, 48, 3, 3)),
    ("pmconv4_downsample.conv.bias", (192,)),
    ("pmconv5.conv.weight", (192, 96, 3, 3)),
    ("pmconv5.conv.bias", (192,)),
    ("pmconv6.conv.weight", (192, 96, 3, 3)),
    ("pmconv6.conv.bias", (192,)),
    ("pmconv9.conv.weight", (192, 96, 3, 3)),
    ("pmconv9.conv.bias", (192,)),
    ("pmconv10.conv.weight", (192, 96, 3, 3)),
    ("pmconv10.conv.bias", (192,)),
    ("allconv11.conv.weight", (192, 192, 3, 3)),
    ("allconv11.conv.bias", (192,)),
    ("allconv12.conv.weight", (192, 96, 3, 3)),
    ("allconv12.conv.bias", (192,)),
    ("allconv13_upsample.conv.conv.weight", (96, 96, 3, 3)),
    ("allconv13_upsample.conv.conv.bias", (96,)),
    ("allconv14.conv.weight", (96, 48, 3, 3)),
    ("allconv14.conv.bias", (96,)),
    ("allconv15_upsample.conv.conv.weight", (48, 48, 3, 3)),
    ("allconv15_upsample.conv.conv.bias", (48,)),
    ("allconv16.conv.weight", (24, 24, 3, 3)),
    ("allconv16.conv.bias", (24,)),
    ("allconv17.conv.weight", (3, 12, 3, 3)),
    ("allconv17.conv.bias", (3,)),
]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # two shared CPU cores: intra-op threads fight other processes and make these small convs ~20x slower
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(autouse=True, scope="module")
def bench_scope():
    # models build their data preprocessor by registry name: mmengine needs the `bench` default scope
    # (the runner sets it through `register_all_modules`)
    DefaultScope.get_instance("test_gatedconv", scope_name="bench")
    return "bench"


def count(module):
    return sum(p.numel() for p in module.parameters())


def batch(b=2, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(b, 3, size, size, generator=g) * 2 - 1
    mask = torch.zeros(b, 1, size, size)
    mask[..., size // 4: size // 2 + 4, size // 8: size // 2] = 1
    mask[1:, ..., size // 2:, size // 2:] = 1
    return img, mask


# ---- sizes -----------------------------------------------------------------------------------------
def test_official_parameter_counts():
    cfg = Config.fromfile(str(CONFIGS / "gatedconv_paper.py")).model.to_dict()
    cfg.pop("type")
    model = GatedConvInpaintor(**cfg)
    assert count(model.generator) == 4_052_478
    assert count(model.disc) == 5_946_816
    assert count(model.generator) == sum(torch.Size(s).numel() for _, s in OFFICIAL_G)


def test_official_table_matches_key_map():
    km = official_key_map()
    assert list(km) == [k for k, _ in OFFICIAL_G]  # same names, same order as the official file
    ours = DeepFillv2Generator().state_dict()
    assert set(km.values()) == set(ours)
    for k, shape in OFFICIAL_G:
        assert tuple(ours[km[k]].shape) == shape, k


def test_generator_output_shapes_and_range():
    g = DeepFillv2Generator()
    img, mask = batch(1, 64)
    with torch.no_grad():
        s1, s2, info = g(img * (1 - mask), mask)
    assert s1.shape == s2.shape == (1, 3, 64, 64)
    assert s1.abs().max() <= 1 and s2.abs().max() <= 1 and info is None
    with pytest.raises(ValueError, match="divisible by 8"):
        g(torch.zeros(1, 3, 60, 60), torch.zeros(1, 1, 60, 60))


def test_model_generate_and_predict():
    model = GatedConvInpaintor(cnum=8, disc_cnum=8, num_classes=8, img_size=64).eval()
    img, mask = batch(2, 64)
    with torch.no_grad():
        out = model.generate(img, mask, return_attention=True)
        preds = model(img, mask, meta=[{}, {}], mode="predict")
    assert out["raw"].shape == out["stage1"].shape == (2, 3, 64, 64)
    assert out["attention"]["match"].shape == (2, 8, 8)
    assert len(preds) == 2 and preds[0]["composite"].shape == (3, 64, 64)
    known = (mask[0] < 0.5).expand(3, -1, -1)
    assert torch.equal(preds[0]["composite"][known], img[0][known])


def test_discriminator_4096_outputs_per_256_image():
    d = SNPatchGANDiscriminator()
    with torch.no_grad():
        out = d(torch.randn(2, 4, 256, 256))
    assert out.shape == (2, 4096)  # 256 channels x 4 x 4, flattened
    assert d.layers[0].conv.weight_orig.shape == (64, 4, 5, 5)


# ---- gated conv and padding -------------------------------------------------------------------------
def test_gated_conv_is_elu_features_times_sigmoid_gates():
    torch.manual_seed(0)
    layer = GatedConv2d(3, 8, 3, 1)
    x = torch.randn(2, 3, 9, 9)
    y = F.conv2d(x, layer.conv.weight, layer.conv.bias, padding=1)
    assert torch.allclose(layer(x), F.elu(y[:, :4]) * torch.sigmoid(y[:, 4:]), atol=1e-6)
    assert layer.out_features == 4
    out = GatedConv2d(3, 3, 3, 1, activation=None)  # output conv: ungated
    assert torch.allclose(out(x), F.conv2d(x, out.conv.weight, out.conv.bias, padding=1), atol=1e-6)
    relu = GatedConv2d(3, 8, 3, 1, activation="relu")  # pmconv6
    y = F.conv2d(x, relu.conv.weight, relu.conv.bias, padding=1)
    assert torch.allclose(relu(x), F.relu(y[:, :4]) * torch.sigmoid(y[:, 4:]), atol=1e-6)
    assert GatedUpConv2d(3, 8)(x).shape == (2, 4, 18, 18)


def test_tf_same_padding():
    assert same_padding(256, 3, 2) == (0, 1)  # stride 2: TF pads more at the bottom/right
    assert same_padding(256, 5, 2) == (1, 2)
    assert same_padding(255, 3, 2) == (1, 1)
    assert same_padding(64, 3, 1, 16) == (16, 16)
    assert same_padding(64, 5, 1) == (2, 2)
    torch.manual_seed(0)
    layer = GatedConv2d(3, 4, 3, 2, activation=None)
    x = torch.randn(1, 3, 8, 8)
    ref = F.conv2d(F.pad(x, (0, 1, 0, 1)), layer.conv.weight, layer.conv.bias, stride=2)
    assert ref.shape[-1] == 4 and torch.allclose(layer(x), ref, atol=1e-6)
    sym = pad_for_conv(torch.arange(4.).repeat(4, 1)[None, None], 5, mode="symmetric")  # TF SYMMETRIC: edge repeated
    assert sym.shape == (1, 1, 8, 8) and sym[0, 0, 0].tolist() == [1, 0, 0, 1, 2, 3, 3, 2]
    with pytest.raises(ValueError, match="padding"):
        GatedConv2d(3, 4, padding="same")


def test_tf_nearest_resize_of_the_mask():
    m = torch.arange(256.).view(1, 1, 1, 256).expand(1, 1, 2, 256)
    idx = tf_resize_nearest(m, (2, 64))[0, 0, 0].long().tolist()
    assert idx[0] == 0 and idx[-1] == 255 and idx[16] == 65  # round(i*255/63), not floor(i*4)
    # for x2 upsampling TF's aligned nearest equals plain nearest (i // 2), which GatedUpConv2d uses
    x = torch.arange(64.).view(1, 1, 1, 64)
    assert torch.equal(tf_resize_nearest(x, (1, 128)), F.interpolate(x, size=(1, 128), mode="nearest"))


# ---- official checkpoint ----------------------------------------------------------------------------
def _official_state_of(gen: DeepFillv2Generator) -> dict:
    """Our weights under the official names, assigned by position in the official file (independent of the
    loader's key map): the official file lists the layers in the network's order."""
    values = list(gen.state_dict().values())
    assert len(values) == len(OFFICIAL_G)
    state = {}
    for (name, shape), v in zip(OFFICIAL_G, values):
        assert tuple(v.shape) == shape, name
        state[name] = v.clone()
    return state


def test_official_checkpoint_loads_and_reproduces_outputs(tmp_path):
    torch.manual_seed(1)
    src = GatedConvInpaintor().eval()
    with torch.no_grad():
        for p in src.generator.parameters():
            p.normal_(0, 0.05)
    path = tmp_path / "states_tf_places2.pth"
    torch.save({"G": _official_state_of(src.generator)}, path)

    torch.manual_seed(2)
    dst = GatedConvInpaintor().eval()
    img, mask = batch(1, 64)
    with torch.no_grad():
        assert not torch.equal(dst.generate(img, mask)["raw"], src.generate(img, mask)["raw"])
        assert load_official_deepfillv2(dst, path) is dst
        a, b = src.generate(img, mask), dst.generate(img, mask)
    assert torch.equal(a["raw"], b["raw"]) and torch.equal(a["stage1"], b["stage1"])
    gen = DeepFillv2Generator()  # the bare generator is accepted too
    load_official_deepfillv2(gen, path)
    assert all(torch.equal(gen.state_dict()[k], v) for k, v in src.generator.state_dict().items())


def test_official_checkpoint_mismatch_names_every_problem(tmp_path):
    state = _official_state_of(DeepFillv2Generator())
    state["conv3.conv.kernel"] = state.pop("conv3.conv.weight")  # renamed key
    state["allconv17.conv.bias"] = torch.zeros(4)  # wrong shape
    path = tmp_path / "bad.pth"
    torch.save({"G": state}, path)
    with pytest.raises(CheckpointMismatchError) as err:
        load_official_deepfillv2(GatedConvInpaintor(), path)
    msg = str(err.value)
    assert "conv3.conv.kernel" in msg and "conv3.conv.weight" in msg
    assert "allconv17.conv.bias" in msg and "(4,)" in msg
    torch.save({"netG": state}, path)
    with pytest.raises(CheckpointMismatchError, match="'G'"):
        load_official_deepfillv2(GatedConvInpaintor(cnum=8), path)


# ---- losses and training ----------------------------------------------------------------------------
def test_hinge_losses():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-2.0, 0.5])
    assert hinge_d_loss(real, fake).item() == pytest.approx(0.5 + 0.75)
    assert hinge_d_loss(real, fake, scale=0.5).item() == pytest.approx(0.625)  # official gan_hinge_loss
    assert hinge_g_loss(fake).item() == pytest.approx(0.75)  # -mean(fake)


def test_registered_with_paper_and_smoke_configs():
    spec = METHODS["gatedconv"]
    assert spec.paper_name == "GatedConv" and "JiahuiYu/generative_inpainting" in spec.origin
    paper = Config.fromfile(str(spec.config_path(None, "paper")))
    smoke = Config.fromfile(str(spec.config_path(None, "smoke")))
    assert paper.model.cnum == 48 and paper.batch_size == 16 and paper.train_masks.type == "box_freeform"
    assert set(paper.optim_wrapper) == {"constructor", "generator", "disc"}
    assert tuple(paper.optim_wrapper.generator.optimizer.betas) == (0.5, 0.999)
    assert smoke.model.cnum <= 12 and smoke.train_iters <= 50


def test_one_train_step_with_smoke_config_updates_g_and_d(bench_scope):
    cfg = Config.fromfile(str(CONFIGS / "gatedconv_smoke.py"))
    torch.manual_seed(0)
    model = MODELS.build(cfg.model.to_dict())
    model.train()
    optim = build_optim_wrapper(model, cfg.optim_wrapper.to_dict())
    assert isinstance(optim, OptimWrapperDict) and set(optim.keys()) == {"generator", "disc"}
    before_g = [p.detach().clone() for p in model.generator.parameters()]
    before_d = [p.detach().clone() for p in model.disc.parameters()]
    img, mask = batch(2, 64)
    logs = model.train_step({"img": img, "mask": mask, "meta": [{}, {}]}, optim)
    assert {"disc.loss_disc", "g.loss_l1_stage1", "g.loss_l1_stage2", "g.loss_gan"} <= set(logs)
    assert all(torch.isfinite(torch.as_tensor(v)).all() for v in logs.values())
    changed_g = sum(not torch.equal(a, b) for a, b in zip(before_g, model.generator.parameters()))
    changed_d = sum(not torch.equal(a, b) for a, b in zip(before_d, model.disc.parameters()))
    assert changed_g == len(before_g) and changed_d == len(before_d)
    assert all(p.requires_grad for p in model.disc.parameters()) and model.disc.training
