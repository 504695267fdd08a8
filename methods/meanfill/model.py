"""The floor every method must beat: the hole filled with one colour, the mean of the image's known pixels.

It is constant inside the hole by construction, so it is also the reference case of the constant-output guard
(``PixelMetric``'s ``constant_fill``; the tables mark such rows): a learned method whose numbers sit near this
row's, or whose row carries the same mark, has not learned to fill holes.
"""
from __future__ import annotations

import torch

from bench.registry import MODELS
from methods.common import BaseInpaintor


@MODELS.register_module()
class MeanFillInpaintor(BaseInpaintor):
    """Fill each image's hole with the per-channel mean of its known pixels (``mask`` 0).

    Weighted by ``1 − mask``, the weights the composite gives the known pixels; an image without a known pixel
    gets 0 (grey in [-1, 1], the fill ``masked_input`` uses). Whole-batch tensor sums, no loop.

    Args:
        num_classes (int | None): ignored (accepted so dataset-driven configs apply to every method).
    """

    def __init__(self, num_classes: int | None = None, **kwargs):
        super().__init__(**kwargs)
        # a buffer gives the module a device without making it trainable
        self.register_buffer("_device_anchor", torch.zeros(()), persistent=False)

    @torch.no_grad()
    def generate(self, img, mask, seg=None, return_attention: bool = False):
        known = 1.0 - mask[:, :1].to(img.dtype)                       # B×1×H×W
        count = known.sum(dim=(-2, -1), keepdim=True)                 # B×1×1×1
        total = (img * known).sum(dim=(-2, -1), keepdim=True)         # B×3×1×1
        mean = torch.where(count > 0, total / count.clamp_min(1e-12), torch.zeros_like(total))
        return {"raw": mean.expand_as(img).contiguous()}
