"""Generic convolution blocks shared by methods (conv-norm-activation, dilated residual, multi-dilation)."""
from __future__ import annotations

import torch
import torch.nn as nn

__all__ = ["make_norm", "make_act", "ConvNormAct", "DilatedResidualBlock", "MultiDilationBlock"]


def make_norm(norm: str, channels: int) -> nn.Module:
    """``'none'`` | ``'instance'`` (affine=False, as EdgeConnect/SPADE) | ``'batch'``."""
    if norm == "none":
        return nn.Identity()
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    raise ValueError(f"unknown norm {norm!r}")


def make_act(act: str) -> nn.Module:
    """``'none'`` | ``'relu'`` | ``'lrelu'`` (slope 0.2) | ``'elu'``."""
    if act == "none":
        return nn.Identity()
    if act == "relu":
        return nn.ReLU(inplace=False)
    if act == "lrelu":
        return nn.LeakyReLU(0.2, inplace=False)
    if act == "elu":
        return nn.ELU(inplace=False)
    raise ValueError(f"unknown activation {act!r}")


class ConvNormAct(nn.Sequential):
    """Conv2d ('same' padding for odd kernels: ``dilation * (k - 1) // 2``, reflect or zeros) → norm → act.

    Args:
        in_channels, out_channels (int): channels.
        kernel_size (int), stride (int), dilation (int): of the convolution.
        norm (str): see :func:`make_norm`. act (str): see :func:`make_act`.
        padding_mode (str): ``'zeros'`` or ``'reflect'``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
                 dilation: int = 1, norm: str = "none", act: str = "lrelu", padding_mode: str = "zeros"):
        pad = dilation * (kernel_size - 1) // 2
        super().__init__(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, pad, dilation=dilation,
                      padding_mode=padding_mode),
            make_norm(norm, out_channels),
            make_act(act),
        )


class DilatedResidualBlock(nn.Module):
    """``x + conv3x3(act(norm(conv3x3_dilated(x))))`` (then norm), EdgeConnect-style residual block.

    Args:
        channels (int): in = out channels.
        dilation (int): dilation of the first 3×3 conv (EdgeConnect: 2).
        norm (str), act (str): see :func:`make_norm`, :func:`make_act`.
    """

    def __init__(self, channels: int, dilation: int = 2, norm: str = "none", act: str = "relu",
                 padding_mode: str = "zeros"):
        super().__init__()
        self.body = nn.Sequential(
            ConvNormAct(channels, channels, 3, dilation=dilation, norm=norm, act=act, padding_mode=padding_mode),
            ConvNormAct(channels, channels, 3, norm=norm, act="none", padding_mode=padding_mode),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class MultiDilationBlock(nn.Module):
    """Split-transform-merge with parallel dilated convolutions (AOT-GAN style), residual.

    ``len(rates)`` branches, each a 3×3 conv with one dilation rate to ``channels // len(rates)`` channels
    (the last branch takes the remainder), activation; the branch outputs are concatenated, fused by a 3×3
    conv back to ``channels`` and added to the input: ``x + fuse(cat_r act(conv_r(x)))``.

    Args:
        channels (int): in = out channels.
        rates (tuple[int]): dilation rates, e.g. (1, 2, 4, 8).
        act (str), norm (str): of the branches.
    """

    def __init__(self, channels: int, rates=(1, 2, 4, 8), act: str = "lrelu", norm: str = "none",
                 padding_mode: str = "zeros"):
        super().__init__()
        rates = tuple(int(r) for r in rates)
        base = max(1, channels // len(rates))
        widths = [base] * (len(rates) - 1) + [max(1, channels - base * (len(rates) - 1))]
        self.branches = nn.ModuleList(
            ConvNormAct(channels, wd, 3, dilation=r, norm=norm, act=act, padding_mode=padding_mode)
            for wd, r in zip(widths, rates))
        self.fuse = nn.Conv2d(sum(widths), channels, 3, padding=1, padding_mode=padding_mode)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fuse(torch.cat([br(x) for br in self.branches], dim=1))
