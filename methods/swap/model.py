"""SWAP inpaintor: generator + multiscale image discriminator D (+ conditional D_s, D_t for the structure
coherence loss), trained through :class:`methods.common.GANInpaintor`'s step (Eq. 12)."""
from __future__ import annotations

import torch

import methods.common.patch_discriminators  # noqa: F401  (registers the discriminators)
from bench.registry import MODELS
from methods.common import SemanticGANInpaintor, composite, masked_input

from .losses import (MultiScaleCrossEntropyLoss, MultiScaleGANLoss, MultiScaleL1Loss, NonLocalPatchCoherenceLoss,
                     StructureCoherenceLoss)

__all__ = ["SWAPInpaintor"]

def _per_sample(value, batch: int, device) -> torch.Tensor:
    """Batch-first tensor of an attention entry (the match map already is; ints/tuples are repeated)."""
    if torch.is_tensor(value) and value.dim() > 0 and value.shape[0] == batch:
        return value
    t = torch.as_tensor(value, device=device)
    return t.expand(batch, *t.shape).clone()


_DEFAULT_WEIGHTS = dict(l1=1.0, adv=0.1, xe=1.0, co=0.1)


@MODELS.register_module()
class SWAPInpaintor(SemanticGANInpaintor):
    """Image inpainting guided by coherence priors of semantics and textures (Liao et al., CVPR 2021).

    Sub-modules (attribute names = optimizer keys): ``generator`` (:class:`SWAPGenerator`), ``disc``
    (multiscale PatchGAN on images, Eq. 10), and, when the coherence losses are on, ``disc_s`` / ``disc_t``
    (conditional discriminators of Eq. 8). ``disc_keys`` lists the discriminators that exist.

    Losses (Eq. 12): ``L1 + λ_α L_α + λ_xe L_xe + λ_co (L_nlco + L_sco)``. The discriminators see the composited
    finest image (known pixels from I). Batches without ``seg`` (e.g. Places2) skip L_xe and the coherence losses
    (one warning); D_s/D_t are then not updated.

    Args:
        generator (dict): :class:`SWAPGenerator` config (``num_classes`` is filled in).
        disc (dict): image discriminator config (``in_channels`` defaults to 3).
        disc_s (dict | None), disc_t (dict | None): conditional discriminators (``in_channels`` set to 3 + k);
            ``None`` in the variants without coherence losses.
        num_classes (int): k (the runner sets it from the dataset).
        img_size (int): training size (the runner sets it; must be a multiple of 16).
        loss_weights (dict): ``l1``, ``adv`` (λ_α), ``xe`` (λ_xe), ``co`` (λ_co).
        gan_type (str): ``'hinge'`` | ``'lsgan'`` | ``'vanilla'`` for every adversarial term.
        patch_coherence (dict): :class:`NonLocalPatchCoherenceLoss` arguments.
        disc_steps (int), data_preprocessor (dict), init_cfg (dict): see :class:`GANInpaintor`.
    """

    def __init__(self, generator: dict, disc: dict, disc_s: dict | None = None, disc_t: dict | None = None,
                 num_classes: int = 8, img_size: int = 256, loss_weights: dict | None = None,
                 gan_type: str = "hinge", patch_coherence: dict | None = None, disc_steps: int = 1,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(disc_steps=disc_steps, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if int(img_size) % 16:
            raise ValueError(f"SWAP needs img_size divisible by 16, got {img_size}")
        self.num_classes, self.img_size = int(num_classes), int(img_size)
        self.generator = MODELS.build(dict(generator, num_classes=self.num_classes))
        self.disc = MODELS.build(dict(dict(in_channels=3), **disc))
        if (disc_s is None) != (disc_t is None):
            raise ValueError("disc_s and disc_t go together (structure coherence loss needs both)")
        self.use_coherence = disc_s is not None
        keys = ["disc"]
        if self.use_coherence:
            self.disc_s = MODELS.build(dict(disc_s, in_channels=3 + self.num_classes))
            self.disc_t = MODELS.build(dict(disc_t, in_channels=3 + self.num_classes))
            keys += ["disc_s", "disc_t"]
        self.disc_keys = tuple(keys)
        self.loss_weights = dict(_DEFAULT_WEIGHTS, **(loss_weights or {}))
        self.l1_loss = MultiScaleL1Loss()
        self.xe_loss = MultiScaleCrossEntropyLoss()
        self.gan_loss = MultiScaleGANLoss(gan_type)
        self.nlco_loss = NonLocalPatchCoherenceLoss(**(patch_coherence or {}))
        self.sco_loss = StructureCoherenceLoss(self.num_classes, gan_type)

    # -- inference -----------------------------------------------------------------------------------
    def generate(self, img, mask, seg=None, return_attention: bool = False):
        x = torch.cat([masked_input(img, mask), mask], dim=1)
        out = self.generator(x, mask, return_attention=return_attention)
        seg_logits = self.image_sized(out["segs"][-1], img)
        res = dict(raw=out["images"][-1], seg_logits=seg_logits, images=out["images"], segs=out["segs"])
        if return_attention:
            att = out.get("attention") or {}
            b = img.shape[0]
            res["attention"] = {k: _per_sample(v, b, img.device) for k, v in att.items()}
        return res

    # -- training ------------------------------------------------------------------------------------
    def discriminator_losses(self, data: dict, out: dict) -> dict:
        img, mask = data["img"], data["mask"]
        fake = composite(out["raw"], img, mask).detach()
        losses = {"disc": {"loss_gan_d": self.gan_loss.disc_loss(self.disc(img), self.disc(fake))}}
        if self.use_coherence and self.has_seg(data):
            d = self.sco_loss.disc_loss(self.disc_s, self.disc_t, img, fake, data["seg"], out["seg_logits"].detach())
            losses["disc_s"] = {"loss_sco_d": d["disc_s"]}
            losses["disc_t"] = {"loss_sco_d": d["disc_t"]}
        return losses

    def generator_losses(self, data: dict, out: dict) -> dict:
        img, mask = data["img"], data["mask"]
        w = self.loss_weights
        fake = composite(out["raw"], img, mask)
        losses = {"loss_l1": w["l1"] * self.l1_loss(out["images"], img),
                  "loss_gan": w["adv"] * self.gan_loss.gen_loss(self.disc(fake))}
        if self.has_seg(data):
            seg = data["seg"]
            losses["loss_xe"] = w["xe"] * self.xe_loss(out["segs"], seg)
            if self.use_coherence:
                losses["loss_nlco"] = w["co"] * self.nlco_loss(out["raw"], img, out["seg_logits"], seg)
                losses["loss_sco"] = w["co"] * self.sco_loss.gen_loss(self.disc_s, self.disc_t, img, fake, seg,
                                                                      out["seg_logits"])
        return losses
