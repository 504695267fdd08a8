"""SN-PatchGAN discriminator (Yu et al., ICCV 2019; official ``build_sn_patch_gan_discriminator``).

Six 5×5 stride-2 spectral-normalised convolutions with LeakyReLU(0.2) after **every** layer (the last
included), TF ``'SAME'`` padding, widths ``cnum·(1, 2, 4, 4, 4, 4)``, then the feature map is flattened:
a 256×256 input gives 256×4×4 = 4,096 outputs per image, each a GAN score for one receptive field
(train with the hinge loss, :mod:`methods.common.losses`). The official input is the image concatenated
with the mask (``gan_with_mask: True``), i.e. ``in_channels=4``.

Spectral norm: :func:`torch.nn.utils.spectral_norm` with one power iteration per training-mode forward
(as the official ``conv2d_spectral_norm``); state-dict keys ``layers.<i>.weight_orig/_u/_v`` and ``bias``.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

from bench.registry import MODELS
from methods.common.gated_conv import PADDING_MODES, pad_for_conv


class _SNConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int, padding: str):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.conv = spectral_norm(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=0))

    def forward(self, x):
        return self.conv(pad_for_conv(x, self.kernel_size, self.stride, 1, self.padding))


@MODELS.register_module()
class SNPatchGANDiscriminator(nn.Module):
    """SN-PatchGAN.

    Args:
        in_channels (int): 4 for the official [RGB, mask] input.
        cnum (int): base width (official 64 → widths 64, 128, 256, 256, 256, 256).
        num_layers (int): number of stride-2 convolutions (official 6).
        kernel_size (int): official 5.
        padding (str): ``'same_tf'`` (official TF SAME), ``'symmetric'`` or ``'zeros'``
            (see :mod:`methods.common.gated_conv`).
        negative_slope (float): LeakyReLU slope (TF ``tf.nn.leaky_relu`` default 0.2).

    ``forward(x)`` returns ``(N, C·h·w)``, flattened in channel-major order.
    """

    def __init__(self, in_channels: int = 4, cnum: int = 64, num_layers: int = 6, kernel_size: int = 5,
                 padding: str = "same_tf", negative_slope: float = 0.2):
        super().__init__()
        if padding not in PADDING_MODES:
            raise ValueError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
        widths = [cnum * min(2 ** i, 4) for i in range(num_layers)]
        chans = [in_channels] + widths
        self.layers = nn.ModuleList(_SNConv(chans[i], chans[i + 1], kernel_size, 2, padding)
                                    for i in range(num_layers))
        self.negative_slope = negative_slope
        self.reset_parameters()

    def reset_parameters(self):
        # TF defaults of the official code: glorot-uniform kernels, zero biases
        for layer in self.layers:
            nn.init.xavier_uniform_(layer.conv.weight_orig)
            nn.init.zeros_(layer.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = F.leaky_relu(layer(x), self.negative_slope)
        return x.flatten(1)
