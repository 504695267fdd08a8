"""GAN losses shared by several methods (plain functions of discriminator outputs).

Hinge loss (Lim & Ye 2017; Miyato et al. 2018), as used by SN-PatchGAN (DeepFill v2), PEN-Net, SPADE::

    D: mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))        (× ``scale``)
    G: -mean(D(fake))

DeepFill v2's official ``gan_hinge_loss`` averages the two D terms, i.e. ``scale=0.5``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def hinge_d_loss(real: torch.Tensor, fake: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Discriminator hinge loss on raw scores ``real`` = D(real), ``fake`` = D(fake) (any shapes)."""
    return scale * (F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean())


def hinge_g_loss(fake: torch.Tensor) -> torch.Tensor:
    """Generator hinge loss on ``fake`` = D(G(z))."""
    return -fake.mean()
