"""PEN-Net as a harness method: generator + SN discriminator trained with the official losses.

Official recipe (``core/trainer.py``, ``configs/places2.json``), all on images in ``[-1, 1]``:

* input: ``img·(1-m) + m`` (holes set to +1) concatenated with ``m`` (1 = hole);
* D: hinge, ``(relu(1 - D(real)) + relu(1 + D(comp))) / 2`` with ``comp = m·out + (1-m)·img``;
* G: ``6 · L1(out·m, img·m)/mean(m) + 1 · L1(out·(1-m), img·(1-m))/mean(1-m)
  + 0.5 · Σ_k L1(pyramid_k, resize(img)) + 0.1 · (-mean D(comp))``.

Differences from the official trainer (mmagic step shape): D is updated first, then G is scored by the
updated D (the official computes both losses before either update).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from bench.registry import MODELS
from methods.common import GANInpaintor, composite
from methods.common.losses import hinge_d_loss, hinge_g_loss

from .networks import PENNetDiscriminator, PENNetGenerator

DEFAULT_LOSS_WEIGHTS = dict(hole=6.0, valid=1.0, pyramid=0.5, adversarial=0.1)


@MODELS.register_module()
class PENNet(GANInpaintor):
    """PEN-Net (Zeng et al., CVPR 2019).

    Args:
        width_mult (float): multiplies the official widths (G base 32, D base 64); 1.0 = paper size.
        loss_weights (dict): ``hole``, ``valid``, ``pyramid``, ``adversarial`` (official 6, 1, 0.5, 0.1).
        official_weights (str | None): a released ``gen_XXXXX.pth`` or its release folder (``latest.ckpt``);
            loaded into the generator (and the discriminator when ``dis_XXXXX.pth`` sits next to it).
        num_classes, img_size: accepted for the runner; PEN-Net uses no labels and is fully convolutional
            (sides must be multiples of 64).
    """

    def __init__(self, width_mult: float = 1.0, loss_weights: dict | None = None,
                 official_weights: str | None = None, num_classes: int | None = None, img_size: int = 256,
                 disc_steps: int = 1, data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(disc_steps=disc_steps, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        gcnum = int(round(32 * width_mult))
        dcnum = int(round(64 * width_mult))
        if gcnum < 4 or gcnum % 4:
            raise ValueError(f"width_mult={width_mult} gives generator width {gcnum}; it must be a multiple of 4 "
                             f"(the ATN fuses 4 dilated groups)")
        self.generator = PENNetGenerator(cnum=gcnum)
        self.disc = PENNetDiscriminator(in_channels=3, cnum=dcnum)
        self.loss_weights = {**DEFAULT_LOSS_WEIGHTS, **(loss_weights or {})}
        self.img_size = img_size
        self.num_classes = num_classes
        if official_weights:
            from .weights import load_pennet_official
            load_pennet_official(self, official_weights)

    def generate(self, img, mask, seg=None, return_attention: bool = False):
        x = torch.cat([img * (1.0 - mask) + mask, mask], dim=1)
        pyramid, raw = self.generator(x, mask)
        return {"raw": raw, "pyramid": pyramid}

    def discriminator_losses(self, data, out):
        img, mask = data["img"], data["mask"]
        comp = composite(out["raw"], img, mask)
        loss = hinge_d_loss(self.disc(img), self.disc(comp), scale=0.5)
        return {"disc": {"loss_d": loss}}

    def generator_losses(self, data, out):
        img, mask = data["img"], data["mask"]
        raw, w = out["raw"], self.loss_weights
        hole = F.l1_loss(raw * mask, img * mask) / mask.mean().clamp_min(1e-8)
        valid = F.l1_loss(raw * (1 - mask), img * (1 - mask)) / (1 - mask).mean().clamp_min(1e-8)
        pyramid = sum(F.l1_loss(p, F.interpolate(img, size=p.shape[-2:], mode="bilinear", align_corners=True))
                      for p in out["pyramid"])
        adv = hinge_g_loss(self.disc(composite(raw, img, mask)))
        return {"loss_hole": w["hole"] * hole, "loss_valid": w["valid"] * valid,
                "loss_pyramid": w["pyramid"] * pyramid, "loss_adv": w["adversarial"] * adv}
