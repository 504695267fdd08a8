"""Encoder → CIM → multi-scale decoder skeleton shared by SGE-Net (Liao et al., ECCV 2020) and SWAP (Liao et al.,
CVPR 2021).

Both papers (same authors) describe one framework: an encoder over the corrupted image and its mask, a Context
Inference Module (CIM) completing the deepest feature, and a decoder that at each of 5 scales predicts an
inpainted image (head h) and a k-class segmentation (head g) from one shared feature. They differ only in the
block that carries the decoder feature from scale l to l+1: SGE-Net updates it with SPADE guided by the
(confidence-gated) predicted segmentation, SWAP with semantic-wise attention (the SWAP paper, Sec. 3.1:
"Different from [SGE-Net] that updates the contextual features by spatial adaptive normalization ...").

:class:`MultiScaleSkeleton` holds the common parts; a generator subclasses it, builds its between-scale blocks
after ``super().__init__`` and then calls :meth:`MultiScaleSkeleton._build_heads` (that order fixes the
parameter order, hence seeded initialisation and optimizer-state layout). Attribute names (``enc5``, ``down``,
``cim``, ``img_heads``, ``seg_heads``) are part of the checkpoint layout: do not rename.

Scales: l = 1 (coarsest, H/16) … 5 (finest, H). The papers give no widths, kernel sizes or depths; ours:

* encoder: a 7×7 conv at full resolution (φ^5), then four stride-2 4×4 convs each followed by a 3×3 conv
  (φ^4 … φ^1 at H/2 … H/16);
* CIM (after SGE-Net / Yang et al.): ``cim_blocks`` dilated residual blocks on φ^1, dilations cycling through
  ``cim_dilations``; its output is the coarsest decoder feature ϕ^1;
* heads at every scale: image h = conv3×3-act-conv3×3 (tanh applied by the caller), segmentation g =
  conv3×3-act-conv1×1 → k logits; hidden width ``min(head_channels, ch[l])``.
"""
from __future__ import annotations

import torch
import torch.nn as nn

from .blocks import ConvNormAct, DilatedResidualBlock

__all__ = ["ScaleHead", "MultiScaleSkeleton"]


class ScaleHead(nn.Sequential):
    """conv3×3 (+act) → conv ``last_kernel`` to ``out_channels`` (a per-scale image or segmentation head)."""

    def __init__(self, in_channels: int, hidden: int, out_channels: int, act: str, last_kernel: int):
        super().__init__(ConvNormAct(in_channels, hidden, 3, act=act),
                         nn.Conv2d(hidden, out_channels, last_kernel, padding=last_kernel // 2))


class MultiScaleSkeleton(nn.Module):
    """Encoder + CIM (+ per-scale heads, built by :meth:`_build_heads`) of the SGE-Net / SWAP generators.

    Args:
        num_classes (int): k, segmentation classes.
        in_channels (int): network input channels (4: masked RGB ⊕ mask).
        widths (tuple[int]): feature channels at scales 5 (finest) … 1 (coarsest); 5 entries.
        cim_blocks (int): dilated residual blocks in the CIM. cim_dilations (tuple[int]): their dilations (cycled).
        head_channels (int): hidden width cap of the heads.
        act (str), norm (str): activation / normalisation of the convs.
    """

    num_scales = 5
    factor = 16  # input sides must be multiples of 2 ** (num_scales - 1)

    def __init__(self, num_classes: int = 8, in_channels: int = 4, widths=(64, 128, 256, 256, 256),
                 cim_blocks: int = 8, cim_dilations=(1, 2, 4, 8), head_channels: int = 64, act: str = "lrelu",
                 norm: str = "none"):
        super().__init__()
        if len(widths) != 5:
            raise ValueError("widths needs 5 entries (scales 5 = finest ... 1 = coarsest)")
        self.num_classes = int(num_classes)
        ch = {5 - i: int(w) for i, w in enumerate(widths)}  # ch[l], l = 1..5
        self.ch = ch
        self._head_channels, self._act = int(head_channels), act
        # encoder: enc5 produces φ^5, down[l] produces φ^l from φ^{l+1}
        self.enc5 = ConvNormAct(in_channels, ch[5], 7, act=act)
        self.down = nn.ModuleDict()
        for l in (4, 3, 2, 1):
            self.down[str(l)] = nn.Sequential(ConvNormAct(ch[l + 1], ch[l], 4, stride=2, norm=norm, act=act),
                                              ConvNormAct(ch[l], ch[l], 3, norm=norm, act=act))
        dil = tuple(cim_dilations)
        self.cim = nn.Sequential(*(DilatedResidualBlock(ch[1], dilation=dil[i % len(dil)], norm=norm, act="relu")
                                   for i in range(cim_blocks)))

    def _build_heads(self) -> None:
        """Image and segmentation heads at scales 1..5 (call after the subclass's between-scale blocks)."""
        ch, hc, act = self.ch, self._head_channels, self._act
        self.img_heads = nn.ModuleDict({str(l): ScaleHead(ch[l], min(hc, ch[l]), 3, act, 3) for l in range(1, 6)})
        self.seg_heads = nn.ModuleDict(
            {str(l): ScaleHead(ch[l], min(hc, ch[l]), self.num_classes, act, 1) for l in range(1, 6)})

    def encode(self, x: torch.Tensor) -> tuple[dict, torch.Tensor]:
        """``x`` (B×C×H×W, H and W multiples of 16) → (skips {l: φ^l}, ϕ^1 = CIM(φ^1))."""
        if x.shape[-1] % self.factor or x.shape[-2] % self.factor:
            raise ValueError(f"{type(self).__name__} needs H, W multiples of {self.factor}, "
                             f"got {tuple(x.shape[-2:])}")
        skips = {5: self.enc5(x)}
        for l in (4, 3, 2, 1):
            skips[l] = self.down[str(l)](skips[l + 1])
        return skips, self.cim(skips[1])

    def heads(self, l: int, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(Î^l = tanh(h(ϕ^l)), Ŝ^l = g(ϕ^l) logits) at scale ``l``."""
        return torch.tanh(self.img_heads[str(l)](phi)), self.seg_heads[str(l)](phi)
