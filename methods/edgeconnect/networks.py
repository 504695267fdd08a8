"""EdgeConnect networks (Nazeri et al., "EdgeConnect: Generative Image Inpainting with Adversarial Edge
Learning", ICCVW 2019), written from the documented layout of the official code (knazeri/edge-connect,
``src/networks.py``).

Module names and ``nn.Sequential`` indices equal the official ones, so released ``EdgeModel_gen.pth`` /
``InpaintingModel_gen.pth`` / ``*_dis.pth`` state dicts load key-for-key (:mod:`methods.edgeconnect.weights`).

* :class:`EdgeGenerator` (``encoder`` / ``middle`` / ``decoder``): [gray, edges, mask] → edge map (sigmoid);
  spectral norm on every conv but the last; residual-block convs have no bias under spectral norm.
* :class:`InpaintGenerator`: [RGB, edges] → RGB in ``[0, 1]`` (``(tanh + 1) / 2``); no spectral norm.
* :class:`EdgeConnectDiscriminator`: 70×70 PatchGAN (``conv1..conv5``), returns ``(scores, [conv1..conv5])``
  for feature matching; 30×30 scores at 256×256. The official module also aliases ``features = conv1``, which
  duplicates ``conv1.*`` as ``features.*`` in its state dict; ours has no alias and the loader drops the
  duplicates explicitly.

Paper sizes (``width_mult=1``): edge G 10,761,089, inpaint G 10,774,595, D 2,762,752 (2-ch) / 2,763,776 (3-ch).
"""
from __future__ import annotations

import torch
import torch.nn as nn
from torch.nn.utils import spectral_norm

from bench.registry import MODELS


def _sn(module: nn.Module, use: bool) -> nn.Module:
    return spectral_norm(module) if use else module


def _in(ch):
    return nn.InstanceNorm2d(ch, affine=False, track_running_stats=False)


class ResnetBlock(nn.Module):
    """[reflect-pad d, conv3×3 dilation d, IN, ReLU, reflect-pad 1, conv3×3, IN] + identity (no ReLU after)."""

    def __init__(self, dim: int, dilation: int = 2, use_spectral_norm: bool = False):
        super().__init__()
        bias = not use_spectral_norm
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(dilation),
            _sn(nn.Conv2d(dim, dim, 3, padding=0, dilation=dilation, bias=bias), use_spectral_norm),
            _in(dim),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            _sn(nn.Conv2d(dim, dim, 3, padding=0, dilation=1, bias=bias), use_spectral_norm),
            _in(dim),
        )

    def forward(self, x):
        return x + self.conv_block(x)


class _EncoderResDecoder(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, cnum: int, residual_blocks: int, use_sn: bool):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.ReflectionPad2d(3),
            _sn(nn.Conv2d(in_channels, cnum, 7, padding=0), use_sn), _in(cnum), nn.ReLU(True),
            _sn(nn.Conv2d(cnum, cnum * 2, 4, stride=2, padding=1), use_sn), _in(cnum * 2), nn.ReLU(True),
            _sn(nn.Conv2d(cnum * 2, cnum * 4, 4, stride=2, padding=1), use_sn), _in(cnum * 4), nn.ReLU(True),
        )
        self.middle = nn.Sequential(*[ResnetBlock(cnum * 4, 2, use_sn) for _ in range(residual_blocks)])
        self.decoder = nn.Sequential(
            _sn(nn.ConvTranspose2d(cnum * 4, cnum * 2, 4, stride=2, padding=1), use_sn), _in(cnum * 2), nn.ReLU(True),
            _sn(nn.ConvTranspose2d(cnum * 2, cnum, 4, stride=2, padding=1), use_sn), _in(cnum), nn.ReLU(True),
            nn.ReflectionPad2d(3),
            nn.Conv2d(cnum, out_channels, 7, padding=0),
        )
        init_normal_(self)

    def features(self, x):
        return self.decoder(self.middle(self.encoder(x)))


@MODELS.register_module()
class EdgeGenerator(_EncoderResDecoder):
    """Edge generator G1: input [gray masked (holes = 1), edges masked (holes = 0), mask] (3 ch, [0, 1])."""

    def __init__(self, cnum: int = 64, residual_blocks: int = 8, use_spectral_norm: bool = True, in_channels: int = 3):
        super().__init__(in_channels, 1, cnum, residual_blocks, use_spectral_norm)

    def forward(self, x):
        return torch.sigmoid(self.features(x))


@MODELS.register_module()
class InpaintGenerator(_EncoderResDecoder):
    """Inpainting generator G2: input [RGB masked (holes = 1), edges] (4 ch, [0, 1]); output RGB in [0, 1]."""

    def __init__(self, cnum: int = 64, residual_blocks: int = 8, use_spectral_norm: bool = False, in_channels: int = 4):
        super().__init__(in_channels, 3, cnum, residual_blocks, use_spectral_norm)

    def forward(self, x):
        return (torch.tanh(self.features(x)) + 1) / 2


@MODELS.register_module()
class EdgeConnectDiscriminator(nn.Module):
    """70×70 PatchGAN: conv4×4 s2 (in→c, c→2c, 2c→4c), s1 (4c→8c, 8c→1), padding 1, LeakyReLU 0.2, spectral
    norm everywhere (no bias under SN). ``use_sigmoid`` applies the official sigmoid to the scores (the
    harness's nsgan loss works on logits instead, see :mod:`methods.edgeconnect.model`)."""

    def __init__(self, in_channels: int, cnum: int = 64, use_sigmoid: bool = False, use_spectral_norm: bool = True):
        super().__init__()
        self.use_sigmoid = use_sigmoid
        bias = not use_spectral_norm
        chans = [in_channels, cnum, cnum * 2, cnum * 4, cnum * 8]
        strides = [2, 2, 2, 1]
        for i in range(4):
            setattr(self, f"conv{i + 1}", nn.Sequential(
                _sn(nn.Conv2d(chans[i], chans[i + 1], 4, strides[i], 1, bias=bias), use_spectral_norm),
                nn.LeakyReLU(0.2, inplace=True)))
        self.conv5 = nn.Sequential(_sn(nn.Conv2d(cnum * 8, 1, 4, 1, 1, bias=bias), use_spectral_norm))
        init_normal_(self)

    def forward(self, x):
        feats = []
        for i in range(1, 6):
            x = getattr(self, f"conv{i}")(x)
            feats.append(x)
        out = torch.sigmoid(x) if self.use_sigmoid else x
        return out, feats


def init_normal_(module: nn.Module, std: float = 0.02) -> None:
    """The official ``BaseNetwork.init_weights('normal', 0.02)``: conv weights N(0, 0.02), biases 0 (under
    spectral norm the official call writes through ``weight`` into ``weight_orig``'s storage)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight_orig if hasattr(m, "weight_orig") else m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
