"""Spatially-adaptive normalization (SPADE, Park et al., CVPR 2019) and the SPADE residual block.

Design facts (``shared/anchors/METHODS.md`` §4, from NVlabs/SPADE ``normalization.py`` / ``architecture.py``):

* :class:`SPADE`: parameter-free normalization of x (affine=False), segmentation map resized **nearest** to the
  feature size, ``shared`` = conv3×3(label_nc → hidden = 128) + ReLU, ``gamma`` / ``beta`` = conv3×3(hidden →
  C), and ``out = norm(x) · (1 + γ) + β``. With γ = β = 0 the layer returns exactly ``norm(x)``.
* :class:`SPADEResBlock`: ``x_s + conv(act(SPADE(conv(act(SPADE(x, s))), s)))`` with middle width
  ``min(fin, fout)``, LeakyReLU(0.2), a learned shortcut (SPADE → conv1×1 without bias) when ``fin != fout``,
  optional spectral normalisation of the convs (SPADE's ``spectral`` G option).

Used by SGE-Net (``methods/sgenet``). The label map may be one-hot or soft (class probabilities): SGE-Net feeds
the confidence-gated segmentation probabilities.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm as _sn

from bench.registry import MODELS

__all__ = ["SPADE", "SPADEResBlock"]


def _param_free_norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if kind == "batch":
        return nn.BatchNorm2d(channels, affine=False)
    raise ValueError(f"SPADE param-free norm must be 'instance' or 'batch', got {kind!r}")


@MODELS.register_module()
class SPADE(nn.Module):
    """``norm(x) · (1 + γ(s)) + β(s)``.

    Args:
        norm_channels (int): C, channels of x.
        label_channels (int): channels of the segmentation map s (k one-hot / probabilities).
        hidden (int): width of the shared conv (SPADE: 128).
        kernel_size (int): of the three convs (SPADE ``spade...3x3``: 3).
        norm (str): parameter-free normalization, ``'instance'`` (SPADE's default for G) or ``'batch'``.
    """

    def __init__(self, norm_channels: int, label_channels: int, hidden: int = 128, kernel_size: int = 3,
                 norm: str = "instance"):
        super().__init__()
        pad = kernel_size // 2
        self.param_free_norm = _param_free_norm(norm, norm_channels)
        self.shared = nn.Sequential(nn.Conv2d(label_channels, hidden, kernel_size, padding=pad), nn.ReLU())
        self.gamma = nn.Conv2d(hidden, norm_channels, kernel_size, padding=pad)
        self.beta = nn.Conv2d(hidden, norm_channels, kernel_size, padding=pad)

    def modulation(self, seg: torch.Tensor, size) -> tuple[torch.Tensor, torch.Tensor]:
        """(γ, β) from ``seg`` resized (nearest) to ``size``."""
        if seg.shape[-2:] != tuple(size):
            seg = F.interpolate(seg, size=tuple(size), mode="nearest")
        h = self.shared(seg)
        return self.gamma(h), self.beta(h)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        gamma, beta = self.modulation(seg, x.shape[-2:])
        return self.param_free_norm(x) * (1 + gamma) + beta


@MODELS.register_module()
class SPADEResBlock(nn.Module):
    """SPADE residual block (SPADE ``SPADEResnetBlock``).

    Args:
        in_channels (int), out_channels (int): fin, fout.
        label_channels (int): channels of the segmentation map.
        hidden (int): SPADE shared width (128).
        spectral_norm (bool): spectral normalisation of the three convs.
        norm (str): SPADE's parameter-free norm.
    """

    def __init__(self, in_channels: int, out_channels: int, label_channels: int, hidden: int = 128,
                 spectral_norm: bool = False, norm: str = "instance"):
        super().__init__()
        mid = min(in_channels, out_channels)
        wrap = _sn if spectral_norm else (lambda m: m)
        self.norm_0 = SPADE(in_channels, label_channels, hidden, norm=norm)
        self.conv_0 = wrap(nn.Conv2d(in_channels, mid, 3, padding=1))
        self.norm_1 = SPADE(mid, label_channels, hidden, norm=norm)
        self.conv_1 = wrap(nn.Conv2d(mid, out_channels, 3, padding=1))
        self.learned_shortcut = in_channels != out_channels
        if self.learned_shortcut:
            self.norm_s = SPADE(in_channels, label_channels, hidden, norm=norm)
            self.conv_s = wrap(nn.Conv2d(in_channels, out_channels, 1, bias=False))

    @staticmethod
    def _act(x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, 0.2)

    def forward(self, x: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
        shortcut = self.conv_s(self.norm_s(x, seg)) if self.learned_shortcut else x
        dx = self.conv_0(self._act(self.norm_0(x, seg)))
        dx = self.conv_1(self._act(self.norm_1(dx, seg)))
        return shortcut + dx
