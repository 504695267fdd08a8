"""``gatedconv``: DeepFill v2 (Yu et al., ICCV 2019) trained with the official recipe.

Official recipe (JiahuiYu/generative_inpainting v2, ``inpaint_model.py::build_graph_with_losses`` and
``inpaint.yml``; see shared/anchors/METHODS.md §2.3):

* generator input: the image with holes set to 0 (``batch_incomplete = batch_pos * (1 - mask)``) and the mask;
* ``ae_loss`` = ``l1_loss_alpha`` · (mean|gt − stage1| + mean|gt − stage2|) over the **whole image**
  (no hole/valid split, no spatial discount in v2), ``l1_loss_alpha = 1``;
* SN-PatchGAN on ``[image, mask]`` (``gan_with_mask: True``); the fake is the **composited** stage-2 result;
  hinge loss ``gan_hinge_loss``: D = ½·mean(relu(1 − real)) + ½·mean(relu(1 + fake)), G = −mean(fake),
  G loss weight ``gan_loss_alpha = 1``;
* one D step per G step, Adam(1e-4, β = (0.5, 0.999)) for both (configs).

Differences from the official trainer, on purpose: masks are per sample (the harness's data pipeline)
instead of one mask shared by the whole batch; D is evaluated on real and fake in one concatenated batch
as officially, and kept in eval mode during the generator step so that spectral norm runs exactly one
power iteration per training iteration, as in the single-graph TF implementation.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch

from bench.registry import MODELS
from methods.common import GANInpaintor, composite, masked_input
from methods.common.losses import hinge_d_loss, hinge_g_loss
from methods.common.sn_patchgan import SNPatchGANDiscriminator

from .networks import DeepFillv2Generator


@contextmanager
def _eval_mode(module: torch.nn.Module):
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


@MODELS.register_module()
class GatedConvInpaintor(GANInpaintor):
    """DeepFill v2 generator + SN-PatchGAN.

    Args:
        cnum (int): generator base width (official 48 → 4,052,478 parameters).
        disc_cnum (int): discriminator base width (official 64 → 5,946,816 parameters).
        padding (str): ``'same_tf'`` (official TF 'SAME', needed to reproduce official weights),
            ``'symmetric'`` or ``'zeros'``; see :mod:`methods.common.gated_conv`.
        l1_weight (float): ``l1_loss_alpha`` (official 1), applied to each stage's whole-image L1.
        gan_weight (float): ``gan_loss_alpha`` (official 1).
        disc_with_mask (bool): D input = [image, mask] (official ``gan_with_mask: True``).
        attention_cfg (dict | None): contextual-attention overrides (see :class:`DeepFillv2Generator`).
        num_classes, img_size: accepted and ignored (the runner may fill them).
    """

    def __init__(self, cnum: int = 48, disc_cnum: int = 64, padding: str = "same_tf", l1_weight: float = 1.0,
                 gan_weight: float = 1.0, disc_with_mask: bool = True, attention_cfg: dict | None = None,
                 num_classes: int | None = None, img_size: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.generator = DeepFillv2Generator(cnum=cnum, padding=padding, attention_cfg=attention_cfg)
        self.disc = SNPatchGANDiscriminator(in_channels=4 if disc_with_mask else 3, cnum=disc_cnum,
                                            padding=padding)
        self.l1_weight = float(l1_weight)
        self.gan_weight = float(gan_weight)
        self.disc_with_mask = bool(disc_with_mask)

    # -- generation ---------------------------------------------------------------------------------------
    def generate(self, img, mask, seg=None, return_attention: bool = False):
        stage1, stage2, info = self.generator(masked_input(img, mask, 0.0), mask, return_attention)
        out = {"raw": stage2, "stage1": stage1}
        if return_attention and info is not None:
            # per-sample tensors only (to_predictions indexes them by sample): the best match per query
            out["attention"] = {"match": info["match"]}
        return out

    # -- losses -------------------------------------------------------------------------------------------
    def _disc_input(self, x, mask):
        return torch.cat([x, mask], dim=1) if self.disc_with_mask else x

    def generator_losses(self, data, out):
        img, mask = data["img"], data["mask"]
        losses = {
            "loss_l1_stage1": self.l1_weight * (out["stage1"] - img).abs().mean(),
            "loss_l1_stage2": self.l1_weight * (out["raw"] - img).abs().mean(),
        }
        if self.gan_weight:
            fake = composite(out["raw"], img, mask)
            with _eval_mode(self.disc):  # no extra spectral-norm power iteration in the G step
                score = self.disc(self._disc_input(fake, mask))
            losses["loss_gan"] = self.gan_weight * hinge_g_loss(score)
        return losses

    def discriminator_losses(self, data, out):
        if not self.gan_weight:
            return {"disc": {}}
        img, mask = data["img"], data["mask"]
        fake = composite(out["raw"], img, mask)
        both = self.disc(self._disc_input(torch.cat([img, fake], dim=0), torch.cat([mask, mask], dim=0)))
        real_score, fake_score = both.chunk(2, dim=0)
        return {"disc": {"loss_disc": hinge_d_loss(real_score, fake_score, scale=0.5),
                         "real_score": real_score.mean().detach(), "fake_score": fake_score.mean().detach()}}
