"""SWAP generator (Sec. 3.1, Fig. 2): encoder → CIM → multi-scale decoder with inpainting and segmentation
heads at 5 scales and SWAP blocks between scales.

The encoder, CIM and heads are the skeleton shared with SGE-Net
(:class:`methods.common.multiscale_skeleton.MultiScaleSkeleton`, whose docstring lists the widths, kernels and
depths we chose); this module adds the between-scale blocks:

* decoder: ϕ^{l+1} = SWAPBlock(ϕ^l, φ^{l+1}, Ŝ^l, M) for l = 1..4; at every scale the inpainting head
  h (conv3×3-act-conv3×3, tanh → Î^l) and the segmentation head g (conv3×3-act-conv1×1 → k logits Ŝ^l)
  read the shared feature ϕ^l; input = masked image (holes = 0) ⊕ mask (4 channels).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from bench.registry import MODELS
from methods.common.multiscale_skeleton import MultiScaleSkeleton

from .swap import SWAPBlock

__all__ = ["SWAPGenerator"]


@MODELS.register_module()
class SWAPGenerator(MultiScaleSkeleton):
    """Multi-task inpainting + segmentation generator with SWAP between decoder scales.

    Args:
        num_classes (int): k, segmentation classes (8 Outdoor Scenes, 20 Cityscapes).
        in_channels (int): 4 (masked RGB + mask).
        widths (tuple[int]): feature channels at scales 5 (finest) … 1 (coarsest); 5 entries.
        cim_blocks (int): dilated residual blocks in the CIM.
        cim_dilations (tuple[int]): their dilations (cycled).
        attention (str): ``'semantic'`` (SWAP), ``'contextual'`` ("Att" ablation) or ``'none'`` ("Base").
        attention_cfg (dict): :class:`methods.swap.swap.SemanticWiseAttention` arguments
            (``softmax_scale``, ``match_size``, ``chunk_size``, ``fallback``, ...).
        attention_scales (tuple[int]): target scales l+1 (2..5) whose SWAP blocks use attention; the other
            blocks skip it (default: all four).
        rates (tuple[int]): dilation rates of the four groups after the attention.
        head_channels (int): hidden width cap of the heads.
        act (str), norm (str): activation / normalisation of the convs.
    """

    def __init__(self, num_classes: int = 8, in_channels: int = 4, widths=(64, 128, 256, 256, 256),
                 cim_blocks: int = 8, cim_dilations=(1, 2, 4, 8), attention: str = "semantic",
                 attention_cfg: dict | None = None, attention_scales=(2, 3, 4, 5), rates=(1, 2, 4, 8),
                 head_channels: int = 64, act: str = "lrelu", norm: str = "none"):
        super().__init__(num_classes=num_classes, in_channels=in_channels, widths=widths,
                         cim_blocks=cim_blocks, cim_dilations=cim_dilations, head_channels=head_channels,
                         act=act, norm=norm)
        ch = self.ch
        self.swaps = nn.ModuleDict()
        for l in (1, 2, 3, 4):
            self.swaps[str(l + 1)] = SWAPBlock(ch[l], ch[l + 1], ch[l + 1],
                                               attention=attention if (l + 1) in attention_scales else "none",
                                               attention_cfg=attention_cfg, rates=rates, act=act, norm=norm)
        self._build_heads()
        self.attention = attention

    def forward(self, x: torch.Tensor, mask: torch.Tensor, return_attention: bool = False) -> dict:
        """``x``: B×4×H×W network input (masked image ⊕ mask); ``mask``: B×1×H×W (1 = hole); H, W multiples of 16.

        Returns dict(images=[Î^1..Î^5] (B×3×H_l×W_l, tanh), segs=[Ŝ^1..Ŝ^5] (B×k×H_l×W_l logits),
        attention=dict(swap_match=B×Hq×Wq, swap_rate, swap_grid) for the finest attention block when asked).
        """
        skips, phi = self.encode(x)
        images, segs = [], []
        attention = {}
        for l in range(1, 6):
            if l > 1:
                block = self.swaps[str(l)]
                want = return_attention and block.attention is not None
                res = block(phi, skips[l], segs[-1].detach(), mask, return_match=want)
                if want:
                    phi, info = res
                    attention = dict(swap_match=info["match"], swap_rate=info["rate"], swap_grid=info["grid"],
                                     swap_scale=l, swap_feature_size=tuple(phi.shape[-2:]))
                else:
                    phi = res
            image, seg = self.heads(l, phi)
            images.append(image)
            segs.append(seg)
        out = dict(images=images, segs=segs)
        if return_attention:
            out["attention"] = attention
        return out
