"""SPG-Net inpaintor: SP-Net (segmentation prediction) → SG-Net (segmentation-guided generation), both stages
and their discriminators trained in one run through :class:`methods.common.GANInpaintor`'s step.

Label handling (:func:`known_label_map`): the stage-1 label input is the one-hot of the labels **outside the
hole only**: hole pixels and ignored pixels (255, or ids ≥ k) are replaced by class 0 *before* the one-hot and
then zeroed, so no ground-truth label inside the hole can reach SP-Net (tested).

Where those labels come from:

* training: the batch's ``seg`` (ground truth outside the hole), as in the paper's training; a batch without
  ``seg`` is an error (SPG-Net cannot be trained without labels);
* evaluation, ``test_labels`` switch: ``'dataset'`` (default) = the dataset's labels outside the hole (the paper
  obtains them from a pretrained segmentation network; the harness has none, so the known-region labels are
  ground truth, an optimistic stand-in; without ``seg`` in the batch it falls back to ``'none'`` with a
  warning); ``'none'`` = an all-zero label map (SP-Net infers the whole map from the image).

Completed label map (SG-Net's guidance): ``V ⊙ onehot(known) + (1 − V) ⊙ softmax(SP-Net)`` with V = 1 where a
known label was given (so with ``'none'`` it is SP-Net's prediction everywhere). It is detached before SG-Net
(``detach_stage1=True``: the paper trains the two networks with their own losses; SG-Net's losses do not reach
SP-Net). ``seg_logits`` (for mIoU) are SP-Net's raw logits over the whole image; note that with
``test_labels='dataset'`` SP-Net sees ground truth outside the hole, so compare methods on ``miou_hole``.

Losses (choices marked; the port's are hinge GAN + GAN feature matching ×10 + VGG ×10, METHODS.md §5):

* SP-Net: ``loss_ce`` cross-entropy on all labelled pixels (``ce``, 1) + ``loss_seg_adv`` hinge GAN with a
  conditional multiscale D on (corrupted image, mask, label map) (``seg_adv``, 0.1; choice; ``disc_seg=None``
  disables it);
* SG-Net: ``loss_gan`` hinge GAN (``adv``, 1) with a multiscale D conditioned on the completed label map
  (SPADE-style D input image ⊕ labels; the fake is the composited image), ``loss_fm`` feature matching (``fm``,
  10; L1 between D's intermediate features of fake and real, averaged over D scales, SPADE), ``loss_vgg``
  (``vgg``, 10; pix2pixHD VGG19 loss: L1 on relu1_1..relu5_1 with weights 1/32, 1/16, 1/8, 1/4, 1; ImageNet
  normalisation; needs ``vgg19-dcbb9e9d.pth``, off with ``use_vgg_losses=False``) and ``loss_l1`` whole-image L1
  (``l1``, 1; choice: a pixel reconstruction term for inpainting; ``l1=0`` gives the port's objective).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine.logging import print_log

import methods.common.patch_discriminators  # noqa: F401  (registers the discriminators)
from bench.registry import MODELS
from methods.common import GANInpaintor, composite, masked_input
from methods.swap.losses import MultiScaleGANLoss

from . import networks  # noqa: F401  (registers SPGNetGenerator)

__all__ = ["SPGNetInpaintor", "known_label_map", "TEST_LABELS"]

TEST_LABELS = ("dataset", "none")
_DEFAULT_WEIGHTS = dict(ce=1.0, seg_adv=0.1, l1=1.0, adv=1.0, fm=10.0, vgg=10.0)
VGG_LAYER_WEIGHTS = {"relu1_1": 1 / 32, "relu2_1": 1 / 16, "relu3_1": 1 / 8, "relu4_1": 1 / 4, "relu5_1": 1.0}


def known_label_map(seg: torch.Tensor | None, mask: torch.Tensor, num_classes: int, ignore_index: int = 255):
    """(one-hot B×k×H×W, valid B×1×H×W) of the labels outside the hole.

    Hole pixels (mask ≥ 0.5), ignored pixels (``ignore_index``) and out-of-range ids are set to 0 before the
    one-hot and zeroed after it: a label inside the hole never reaches the output. ``seg=None`` gives zeros.
    """
    b, _, h, w = mask.shape
    if seg is None:
        zeros = mask.new_zeros(b, num_classes, h, w)
        return zeros, mask.new_zeros(b, 1, h, w)
    seg = seg.long()
    valid = (mask[:, 0] < 0.5) & (seg != ignore_index) & (seg >= 0) & (seg < num_classes)
    ids = torch.where(valid, seg, torch.zeros_like(seg))
    onehot = F.one_hot(ids, num_classes).permute(0, 3, 1, 2).to(mask.dtype)
    valid = valid[:, None].to(mask.dtype)
    return onehot * valid, valid


def _label_onehot(seg: torch.Tensor, num_classes: int, ignore_index: int = 255):
    """(one-hot, valid) of all labelled pixels (for the segmentation discriminator's real input)."""
    seg = seg.long()
    valid = (seg != ignore_index) & (seg >= 0) & (seg < num_classes)
    onehot = F.one_hot(torch.where(valid, seg, torch.zeros_like(seg)), num_classes).permute(0, 3, 1, 2).float()
    return onehot * valid[:, None], valid[:, None].float()


@MODELS.register_module()
class SPGNetInpaintor(GANInpaintor):
    """SPG-Net: Segmentation Prediction and Guidance Network for Image Inpainting (Song et al., BMVC 2018),
    re-implementation.

    Sub-modules (= optimizer keys): ``generator`` (:class:`methods.spgnet.networks.SPGNetGenerator`: ``sp`` and
    ``sg``), ``disc`` (image D, conditional on the completed labels), ``disc_seg`` (label-map D, optional).

    Args:
        generator (dict): ``SPGNetGenerator`` config (``num_classes`` filled in).
        disc (dict), disc_seg (dict | None): ``MultiscaleDiscriminator`` configs (``in_channels`` and
            ``return_features`` are set here).
        num_classes (int): k (set by the runner). img_size (int): multiple of 16 (set by the runner).
        test_labels (str): ``'dataset'`` | ``'none'`` (see the module docstring).
        detach_stage1 (bool): SG-Net's losses do not reach SP-Net.
        loss_weights (dict): ``ce``, ``seg_adv``, ``l1``, ``adv``, ``fm``, ``vgg``.
        use_vgg_losses (bool), vgg_weights (str | None), vgg_download (bool): VGG19 loss (see
            :mod:`methods.common.perceptual`).
        disc_steps (int), data_preprocessor (dict), init_cfg (dict): see :class:`GANInpaintor`.
    """

    def __init__(self, generator: dict, disc: dict, disc_seg: dict | None = None, num_classes: int = 8,
                 img_size: int = 256, test_labels: str = "dataset", detach_stage1: bool = True,
                 loss_weights: dict | None = None, use_vgg_losses: bool = True, vgg_weights: str | None = None,
                 vgg_download: bool = True, disc_steps: int = 1, data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None):
        super().__init__(disc_steps=disc_steps, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if test_labels not in TEST_LABELS:
            raise ValueError(f"test_labels must be one of {TEST_LABELS}, got {test_labels!r}")
        if int(img_size) % 16:
            raise ValueError(f"SPG-Net needs img_size divisible by 16, got {img_size}")
        self.num_classes, self.img_size = int(num_classes), int(img_size)
        self.test_labels, self.detach_stage1 = test_labels, bool(detach_stage1)
        self.generator = MODELS.build(dict(generator, num_classes=self.num_classes))
        k = self.num_classes
        self.disc = MODELS.build(dict(disc, in_channels=3 + k, return_features=True))
        self.disc_seg = None
        if disc_seg is not None:
            self.disc_seg = MODELS.build(dict(disc_seg, in_channels=4 + k, return_features=False))
        self.disc_keys = ("disc", "disc_seg") if self.disc_seg is not None else ("disc",)
        self.loss_weights = dict(_DEFAULT_WEIGHTS, **(loss_weights or {}))
        self.gan_loss = MultiScaleGANLoss("hinge")
        self.use_vgg_losses = bool(use_vgg_losses)
        self._vgg_args = dict(weights=vgg_weights, download=vgg_download)
        if not self.use_vgg_losses:
            print_log("SPG-Net: VGG19 loss (x10) is DISABLED (use_vgg_losses=False); SG-Net trains with L1 + hinge "
                      "GAN + feature matching", logger="current", level=30)
        self._warned_no_seg = False

    # -- inference -----------------------------------------------------------------------------------
    def _stage1_labels(self, seg, mask):
        if self.training:
            if seg is None:
                raise ValueError("SPG-Net needs label maps ('seg') to train: use a dataset with labels")
        elif self.test_labels == "none":
            seg = None
        elif seg is None and not self._warned_no_seg:
            print_log("SPG-Net: test_labels='dataset' but the batch has no 'seg': using an all-zero label map "
                      "(as test_labels='none')", logger="current", level=30)
            self._warned_no_seg = True
        return known_label_map(seg, mask, self.num_classes)

    def generate(self, img, mask, seg=None, return_attention: bool = False):
        """``seg`` (B×H×W, 255 = ignore): the known-region labels (training, and ``test_labels='dataset'``)."""
        corrupted = masked_input(img, mask)
        known, valid = self._stage1_labels(seg, mask)
        sp_logits = self.generator.predict_segmentation(corrupted, mask, known)
        completed = valid * known + (1.0 - valid) * torch.softmax(sp_logits, dim=1)
        guide = completed.detach() if self.detach_stage1 else completed
        raw = self.generator.generate_image(corrupted, mask, guide)
        return dict(raw=raw, seg_logits=sp_logits, completed_seg=completed, known_labels=known, known_valid=valid)

    # -- training ------------------------------------------------------------------------------------
    def vgg_loss(self):
        """The VGG19 loss, built on first use (training only: building the model for evaluation or parameter
        counts never needs the VGG file) and kept out of the module tree (not in checkpoints, not optimised);
        ``None`` when ``use_vgg_losses=False``."""
        if not self.use_vgg_losses:
            return None
        if "_vgg_loss" not in self.__dict__:
            from methods.common.perceptual import PerceptualLoss

            self.__dict__["_vgg_loss"] = PerceptualLoss(VGG_LAYER_WEIGHTS, input_range=(-1.0, 1.0),
                                                        imagenet_norm=True, **self._vgg_args)
        return self.__dict__["_vgg_loss"]

    def _seg_disc_inputs(self, data, out, completed):
        img, mask, seg = data["img"], data["mask"], data["seg"]
        corrupted = masked_input(img, mask)
        onehot, valid = _label_onehot(seg, self.num_classes)
        # ignored pixels carry the same (detached) values in real and fake, so D cannot use them
        real = valid * onehot + (1.0 - valid) * out["completed_seg"].detach()
        cond = torch.cat([corrupted, mask], dim=1)
        return torch.cat([cond, real], dim=1), torch.cat([cond, completed], dim=1)

    def discriminator_losses(self, data: dict, out: dict) -> dict:
        img, mask = data["img"], data["mask"]
        cond = out["completed_seg"].detach()
        fake = composite(out["raw"], img, mask).detach()
        losses = {"disc": {"loss_gan_d": self.gan_loss.disc_loss(self.disc(torch.cat([img, cond], 1)),
                                                                 self.disc(torch.cat([fake, cond], 1)))}}
        if self.disc_seg is not None:
            real_in, fake_in = self._seg_disc_inputs(data, out, cond)
            losses["disc_seg"] = {"loss_seg_gan_d": self.gan_loss.disc_loss(self.disc_seg(real_in),
                                                                            self.disc_seg(fake_in))}
        return losses

    def _feature_matching(self, fake_feats, real_feats) -> torch.Tensor:
        total = 0.0
        for f_scale, r_scale in zip(fake_feats, real_feats):
            for f, r in zip(f_scale[:-1], r_scale[:-1]):
                total = total + F.l1_loss(f, r.detach())
        return total / max(1, len(fake_feats))

    def generator_losses(self, data: dict, out: dict) -> dict:
        img, mask, seg = data["img"], data["mask"], data["seg"]
        w = self.loss_weights
        cond = out["completed_seg"].detach()
        fake = composite(out["raw"], img, mask)
        fake_feats = self.disc(torch.cat([fake, cond], 1))
        with torch.no_grad():
            real_feats = self.disc(torch.cat([img, cond], 1))
        losses = {"loss_ce": w["ce"] * F.cross_entropy(out["seg_logits"], seg.long(), ignore_index=255)
                  if (seg != 255).any() else out["seg_logits"].sum() * 0.0,
                  "loss_l1": w["l1"] * F.l1_loss(out["raw"], img),
                  "loss_gan": w["adv"] * self.gan_loss.gen_loss(fake_feats),
                  "loss_fm": w["fm"] * self._feature_matching(fake_feats, real_feats)}
        if self.disc_seg is not None:
            _, fake_in = self._seg_disc_inputs(data, out, out["completed_seg"])
            losses["loss_seg_adv"] = w["seg_adv"] * self.gan_loss.gen_loss(self.disc_seg(fake_in))
        vgg = self.vgg_loss()
        if vgg is not None:
            losses["loss_vgg"] = w["vgg"] * vgg(out["raw"], img)
        return losses
