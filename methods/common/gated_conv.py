"""Gated convolution (Yu et al., "Free-Form Image Inpainting with Gated Convolution", ICCV 2019) and
TensorFlow-compatible ``'SAME'`` padding.

Gated convolution, as in the official ``gen_conv`` (``inpaint_ops.py`` of JiahuiYu/generative_inpainting):
one convolution produces ``out_channels`` maps; the first half are features (ELU by default), the second
half gates (sigmoid), and the layer returns ``features * gates``. The layer's *effective* width is
therefore ``out_channels // 2``. An output layer (``activation=None``) is an ordinary, ungated convolution.

Padding modes (``padding`` argument; a documented switch because loading official TF weights depends on it):

* ``'same_tf'`` (default): TensorFlow ``padding='SAME'`` with zeros, which is what the official generator
  and discriminator use (``inpaint.yml``: ``padding: 'SAME'``). Output size is ``ceil(in / stride)``; the
  total padding ``max((out - 1) * stride + dilation * (k - 1) + 1 - in, 0)`` is split with the extra pixel
  at the **bottom/right** (so a 3x3 stride-2 conv on 256 pads 0 top, 1 bottom). Computed from the actual
  input size at every call.
* ``'symmetric'``: the official code's other option (``padding='SYMMETRIC'``): mirror padding that repeats
  the edge pixel (TF ``tf.pad(mode='SYMMETRIC')``), ``dilation * (k - 1) // 2`` on every side, then a VALID
  convolution. Not what the released models were trained with.
* ``'zeros'``: PyTorch's usual symmetric zero padding ``dilation * (k - 1) // 2`` (what PyTorch
  re-implementations such as mmagic use). For stride 2 it samples a grid shifted by one pixel compared with
  TF, so official weights give slightly different outputs.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

PADDING_MODES = ("same_tf", "symmetric", "zeros")


def same_padding(size: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TF ``'SAME'`` padding ``(before, after)`` along one axis of length ``size`` (extra pixel after)."""
    effective = dilation * (kernel_size - 1) + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _symmetric_pad_axis(x: torch.Tensor, before: int, after: int, dim: int) -> torch.Tensor:
    """Mirror padding that includes the edge element (TF 'SYMMETRIC') along ``dim``."""
    size = x.shape[dim]
    if before > size or after > size:
        raise ValueError(f"symmetric padding of {max(before, after)} needs a feature map of at least that size, "
                         f"got {size}; use padding='same_tf' for such small inputs")
    parts = []
    if before:
        parts.append(x.narrow(dim, 0, before).flip(dim))
    parts.append(x)
    if after:
        parts.append(x.narrow(dim, size - after, after).flip(dim))
    return torch.cat(parts, dim) if len(parts) > 1 else x


def pad_for_conv(x: torch.Tensor, kernel_size: int, stride: int = 1, dilation: int = 1,
                 mode: str = "same_tf") -> torch.Tensor:
    """Pad ``x`` (N×C×H×W) so that a VALID convolution with these settings behaves like ``mode``."""
    if mode == "same_tf":
        top, bottom = same_padding(x.shape[-2], kernel_size, stride, dilation)
        left, right = same_padding(x.shape[-1], kernel_size, stride, dilation)
        if top or bottom or left or right:
            x = F.pad(x, (left, right, top, bottom))
        return x
    p = dilation * (kernel_size - 1) // 2
    if mode == "zeros":
        return F.pad(x, (p, p, p, p)) if p else x
    if mode == "symmetric":
        x = _symmetric_pad_axis(x, p, p, -2)
        return _symmetric_pad_axis(x, p, p, -1)
    raise ValueError(f"padding must be one of {PADDING_MODES}, got {mode!r}")


_ACTIVATIONS = {"elu": F.elu, "relu": F.relu, "leaky_relu": lambda t: F.leaky_relu(t, 0.2)}


class GatedConv2d(nn.Module):
    """``features * sigmoid(gates)`` from one convolution (official ``gen_conv``).

    Args:
        in_channels (int): input channels.
        out_channels (int): channels of the convolution (TF ``cnum``); the gated output has half of them.
        kernel_size (int), stride (int), dilation (int): convolution settings.
        activation (str | None): feature activation ``'elu'`` (default), ``'relu'``, ``'leaky_relu'``;
            ``None`` makes an ungated output convolution returning all ``out_channels``.
        padding (str): one of :data:`PADDING_MODES` (see the module docstring).

    The single parameterised child is ``self.conv`` (an ``nn.Conv2d`` with no padding of its own).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 dilation: int = 1, activation: str | None = "elu", padding: str = "same_tf"):
        super().__init__()
        if padding not in PADDING_MODES:
            raise ValueError(f"padding must be one of {PADDING_MODES}, got {padding!r}")
        if activation is not None:
            if activation not in _ACTIVATIONS:
                raise ValueError(f"activation must be None or one of {sorted(_ACTIVATIONS)}, got {activation!r}")
            if out_channels % 2:
                raise ValueError(f"a gated conv needs an even number of channels, got {out_channels}")
        self.kernel_size, self.stride, self.dilation = kernel_size, stride, dilation
        self.activation = activation
        self.padding = padding
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding=0, dilation=dilation)

    @property
    def gated(self) -> bool:
        return self.activation is not None

    @property
    def out_features(self) -> int:
        """Channels this layer outputs (half the convolution's for a gated layer)."""
        return self.conv.out_channels // 2 if self.gated else self.conv.out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(pad_for_conv(x, self.kernel_size, self.stride, self.dilation, self.padding))
        if not self.gated:
            return x
        features, gates = x.chunk(2, dim=1)
        return _ACTIVATIONS[self.activation](features) * torch.sigmoid(gates)

    def extra_repr(self) -> str:
        return f"activation={self.activation}, padding={self.padding!r}"


class GatedUpConv2d(nn.Module):
    """Nearest-neighbour ×2 upsampling followed by a 3×3 gated conv (official ``gen_deconv``).

    TF's ``resize_nearest_neighbor(align_corners=True)`` used by the official code picks exactly the same
    source pixels as plain nearest ×2 upsampling (``i // 2``), so ``F.interpolate(mode='nearest')`` is exact.
    The parameterised child is ``self.conv`` (a :class:`GatedConv2d`), i.e. keys ``conv.conv.weight``.
    """

    def __init__(self, in_channels: int, out_channels: int, padding: str = "same_tf",
                 activation: str | None = "elu"):
        super().__init__()
        self.conv = GatedConv2d(in_channels, out_channels, 3, 1, activation=activation, padding=padding)

    @property
    def out_features(self) -> int:
        return self.conv.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


def tf_resize_nearest(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """TF1 ``resize_nearest_neighbor(align_corners=True)`` (neuralgym ``resize`` / ``resize_mask_like``):
    source index ``round(i * (in - 1) / (out - 1))`` (half away from zero). Used for the official mask
    downscaling; it differs from PyTorch's ``'nearest'`` (``floor(i * in / out)``) when shrinking."""
    def index(n_in: int, n_out: int) -> torch.Tensor:
        if n_out == 1:
            return torch.zeros(1, dtype=torch.long, device=x.device)
        pos = torch.arange(n_out, dtype=torch.float64) * ((n_in - 1) / (n_out - 1))
        return torch.floor(pos + 0.5).long().clamp_(max=n_in - 1).to(x.device)

    h, w = size
    return x.index_select(-2, index(x.shape[-2], h)).index_select(-1, index(x.shape[-1], w))
