"""Grayscale and Canny edges as the official EdgeConnect data pipeline computes them (``src/dataset.py``).

* gray = skimage ``rgb2gray`` of the RGB image in ``[0, 1]``: 0.2125 R + 0.7154 G + 0.0721 B (vectorised
  in torch, on the batch's device);
* edges = ``skimage.feature.canny(gray, sigma=2, mask=...)``: during training the official computes them on
  the whole image (``mask=None``, they are the edge model's target and the ground-truth edges of stage 2);
  at test time with ``mask=`` the known region, so no edge is detected from hole pixels.

skimage has no batched Canny: it runs on CPU numpy, one call per image (a few ms at 256×256), and the result
goes back to the batch's device.
"""
from __future__ import annotations

import numpy as np
import torch
from skimage.feature import canny

RGB2GRAY = (0.2125, 0.7154, 0.0721)  # skimage.color.rgb2gray


def rgb_to_gray(img01: torch.Tensor) -> torch.Tensor:
    """B×3×H×W in [0, 1] → B×1×H×W."""
    w = img01.new_tensor(RGB2GRAY).view(1, 3, 1, 1)
    return (img01 * w).sum(dim=1, keepdim=True)


def canny_edges(gray01: torch.Tensor, sigma: float = 2.0, known: torch.Tensor | None = None) -> torch.Tensor:
    """Canny edge maps (0/1 floats, B×1×H×W) of ``gray01`` (B×1×H×W in [0, 1]).

    Args:
        sigma: Gaussian width (official ``SIGMA: 2``).
        known: optional B×1×H×W, nonzero where pixels are known; passed as skimage's ``mask=``.
    """
    g = gray01.detach().to("cpu", torch.float64).numpy()[:, 0]
    k = None if known is None else (known.detach().cpu().numpy()[:, 0] > 0.5)
    out = np.stack([canny(g[i], sigma=sigma, mask=None if k is None else k[i]) for i in range(g.shape[0])])
    return torch.from_numpy(out.astype(np.float32))[:, None].to(gray01.device, gray01.dtype)
