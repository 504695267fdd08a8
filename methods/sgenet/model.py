"""SGE-Net inpaintor: :class:`SGENetGenerator` + multiscale PatchGAN, trained through
:class:`methods.common.GANInpaintor`'s step.

Losses (the paper lists reconstruction, adversarial and per-scale cross-entropy; weights are our choices):

* ``loss_l1``: Σ_l mean |I − up(Î^l)| over the 5 scales (whole image), weight ``l1`` (1);
* ``loss_gan``: hinge, multiscale PatchGAN on the composited finest image, weight ``adv`` (0.1);
* ``loss_xe``: Σ_l CE(up(Ŝ^l), S) over the 5 scales **plus** the 4 re-inferred maps R^{l+1} (they are
  segmentation predictions too; without labels they would have no semantic meaning), weight ``xe`` (1);
* ``loss_conf``: Σ_l BCE(C^l, [argmax Ŝ^l = S_l]) (S_l = labels resized nearest to scale l, 255 ignored), weight
  ``conf`` (1): the evaluator learns to predict where the semantics are right. This target is our choice (the
  paper's evaluation-module supervision is not reproduced here); ``conf=0`` leaves only the gating gradient.

The L1 / CE / GAN terms reuse SWAP's implementations (``methods.swap.losses``: Eq. 9-11 of the CVPR 2021 paper
are the same multi-scale terms). Batches without ``seg`` skip ``loss_xe`` and ``loss_conf`` (one warning).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

import methods.common.patch_discriminators  # noqa: F401  (registers the discriminators)
from bench.registry import MODELS
from methods.common import SemanticGANInpaintor, composite, masked_input
from methods.swap.losses import MultiScaleCrossEntropyLoss, MultiScaleGANLoss, MultiScaleL1Loss

__all__ = ["SGENetInpaintor", "confidence_targets"]

_DEFAULT_WEIGHTS = dict(l1=1.0, adv=0.1, xe=1.0, conf=1.0)


def confidence_targets(seg_logits: torch.Tensor, labels: torch.Tensor, ignore_index: int = 255):
    """(target, valid) at the logits' size: target = 1 where argmax(logits) equals the label (labels resized
    nearest), valid = label != ignore_index. Both B×1×h×w float."""
    lab = F.interpolate(labels[:, None].float(), size=seg_logits.shape[-2:], mode="nearest").long()
    valid = lab != ignore_index
    target = (seg_logits.argmax(1, keepdim=True) == lab) & valid
    return target.float(), valid.float()


@MODELS.register_module()
class SGENetInpaintor(SemanticGANInpaintor):
    """Guidance and Evaluation: Semantic-Aware Image Inpainting for Mixed Scenes (Liao et al., ECCV 2020),
    re-implementation.

    Sub-modules (= optimizer keys): ``generator`` (:class:`SGENetGenerator`), ``disc`` (multiscale PatchGAN).

    Args:
        generator (dict): :class:`SGENetGenerator` config (``num_classes`` is filled in).
        disc (dict): discriminator config (``in_channels`` defaults to 3).
        num_classes (int): k (the runner sets it from the dataset). img_size (int): multiple of 16.
        loss_weights (dict): ``l1``, ``adv``, ``xe``, ``conf``.
        gan_type (str): ``'hinge'`` | ``'lsgan'`` | ``'vanilla'``.
        disc_steps (int), data_preprocessor (dict), init_cfg (dict): see :class:`GANInpaintor`.
    """

    def __init__(self, generator: dict, disc: dict, num_classes: int = 8, img_size: int = 256,
                 loss_weights: dict | None = None, gan_type: str = "hinge", disc_steps: int = 1,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(disc_steps=disc_steps, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if int(img_size) % 16:
            raise ValueError(f"SGE-Net needs img_size divisible by 16, got {img_size}")
        self.num_classes, self.img_size = int(num_classes), int(img_size)
        self.generator = MODELS.build(dict(generator, num_classes=self.num_classes))
        self.disc = MODELS.build(dict(dict(in_channels=3), **disc))
        self.disc_keys = ("disc",)
        self.loss_weights = dict(_DEFAULT_WEIGHTS, **(loss_weights or {}))
        self.l1_loss = MultiScaleL1Loss()
        self.xe_loss = MultiScaleCrossEntropyLoss()
        self.gan_loss = MultiScaleGANLoss(gan_type)

    def generate(self, img, mask, seg=None, return_attention: bool = False, confidence_override=None):
        """``seg`` is not used (SGE-Net predicts its own semantics). ``return_attention`` adds
        ``attention=dict(sge_confidence=B×H×W)``: the finest evaluated confidence map C^4, nearest-upsampled to
        the image (saved with the evaluation samples; no SWAP-style match map)."""
        x = torch.cat([masked_input(img, mask), mask], dim=1)
        out = self.generator(x, mask, confidence_override=confidence_override)
        seg_logits = self.image_sized(out["segs"][-1], img)
        res = dict(raw=out["images"][-1], seg_logits=seg_logits, images=out["images"], segs=out["segs"],
                   confidences=out["confidences"], reinfer_segs=out["reinfer_segs"], guides=out["guides"])
        if return_attention:
            conf = F.interpolate(out["confidences"][-1], size=img.shape[-2:], mode="nearest")[:, 0]
            res["attention"] = dict(sge_confidence=conf)
        return res

    def discriminator_losses(self, data: dict, out: dict) -> dict:
        img, mask = data["img"], data["mask"]
        fake = composite(out["raw"], img, mask).detach()
        return {"disc": {"loss_gan_d": self.gan_loss.disc_loss(self.disc(img), self.disc(fake))}}

    def generator_losses(self, data: dict, out: dict) -> dict:
        img, mask = data["img"], data["mask"]
        w = self.loss_weights
        fake = composite(out["raw"], img, mask)
        losses = {"loss_l1": w["l1"] * self.l1_loss(out["images"], img),
                  "loss_gan": w["adv"] * self.gan_loss.gen_loss(self.disc(fake))}
        if self.has_seg(data):
            seg = data["seg"]
            losses["loss_xe"] = w["xe"] * self.xe_loss(list(out["segs"]) + list(out["reinfer_segs"]), seg)
            if w["conf"]:
                total = 0.0
                for conf, logits in zip(out["confidences"], out["segs"]):
                    target, valid = confidence_targets(logits.detach(), seg)
                    c = conf.float().clamp(1e-6, 1 - 1e-6)   # explicit BCE: also valid under autocast
                    bce = -(target * torch.log(c) + (1 - target) * torch.log1p(-c))
                    total = total + (bce * valid).sum() / valid.sum().clamp_min(1)
                losses["loss_conf"] = w["conf"] * total
        return losses
