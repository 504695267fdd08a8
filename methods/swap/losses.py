"""SWAP losses (Sec. 3.3-3.4, Eq. 5-12). One class per loss; all reduce to a scalar.

* :class:`MultiScaleL1Loss` (Eq. 9), :class:`MultiScaleCrossEntropyLoss` (Eq. 11),
* :class:`MultiScaleGANLoss` (Eq. 10; hinge by default, ``'lsgan'`` and the printed log form ``'vanilla'``
  available), used for the image discriminator and inside
* :class:`StructureCoherenceLoss` (Eq. 8: conditional D_s and D_t),
* :class:`NonLocalPatchCoherenceLoss` (Eq. 5-7).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.registry import MODELS

__all__ = ["MultiScaleL1Loss", "MultiScaleCrossEntropyLoss", "MultiScaleGANLoss", "NonLocalPatchCoherenceLoss",
           "StructureCoherenceLoss", "seg_one_hot"]


def _up(x: torch.Tensor, size) -> torch.Tensor:
    if x.shape[-2:] == tuple(size):
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


@MODELS.register_module()
class MultiScaleL1Loss(nn.Module):
    """Eq. 9: ``Σ_l mean |I − up(Î^l)|`` over the whole image (bilinear upsampling; mean over pixels and
    channels per scale, summed over scales)."""

    def forward(self, images, target: torch.Tensor) -> torch.Tensor:
        if torch.is_tensor(images):
            images = [images]
        return sum(F.l1_loss(_up(im, target.shape[-2:]), target) for im in images)


@MODELS.register_module()
class MultiScaleCrossEntropyLoss(nn.Module):
    """Eq. 11: ``Σ_l CE(up(Ŝ^l), S)``, logits upsampled bilinearly to the label size, mean over labelled
    pixels (``ignore_index`` = 255 excluded). A batch with no labelled pixel gives 0.

    Args:
        ignore_index (int): label to ignore (255).
    """

    def __init__(self, ignore_index: int = 255):
        super().__init__()
        self.ignore_index = ignore_index

    def forward(self, segs, target: torch.Tensor) -> torch.Tensor:
        if torch.is_tensor(segs):
            segs = [segs]
        target = target.long()
        n = (target != self.ignore_index).sum().clamp_min(1)
        return sum(F.cross_entropy(_up(s, target.shape[-2:]), target, ignore_index=self.ignore_index,
                                   reduction="sum") / n for s in segs)


def _last(out):
    """Patch map of one discriminator output (the last entry when it returns its feature list)."""
    return out[-1] if isinstance(out, (list, tuple)) else out


def _scales(outs):
    """Per-scale patch maps. A tensor is one scale; a list has one entry per scale (a multiscale D), each a
    patch map or a feature list whose last entry is the patch map."""
    if torch.is_tensor(outs):
        return [outs]
    return [_last(o) for o in outs]


@MODELS.register_module()
class MultiScaleGANLoss(nn.Module):
    """Adversarial loss summed over discriminator scales (Eq. 10 sums k = 1, 2, 3).

    Args:
        gan_type (str):
            ``'hinge'`` (default; SPADE's choice for its multiscale PatchGAN): D: ``relu(1 − D(x)) + relu(1 + D(x̂))``,
            G: ``−D(x̂)``;
            ``'lsgan'`` (pix2pixHD): D: ``(D(x) − 1)² + D(x̂)²``, G: ``(D(x̂) − 1)²``;
            ``'vanilla'``: the log form printed in Eq. 8/10 with logits (BCE), G non-saturating ``−log D(x̂)``.
        Means over patches, sums over scales.
    """

    def __init__(self, gan_type: str = "hinge"):
        super().__init__()
        if gan_type not in ("hinge", "lsgan", "vanilla"):
            raise ValueError(f"gan_type must be hinge, lsgan or vanilla, got {gan_type!r}")
        self.gan_type = gan_type

    def _one(self, x: torch.Tensor, real: bool, for_disc: bool) -> torch.Tensor:
        if self.gan_type == "hinge":
            if not for_disc:
                return -x.mean()
            return F.relu(1.0 - x).mean() if real else F.relu(1.0 + x).mean()
        if self.gan_type == "lsgan":
            return ((x - 1.0) ** 2).mean() if real else (x ** 2).mean()
        target = torch.ones_like(x) if real else torch.zeros_like(x)
        return F.binary_cross_entropy_with_logits(x, target)

    def disc_loss(self, real_outs, fake_outs) -> torch.Tensor:
        """Discriminator loss: real outputs pushed up, fake outputs pushed down."""
        return sum(self._one(r, True, True) + self._one(f, False, True)
                   for r, f in zip(_scales(real_outs), _scales(fake_outs)))

    def gen_loss(self, fake_outs) -> torch.Tensor:
        """Generator loss on the discriminator's outputs for fakes."""
        return sum(self._one(f, True, False) for f in _scales(fake_outs))

    def forward(self, outs, real: bool, for_disc: bool = True) -> torch.Tensor:
        return sum(self._one(o, real, for_disc) for o in _scales(outs))


def seg_one_hot(seg: torch.Tensor, num_classes: int, ignore_index: int = 255) -> torch.Tensor:
    """B×H×W labels → B×k×H×W float one-hot; ignored pixels are all-zero."""
    seg = seg.long()
    valid = seg != ignore_index
    oh = F.one_hot(torch.where(valid, seg, torch.zeros_like(seg)).clamp(0, num_classes - 1), num_classes)
    return (oh.permute(0, 3, 1, 2).float() * valid[:, None].float())


@MODELS.register_module()
class NonLocalPatchCoherenceLoss(nn.Module):
    """Non-local patch coherence loss (Eq. 5-7).

    Î and I are cut into non-overlapping ``patch_size``² patches. A generated patch's class is the argmax of
    Ŝ's softmax averaged over the patch; a real patch's class is the majority label of S (patches whose
    majority is ``ignore_index`` are dropped). For every image b and class c, each generated patch p of class c
    is paired with one real patch b of class c drawn uniformly at random (``torch.rand`` × count + offset
    inside the per-(image, class) segment of the real patches sorted by class: no loop over classes or
    patches), and, with μ_b^c the mean of the real patches of class c in image b,

        cos = <(p − μ)/|p − μ|, (b − μ)/|b − μ|>,   Di = 1 − cos  (Eq. 5).

    Eq. 6 as printed, ``−log(mean Di)``, *decreases* when the distance grows, i.e. minimising it would push
    generated patches away from the real ones, while the text says the loss "aims to maximize the similarity
    between the patch couples". We therefore minimise ``L^c = −log(mean_p s)`` with the similarity mapped into
    (0, 1]: ``s = clamp((1 + cos) / 2, min=eps)`` (s = 1 − Di/2), which is 0 when every pair is identical up to
    the common mean and grows as pairs disagree. Eq. 7: ``L = Σ_c L^c``, over classes present in Ŝ; a class
    of Ŝ absent from S (in that image) contributes 0. The batch loss is the mean over images.

    Gradients reach Î only (classes come from argmax; real patches are constants).

    Args:
        patch_size (int): patch side in pixels (8 at 256², paper silent).
        eps (float): lower clamp of the similarity and of the norms.
        ignore_index (int): ignored label of S.
    """

    def __init__(self, patch_size: int = 8, eps: float = 1e-3, ignore_index: int = 255):
        super().__init__()
        self.patch_size, self.eps, self.ignore_index = int(patch_size), float(eps), ignore_index

    def forward(self, fake: torch.Tensor, real: torch.Tensor, seg_pred: torch.Tensor,
                seg_gt: torch.Tensor) -> torch.Tensor:
        p = self.patch_size
        b, k = fake.shape[0], seg_pred.shape[1]
        gen = F.unfold(fake, p, stride=p).transpose(1, 2)  # B×L×D
        ref = F.unfold(real, p, stride=p).transpose(1, 2)
        n_patch, dim = gen.shape[1], gen.shape[2]
        with torch.no_grad():
            gen_cls = F.avg_pool2d(seg_pred.detach().float().softmax(1), p).flatten(2).argmax(1)  # B×L
            gt = seg_gt.long()
            gt = torch.where(gt == self.ignore_index, torch.full_like(gt, k), gt.clamp(0, k))
            gt_oh = F.one_hot(gt, k + 1).permute(0, 3, 1, 2).float()
            ref_cls = F.avg_pool2d(gt_oh, p).flatten(2).argmax(1)  # B×L, k = ignore
        img = torch.arange(b, device=fake.device)[:, None].expand(b, n_patch)
        ref_valid = (ref_cls < k).reshape(-1)
        ref_key = (img * k + ref_cls.clamp(max=k - 1)).reshape(-1)
        gen_key = (img * k + gen_cls).reshape(-1)
        n_keys = b * k
        ref_flat = ref.reshape(-1, dim)
        gen_flat = gen.reshape(-1, dim)
        # real patches sorted by (image, class); invalid ones last
        sort_key = torch.where(ref_valid, ref_key, torch.full_like(ref_key, n_keys))
        order = torch.argsort(sort_key, stable=True)
        ref_sorted = ref_flat[order]
        counts = torch.bincount(ref_key[ref_valid], minlength=n_keys)
        offsets = torch.cumsum(counts, 0) - counts
        mean = torch.zeros(n_keys, dim, dtype=ref.dtype, device=ref.device).index_add_(
            0, ref_key[ref_valid], ref_flat[ref_valid]) / counts.clamp_min(1)[:, None].to(ref.dtype)
        # random partner of the same (image, class) for every generated patch
        cnt = counts[gen_key]
        paired = cnt > 0
        pick = offsets[gen_key] + (torch.rand(gen_key.shape, device=fake.device) * cnt).long().clamp(
            max=(cnt - 1).clamp_min(0))
        partner = ref_sorted[pick.clamp(0, ref_sorted.shape[0] - 1)]
        mu = mean[gen_key]
        u, v = gen_flat - mu, partner - mu
        cos = (u * v).sum(1) / (u.norm(dim=1).clamp_min(self.eps) * v.norm(dim=1).clamp_min(self.eps))
        sim = ((1.0 + cos) / 2.0).clamp_min(self.eps)
        w = paired.to(sim.dtype)
        sum_sim = torch.zeros(n_keys, dtype=sim.dtype, device=sim.device).index_add_(0, gen_key, sim * w)
        n_gen = torch.zeros(n_keys, dtype=sim.dtype, device=sim.device).index_add_(0, gen_key, w)
        active = n_gen > 0
        per_key = -torch.log(torch.where(active, sum_sim / n_gen.clamp_min(1), torch.ones_like(sum_sim)))
        return per_key.sum() / b


@MODELS.register_module()
class StructureCoherenceLoss(nn.Module):
    """Structure coherence loss (Eq. 8) with two conditional discriminators.

    * D_s (semantics-conditioned) judges an image given the real segmentation:
      real = ``I ⊕ onehot(S)``, fake = ``Î ⊕ onehot(S)``.
    * D_t (texture-conditioned) judges a segmentation given the real image:
      real = ``onehot(S) ⊕ I``, fake = ``softmax(Ŝ) ⊕ I``.
    Ignored pixels (255) are all-zero in the one-hot map and zeroed in softmax(Ŝ) too, so D_t cannot tell
    real from fake by them. Eq. 8 is printed in the log (BCE) form; ``gan_type`` selects the form
    (hinge default, as for D; see :class:`MultiScaleGANLoss`).

    Args:
        num_classes (int): k.
        gan_type (str): ``'hinge'`` | ``'lsgan'`` | ``'vanilla'``.
        ignore_index (int): 255.
    """

    def __init__(self, num_classes: int, gan_type: str = "hinge", ignore_index: int = 255):
        super().__init__()
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.gan = MultiScaleGANLoss(gan_type)

    def conditions(self, seg_gt: torch.Tensor, seg_logits: torch.Tensor):
        """(one-hot S, masked softmax Ŝ) at the label resolution."""
        oh = seg_one_hot(seg_gt, self.num_classes, self.ignore_index)
        valid = (seg_gt != self.ignore_index)[:, None].float()
        prob = _up(seg_logits, seg_gt.shape[-2:]).softmax(1) * valid
        return oh, prob

    def disc_loss(self, d_s: nn.Module, d_t: nn.Module, real_img: torch.Tensor, fake_img: torch.Tensor,
                  seg_gt: torch.Tensor, seg_logits: torch.Tensor) -> dict:
        """D_s and D_t losses (pass detached fakes). Returns ``{'disc_s': loss, 'disc_t': loss}``."""
        oh, prob = self.conditions(seg_gt, seg_logits)
        ls = self.gan.disc_loss(d_s(torch.cat([real_img, oh], 1)), d_s(torch.cat([fake_img, oh], 1)))
        lt = self.gan.disc_loss(d_t(torch.cat([oh, real_img], 1)), d_t(torch.cat([prob, real_img], 1)))
        return {"disc_s": ls, "disc_t": lt}

    def gen_loss(self, d_s: nn.Module, d_t: nn.Module, real_img: torch.Tensor, fake_img: torch.Tensor,
                 seg_gt: torch.Tensor, seg_logits: torch.Tensor) -> torch.Tensor:
        """Generator side of Eq. 8 (L_cs + L_ct)."""
        oh, prob = self.conditions(seg_gt, seg_logits)
        return (self.gan.gen_loss(d_s(torch.cat([fake_img, oh], 1)))
                + self.gan.gen_loss(d_t(torch.cat([prob, real_img], 1))))
