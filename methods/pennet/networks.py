"""PEN-Net networks (Zeng et al., "Learning Pyramid-Context Encoder Network for High-Quality Image
Inpainting", CVPR 2019), written from the documented layout of the official PyTorch code
(researchmm/PEN-Net-for-Inpainting, branch ``pytorch``, ``model/pennet.py``).

Module and attribute names follow the official ones so that released ``gen_XXXXX.pth`` / ``dis_XXXXX.pth``
state dicts load key-for-key (see :mod:`methods.pennet.weights`):

* generator: ``dw_conv01..06`` (encoder), ``at_conv05..01`` (attention transfer network, ATN),
  ``up_conv05..01`` (decoder), ``torgb5..1`` (pyramid outputs), ``decoder`` (full-resolution head);
* discriminator: ``encoder.{0,2,4,6}`` (spectral-normalised) and ``classifier``.

With ``cnum=32`` / ``cnum=64`` (the official widths) the generator has 10,231,538 and the discriminator
4,318,401 parameters. ``cnum`` is the width knob used by the CPU smoke preset.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

from bench.registry import MODELS


def _patches(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """Patches of ``x`` (B×C×H×W) as B×L×C×k×k, zero-padding by 1 unless ``kernel == 1`` (official rule)."""
    if kernel != 1:
        x = F.pad(x, (1, 1, 1, 1))
    b, c = x.shape[:2]
    p = x.unfold(2, kernel, stride).unfold(3, kernel, stride)  # B×C×h×w×k×k
    return p.permute(0, 2, 3, 1, 4, 5).reshape(b, -1, c, kernel, kernel)


class AtnConv(nn.Module):
    """Attention transfer: fill the holes of the large low-level map ``x1`` with its own patches, weighted
    by the cosine similarity of the high-level map ``x2`` (half the resolution of ``x1``).

    Matching: ``ksize``×``ksize`` patches of ``x2`` (stride ``stride``), L2-normalised with ``max(norm, 1e-4)``,
    correlated with ``x2``; patches touching the (bilinearly resized) hole are excluded before and after a
    softmax with scale ``softmax_scale``. Transfer: ``2·rate``×``2·rate`` raw patches of ``x1`` with stride
    ``rate·stride``, pasted back by a transposed convolution and divided by 4. Optional fusion: ``groups``
    parallel 3×3 convolutions with dilations ``rates`` (each ``out_channels / groups`` wide) + ReLU.

    The batch is handled with grouped convolutions (one group per sample) instead of a Python loop.
    """

    def __init__(self, in_channels: int = 128, out_channels: int = 64, groups: int = 4, ksize: int = 3,
                 stride: int = 1, rate: int = 2, softmax_scale: float = 10.0, fuse: bool = True,
                 rates=(1, 2, 4, 8)):
        super().__init__()
        self.ksize, self.stride, self.rate = ksize, stride, rate
        self.softmax_scale, self.groups, self.fuse = softmax_scale, groups, fuse
        if fuse:
            if out_channels % groups:
                raise ValueError(f"out_channels ({out_channels}) must be divisible by groups ({groups})")
            for i in range(groups):
                setattr(self, f"conv{i:02d}", nn.Sequential(
                    nn.Conv2d(in_channels, out_channels // groups, 3, padding=rates[i], dilation=rates[i]),
                    nn.ReLU(inplace=True)))

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, mask: torch.Tensor | None = None,
                return_scores: bool = False):
        b, c1, h1, w1 = x1.shape
        _, c2, h2, w2 = x2.shape
        kraw = 2 * self.rate
        raw = _patches(x1, kraw, self.rate * self.stride)              # B×L×C1×kr×kr
        w = _patches(x2, self.ksize, self.stride)                       # B×L×C2×k×k
        n = w.shape[1]
        if mask is None:
            mask = x2.new_zeros(b, 1, h2, w2)
        else:
            mask = F.interpolate(mask, size=(h2, w2), mode="bilinear", align_corners=True)
        m = _patches(mask, self.ksize, self.stride).mean(dim=(2, 3, 4))  # B×L
        mm = (m == 0).to(x2.dtype).view(b, n, 1, 1)                     # 1 = fully known patch
        norm = w.pow(2).sum(dim=(2, 3, 4), keepdim=True).sqrt().clamp_min(1e-4)
        w = (w / norm).reshape(b * n, c2, self.ksize, self.ksize)
        pad = 0 if self.ksize == 1 else 1
        scores = F.conv2d(x2.reshape(1, b * c2, h2, w2), w, padding=pad, groups=b).view(b, n, h2, w2)
        scores = scores * mm
        scores = F.softmax(scores * self.softmax_scale, dim=1) * mm
        scores = scores.clamp_min(1e-8)
        y = F.conv_transpose2d(scores.reshape(1, b * n, h2, w2), raw.reshape(b * n, c1, kraw, kraw),
                               stride=self.rate, padding=1, groups=b) / 4.0
        y = y.view(b, c1, y.shape[-2], y.shape[-1])
        if self.fuse:
            y = torch.cat([getattr(self, f"conv{i:02d}")(y) for i in range(self.groups)], dim=1)
        return (y, scores) if return_scores else y


def _down(cin, cout, act):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=2, padding=1), act)


def _up(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=1, padding=1), nn.ReLU(inplace=True))


def _torgb(cin):
    return nn.Sequential(nn.Conv2d(cin, 3, 1), nn.Tanh())


def _up2(x):
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


@MODELS.register_module()
class PENNetGenerator(nn.Module):
    """Pyramid-context encoder (6 stride-2 levels), ATN deep→shallow, pyramid decoder.

    Input: the masked image with holes set to +1, concatenated with the mask (4 channels, ``[-1, 1]``), and
    the mask (1 = hole) for the ATN. Output: ``(pyramid, image)`` where ``pyramid`` lists the ``torgb``
    outputs from the finest (H/2) to the coarsest (H/32) and ``image`` is B×3×H×W in ``[-1, 1]`` (tanh).
    ``H`` must be a multiple of 64.
    """

    def __init__(self, cnum: int = 32, in_channels: int = 4):
        super().__init__()
        lrelu = lambda: nn.LeakyReLU(0.2, inplace=True)  # noqa: E731
        self.dw_conv01 = _down(in_channels, cnum, lrelu())
        self.dw_conv02 = _down(cnum, cnum * 2, lrelu())
        self.dw_conv03 = _down(cnum * 2, cnum * 4, lrelu())
        self.dw_conv04 = _down(cnum * 4, cnum * 8, lrelu())
        self.dw_conv05 = _down(cnum * 8, cnum * 16, lrelu())
        self.dw_conv06 = _down(cnum * 16, cnum * 16, nn.ReLU(inplace=True))
        self.at_conv05 = AtnConv(cnum * 16, cnum * 16, ksize=1, fuse=False)
        self.at_conv04 = AtnConv(cnum * 8, cnum * 8)
        self.at_conv03 = AtnConv(cnum * 4, cnum * 4)
        self.at_conv02 = AtnConv(cnum * 2, cnum * 2)
        self.at_conv01 = AtnConv(cnum, cnum)
        self.up_conv05 = _up(cnum * 16, cnum * 16)
        self.up_conv04 = _up(cnum * 32, cnum * 8)
        self.up_conv03 = _up(cnum * 16, cnum * 4)
        self.up_conv02 = _up(cnum * 8, cnum * 2)
        self.up_conv01 = _up(cnum * 4, cnum)
        self.torgb5 = _torgb(cnum * 32)
        self.torgb4 = _torgb(cnum * 16)
        self.torgb3 = _torgb(cnum * 8)
        self.torgb2 = _torgb(cnum * 4)
        self.torgb1 = _torgb(cnum * 2)
        self.decoder = nn.Sequential(
            nn.Conv2d(cnum * 2, cnum, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(cnum, 3, 3, padding=1), nn.Tanh())
        init_normal_(self)

    def forward(self, x: torch.Tensor, mask: torch.Tensor):
        if x.shape[-1] % 64 or x.shape[-2] % 64:
            raise ValueError(f"PEN-Net needs image sides divisible by 64 (6 stride-2 levels), got {tuple(x.shape[-2:])}")
        x1 = self.dw_conv01(x)
        x2 = self.dw_conv02(x1)
        x3 = self.dw_conv03(x2)
        x4 = self.dw_conv04(x3)
        x5 = self.dw_conv05(x4)
        x6 = self.dw_conv06(x5)
        # attention transfer, deepest first; each level uses the already-filled level below it
        x5 = self.at_conv05(x5, x6, mask)
        x4 = self.at_conv04(x4, x5, mask)
        x3 = self.at_conv03(x3, x4, mask)
        x2 = self.at_conv02(x2, x3, mask)
        x1 = self.at_conv01(x1, x2, mask)
        up5 = self.up_conv05(_up2(x6))
        s5 = torch.cat([up5, x5], 1)
        up4 = self.up_conv04(_up2(s5))
        s4 = torch.cat([up4, x4], 1)
        up3 = self.up_conv03(_up2(s4))
        s3 = torch.cat([up3, x3], 1)
        up2 = self.up_conv02(_up2(s3))
        s2 = torch.cat([up2, x2], 1)
        up1 = self.up_conv01(_up2(s2))
        s1 = torch.cat([up1, x1], 1)
        pyramid = [self.torgb1(s1), self.torgb2(s2), self.torgb3(s3), self.torgb4(s4), self.torgb5(s5)]
        out = self.decoder(_up2(s1))
        return pyramid, out


@MODELS.register_module()
class PENNetDiscriminator(nn.Module):
    """Official PEN-Net D: 4 spectral-normalised 5×5 convs (strides 2, 2, 2, 1; padding 1; no bias; widths
    ``cnum·(1, 2, 4, 8)``) with LeakyReLU(0.2), then a plain 5×5 classifier. 27×27 scores for 256×256 input.
    Raw scores (hinge loss, the official ``use_sigmoid=False``)."""

    def __init__(self, in_channels: int = 3, cnum: int = 64):
        super().__init__()
        chans = [in_channels, cnum, cnum * 2, cnum * 4, cnum * 8]
        strides = [2, 2, 2, 1]
        layers = []
        for i in range(4):
            layers += [spectral_norm(nn.Conv2d(chans[i], chans[i + 1], 5, strides[i], 1, bias=False)),
                       nn.LeakyReLU(0.2, inplace=True)]
        self.encoder = nn.Sequential(*layers)
        self.classifier = nn.Conv2d(cnum * 8, 1, 5, 1, 1)
        init_normal_(self)

    def forward(self, x):
        return self.classifier(self.encoder(x))


def init_normal_(module: nn.Module, std: float = 0.02) -> None:
    """The official ``BaseNetwork.init_weights('normal', 0.02)``: conv weights N(0, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            weight = m.weight_orig if hasattr(m, "weight_orig") else m.weight
            nn.init.normal_(weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
