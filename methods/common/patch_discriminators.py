"""PatchGAN discriminators: pix2pixHD/SPADE ``NLayerDiscriminator`` + ``MultiscaleDiscriminator``.

(DeepFill v2's SN-PatchGAN lives in ``methods/common/sn_patchgan.py``.)

Design facts (``shared/anchors/METHODS.md`` §4 and §2.2):

* ``NLayerDiscriminator`` (pix2pixHD / SPADE): 4×4 convs with padding 2 (``ceil((4 - 1) / 2)``); the first
  conv has stride 2 and no norm; the channel count doubles per layer up to ``max_channels`` (512); the
  last hidden layer has stride 1; a final 4×4 conv to 1 channel gives the patch map. LeakyReLU(0.2).
* ``MultiscaleDiscriminator``: ``num_scales`` identical-architecture (separately weighted)
  ``NLayerDiscriminator`` copies; scale k sees the input average-pooled k times
  (``AvgPool2d(3, stride 2, padding 1, count_include_pad=False)``). pix2pixHD/SPADE default ``num_D=2``
  (SWAP's Eq. 10 uses 3 scales).
All return raw scores (no sigmoid): pair them with hinge / LSGAN / BCE-with-logits losses.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm as _sn

from bench.registry import MODELS

from .blocks import make_norm

__all__ = ["NLayerDiscriminator", "MultiscaleDiscriminator"]


def _maybe_sn(conv: nn.Module, use: bool) -> nn.Module:
    return _sn(conv) if use else conv


@MODELS.register_module()
class NLayerDiscriminator(nn.Module):
    """pix2pixHD/SPADE PatchGAN.

    Args:
        in_channels (int): input channels (3 for RGB; add condition channels for a conditional D).
        base_channels (int): channels of the first conv (pix2pixHD ``ndf`` = 64).
        num_layers (int): number of stride-2 layers incl. the first (pix2pixHD ``n_layers_D`` = 3, SPADE 4);
            then one stride-1 hidden layer and the 1-channel output conv.
        max_channels (int): channel cap (512).
        norm (str): ``'instance'`` | ``'batch'`` | ``'none'`` for the hidden layers (not the first one).
        spectral_norm (bool): wrap every conv in spectral normalisation (SPADE's ``spectralinstance``).
        return_features (bool): ``forward`` returns the list of every layer's output (for feature
            matching), the last being the patch map; otherwise only the patch map (B×1×h×w).
    """

    def __init__(self, in_channels: int = 3, base_channels: int = 64, num_layers: int = 3, max_channels: int = 512,
                 norm: str = "instance", spectral_norm: bool = False, return_features: bool = False):
        super().__init__()
        kw, pw = 4, 2
        layers = [nn.Sequential(_maybe_sn(nn.Conv2d(in_channels, base_channels, kw, 2, pw), spectral_norm),
                                nn.LeakyReLU(0.2))]
        ch = base_channels
        for i in range(1, num_layers + 1):
            prev, ch = ch, min(ch * 2, max_channels)
            stride = 2 if i < num_layers else 1
            layers.append(nn.Sequential(_maybe_sn(nn.Conv2d(prev, ch, kw, stride, pw), spectral_norm),
                                        make_norm(norm, ch), nn.LeakyReLU(0.2)))
        layers.append(nn.Sequential(_maybe_sn(nn.Conv2d(ch, 1, kw, 1, pw), spectral_norm)))
        self.layers = nn.ModuleList(layers)
        self.return_features = return_features

    def forward(self, x: torch.Tensor):
        feats = []
        for layer in self.layers:
            x = layer(x)
            feats.append(x)
        return feats if self.return_features else x


@MODELS.register_module()
class MultiscaleDiscriminator(nn.Module):
    """``num_scales`` :class:`NLayerDiscriminator` on the input at full, 1/2, 1/4, ... resolution.

    Args:
        num_scales (int): number of discriminators / image scales (pix2pixHD ``num_D``).
        **kwargs: :class:`NLayerDiscriminator` arguments (``in_channels``, ``base_channels``, ``num_layers``,
            ``max_channels``, ``norm``, ``spectral_norm``, ``return_features``).

    ``forward(x)`` returns a list with one entry per scale (finest first): the patch map, or the feature list
    when ``return_features``.
    """

    def __init__(self, num_scales: int = 3, **kwargs):
        super().__init__()
        self.discs = nn.ModuleList(NLayerDiscriminator(**kwargs) for _ in range(num_scales))

    @staticmethod
    def downsample(x: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> list:
        outs = []
        for i, d in enumerate(self.discs):
            if i:
                x = self.downsample(x)
            outs.append(d(x))
        return outs
