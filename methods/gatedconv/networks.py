"""DeepFill v2 generator (official ``InpaintCAModel.build_inpaint_net``, JiahuiYu/generative_inpainting v2).

Two stages of gated convolutions (:class:`methods.common.gated_conv.GatedConv2d`), base width ``cnum``
(official 48); every layer below is listed with its *convolution* width (the gated output is half of it):

* **Stage 1 (coarse)**: input 5 ch = [masked image in [-1, 1] (holes 0), ones, ones·mask];
  encoder conv1 5×5 c, conv2 ↓2 2c, conv3 2c, conv4 ↓2 4c, conv5 4c, conv6 4c;
  neck 4 atrous 3×3 4c (dilation 2, 4, 8, 16); decoder conv11 4c, conv12 4c, ↑2+conv13 2c, conv14 2c,
  ↑2+conv15 c, conv16 c/2, conv17 → 3 (ungated), tanh.
* **Stage 2 (refine)**: input = stage-1 output pasted into the hole (3 ch only: v2 dropped the
  ones/mask channels);
  hallucination branch xconv1 5×5 c, xconv2 ↓2 c, xconv3 2c, xconv4 ↓2 2c, xconv5 4c, xconv6 4c,
  4 atrous 4c;
  attention branch pmconv1 5×5 c, pmconv2 ↓2 c, pmconv3 2c, pmconv4 ↓2 4c, pmconv5 4c,
  pmconv6 4c with **ReLU** features, contextual attention (3×3 matching at half resolution, 4×4
  reconstruction patches, softmax scale 10, fuse 3, only fully valid patches), pmconv9 4c, pmconv10 4c;
  merge = concat of both branches, then the stage-1 decoder layout (allconv11 … allconv17), tanh.

With ``cnum=48`` the generator has 4,052,478 parameters, exactly the official model.

:data:`LAYERS` is the single table from which the modules **and** the official key map
(:func:`official_key_map`) are built, so both always agree.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from methods.common.gated_conv import GatedConv2d, GatedUpConv2d, tf_resize_nearest

# (official TF/PyTorch-port layer name, our module path, in-width, conv-width, kernel, stride, dilation, kind)
# widths: an integer n means n·cnum/4 channels; 'in5'/'in3' are the fixed input widths, 'rgb' = 3 outputs.
# in-width = what the previous layer outputs (half its conv width when gated). kind: 'conv' (gated, ELU),
# 'relu' (gated, ReLU features), 'up' (NN ×2 + gated conv), 'out' (ungated output conv).
LAYERS: list[tuple[str, str, object, object, int, int, int, str]] = [
    # ---- stage 1 -----------------------------------------------------------------------------------
    ("conv1", "stage1.encoder.0", "in5", 4, 5, 1, 1, "conv"),
    ("conv2_downsample", "stage1.encoder.1", 2, 8, 3, 2, 1, "conv"),
    ("conv3", "stage1.encoder.2", 4, 8, 3, 1, 1, "conv"),
    ("conv4_downsample", "stage1.encoder.3", 4, 16, 3, 2, 1, "conv"),
    ("conv5", "stage1.encoder.4", 8, 16, 3, 1, 1, "conv"),
    ("conv6", "stage1.encoder.5", 8, 16, 3, 1, 1, "conv"),
    ("conv7_atrous", "stage1.neck.0", 8, 16, 3, 1, 2, "conv"),
    ("conv8_atrous", "stage1.neck.1", 8, 16, 3, 1, 4, "conv"),
    ("conv9_atrous", "stage1.neck.2", 8, 16, 3, 1, 8, "conv"),
    ("conv10_atrous", "stage1.neck.3", 8, 16, 3, 1, 16, "conv"),
    ("conv11", "stage1.decoder.0", 8, 16, 3, 1, 1, "conv"),
    ("conv12", "stage1.decoder.1", 8, 16, 3, 1, 1, "conv"),
    ("conv13_upsample", "stage1.decoder.2", 8, 8, 3, 1, 1, "up"),
    ("conv14", "stage1.decoder.3", 4, 8, 3, 1, 1, "conv"),
    ("conv15_upsample", "stage1.decoder.4", 4, 4, 3, 1, 1, "up"),
    ("conv16", "stage1.decoder.5", 2, 2, 3, 1, 1, "conv"),
    ("conv17", "stage1.decoder.6", 1, "rgb", 3, 1, 1, "out"),
    # ---- stage 2: hallucination (conv) branch --------------------------------------------------------
    ("xconv1", "stage2.hallucination.0", "in3", 4, 5, 1, 1, "conv"),
    ("xconv2_downsample", "stage2.hallucination.1", 2, 4, 3, 2, 1, "conv"),
    ("xconv3", "stage2.hallucination.2", 2, 8, 3, 1, 1, "conv"),
    ("xconv4_downsample", "stage2.hallucination.3", 4, 8, 3, 2, 1, "conv"),
    ("xconv5", "stage2.hallucination.4", 4, 16, 3, 1, 1, "conv"),
    ("xconv6", "stage2.hallucination.5", 8, 16, 3, 1, 1, "conv"),
    ("xconv7_atrous", "stage2.hallucination.6", 8, 16, 3, 1, 2, "conv"),
    ("xconv8_atrous", "stage2.hallucination.7", 8, 16, 3, 1, 4, "conv"),
    ("xconv9_atrous", "stage2.hallucination.8", 8, 16, 3, 1, 8, "conv"),
    ("xconv10_atrous", "stage2.hallucination.9", 8, 16, 3, 1, 16, "conv"),
    # ---- stage 2: contextual-attention branch --------------------------------------------------------
    ("pmconv1", "stage2.attention_encoder.0", "in3", 4, 5, 1, 1, "conv"),
    ("pmconv2_downsample", "stage2.attention_encoder.1", 2, 4, 3, 2, 1, "conv"),
    ("pmconv3", "stage2.attention_encoder.2", 2, 8, 3, 1, 1, "conv"),
    ("pmconv4_downsample", "stage2.attention_encoder.3", 4, 16, 3, 2, 1, "conv"),
    ("pmconv5", "stage2.attention_encoder.4", 8, 16, 3, 1, 1, "conv"),
    ("pmconv6", "stage2.attention_encoder.5", 8, 16, 3, 1, 1, "relu"),
    ("pmconv9", "stage2.attention_decoder.0", 8, 16, 3, 1, 1, "conv"),
    ("pmconv10", "stage2.attention_decoder.1", 8, 16, 3, 1, 1, "conv"),
    # ---- stage 2: merged decoder ---------------------------------------------------------------------
    ("allconv11", "stage2.decoder.0", 16, 16, 3, 1, 1, "conv"),
    ("allconv12", "stage2.decoder.1", 8, 16, 3, 1, 1, "conv"),
    ("allconv13_upsample", "stage2.decoder.2", 8, 8, 3, 1, 1, "up"),
    ("allconv14", "stage2.decoder.3", 4, 8, 3, 1, 1, "conv"),
    ("allconv15_upsample", "stage2.decoder.4", 4, 4, 3, 1, 1, "up"),
    ("allconv16", "stage2.decoder.5", 2, 2, 3, 1, 1, "conv"),
    ("allconv17", "stage2.decoder.6", 1, "rgb", 3, 1, 1, "out"),
]


def _width(spec, cnum: int) -> int:
    if spec == "in5":
        return 5
    if spec in ("in3", "rgb"):
        return 3
    return cnum * spec // 4


def _make_layer(row, cnum: int, padding: str) -> nn.Module:
    _, _, cin, cout, k, s, d, kind = row
    cin, cout = _width(cin, cnum), _width(cout, cnum)
    if kind == "up":
        return GatedUpConv2d(cin, cout, padding=padding)
    act = {"conv": "elu", "relu": "relu", "out": None}[kind]
    return GatedConv2d(cin, cout, k, s, d, activation=act, padding=padding)


def _build(prefix: str, cnum: int, padding: str) -> nn.Sequential:
    rows = [r for r in LAYERS if r[1].rsplit(".", 1)[0] == prefix]
    return nn.Sequential(*[_make_layer(r, cnum, padding) for r in rows])


def official_key_map() -> dict[str, str]:
    """Official (``states_tf_*.pth['G']``) key -> our generator key, for every weight and bias."""
    out = {}
    for official, ours, *_, kind in LAYERS:
        inner = "conv.conv" if kind == "up" else "conv"
        for p in ("weight", "bias"):
            out[f"{official}.{inner}.{p}"] = f"{ours}.{inner}.{p}"
    return out


def _attention_cfg(kwargs: dict | None) -> dict:
    cfg = dict(ksize=3, stride=1, rate=2, fuse_k=3, softmax_scale=10.0, fuse=True)  # official call
    cfg.update(kwargs or {})
    return cfg


class CoarseGenerator(nn.Module):
    """Stage 1: ``forward(x5) -> (B×3×H×W in [-1, 1])`` on the 5-channel input."""

    def __init__(self, cnum: int = 48, padding: str = "same_tf"):
        super().__init__()
        self.encoder = _build("stage1.encoder", cnum, padding)
        self.neck = _build("stage1.neck", cnum, padding)
        self.decoder = _build("stage1.decoder", cnum, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.decoder(self.neck(self.encoder(x))))


class RefineGenerator(nn.Module):
    """Stage 2: ``forward(x3, mask) -> (output, attention info)``; ``mask`` (B×1×H×W, 1 = hole) is
    downscaled to the attention features' size as the official ``resize_mask_like`` does."""

    def __init__(self, cnum: int = 48, padding: str = "same_tf", attention_cfg: dict | None = None):
        super().__init__()
        self.hallucination = _build("stage2.hallucination", cnum, padding)
        self.attention_encoder = _build("stage2.attention_encoder", cnum, padding)
        from methods.common.contextual_attention import ContextualAttention

        cfg = _attention_cfg(attention_cfg)
        self.attention_rate = int(cfg["rate"])
        self.attention = ContextualAttention(**cfg)
        self.attention_decoder = _build("stage2.attention_decoder", cnum, padding)
        self.decoder = _build("stage2.decoder", cnum, padding)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, return_attention: bool = False):
        hallu = self.hallucination(x)
        feat = self.attention_encoder(x)
        # official: mask_s = resize_mask_like(mask, x) (TF nearest, align_corners) to the 1/4 features, then
        # contextual_attention resizes it again by 1/rate the same way. We hand the attention the mask on its
        # matching grid (it upsamples by nearest and max-pools back, which returns that grid unchanged).
        mask_s = tf_resize_nearest(mask, tuple(feat.shape[-2:]))
        rate = self.attention_rate
        if rate > 1:
            mask_s = tf_resize_nearest(mask_s, (feat.shape[-2] // rate, feat.shape[-1] // rate))
        attended = self.attention(feat, mask_s, return_match=return_attention)
        info = None
        if isinstance(attended, (tuple, list)):
            attended, info = attended
        pm = self.attention_decoder(attended)
        out = torch.tanh(self.decoder(torch.cat([hallu, pm], dim=1)))
        return out, info


class DeepFillv2Generator(nn.Module):
    """The two-stage DeepFill v2 generator.

    Args:
        cnum (int): base convolution width (official 48; must be a multiple of 4).
        padding (str): ``'same_tf'`` (official), ``'symmetric'`` or ``'zeros'``
            (see :mod:`methods.common.gated_conv`).
        attention_cfg (dict | None): overrides of the contextual-attention options
            (official: ksize 3, stride 1, rate 2, fuse_k 3, softmax_scale 10, fuse True).

    ``forward(x, mask)``: ``x`` the masked image (B×3×H×W in [-1, 1], holes 0), ``mask`` B×1×H×W
    (1 = hole); returns ``(stage1, stage2, attention_info)``; ``attention_info`` is ``None`` unless
    ``return_attention`` (then the contextual attention's ``info`` dict: best match per query on its grid).
    H and W must be multiples of 8 (the attention's matching grid is 1/8 of the image).
    """

    def __init__(self, cnum: int = 48, padding: str = "same_tf", attention_cfg: dict | None = None):
        super().__init__()
        if cnum % 4:
            raise ValueError(f"cnum must be a multiple of 4 (cnum/4 channels reach the output conv), got {cnum}")
        self.cnum = cnum
        self.padding = padding
        self.stage1 = CoarseGenerator(cnum, padding)
        self.stage2 = RefineGenerator(cnum, padding, attention_cfg)
        self.reset_parameters()

    def reset_parameters(self):
        # TF defaults of the official code (tf.layers.conv2d): glorot-uniform kernels, zero biases
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, return_attention: bool = False):
        h, w = x.shape[-2:]
        if h % 8 or w % 8:
            raise ValueError(f"DeepFill v2 needs H and W divisible by 8, got {h}×{w}")
        ones = torch.ones_like(mask)
        stage1 = self.stage1(torch.cat([x, ones, ones * mask], dim=1))
        refine_in = stage1 * mask + x * (1.0 - mask)
        stage2, info = self.stage2(refine_in, mask, return_attention)
        return stage1, stage2, info
