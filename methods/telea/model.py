"""Classical, non-learned reference: OpenCV's fast-marching (Telea 2004) or Navier–Stokes fill.

A useful reference row in every table and the method that runs the whole pipeline with no training.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from bench.registry import MODELS
from methods.common import BaseInpaintor

_FLAGS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}


@MODELS.register_module()
class OpenCVInpaintor(BaseInpaintor):
    """Fill holes with ``cv2.inpaint``.

    Args:
        algorithm (str): ``'telea'`` (Telea, "An Image Inpainting Technique Based on the Fast Marching
            Method", 2004) or ``'ns'`` (Bertalmio et al., Navier–Stokes, 2001).
        radius (float): neighbourhood radius in pixels (OpenCV's ``inpaintRadius``).
        num_classes (int | None): ignored (accepted so dataset-driven configs apply to every method).
    """

    def __init__(self, algorithm: str = "telea", radius: float = 3.0, num_classes: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if algorithm not in _FLAGS:
            raise ValueError(f"algorithm must be one of {sorted(_FLAGS)}, got {algorithm!r}")
        self.algorithm = algorithm
        self.radius = float(radius)
        # a buffer gives the module a device without making it trainable
        self.register_buffer("_device_anchor", torch.zeros(()), persistent=False)

    @torch.no_grad()
    def generate(self, img, mask, seg=None, return_attention: bool = False):
        u8 = ((img.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
        holes = (mask[:, 0] > 0.5).to(torch.uint8).cpu().numpy() * 255
        out = np.stack([cv2.inpaint(np.ascontiguousarray(u8[i]), holes[i], self.radius, _FLAGS[self.algorithm])
                        for i in range(u8.shape[0])])  # one OpenCV call per image (no per-pixel work in Python)
        raw = torch.from_numpy(out).to(img.device).permute(0, 3, 1, 2).float() / 127.5 - 1.0
        return {"raw": raw}
