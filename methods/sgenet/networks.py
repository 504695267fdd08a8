"""SGE-Net generator (Liao et al., ECCV 2020, "Guidance and Evaluation"), re-implemented from the paper's
description (no public code, ``shared/anchors/METHODS.md`` §0).

Structure (the skeleton is shared with SWAP: :class:`methods.common.multiscale_skeleton.MultiScaleSkeleton`):

* encoder over the corrupted image ⊕ mask → skips φ^5 … φ^1; CIM completes φ^1 into ϕ^1;
* at every scale l = 1..5 the shared feature ϕ^l gives the image Î^l (head h) and segmentation logits Ŝ^l
  (head g);
* **segmentation confidence evaluation** (:class:`SegmentationConfidenceEvaluation`, scales 1..4): a small
  conv net over [Î^l, softmax(Ŝ^l), M^l] (M^l = hole fraction at scale l; inputs detached: the evaluator
  judges the predictions, it does not change them) → C^l ∈ [0, 1] (sigmoid), the reliability of each
  location's predicted semantics;
* **semantic guidance** (:class:`SGEBlock`, ϕ^l → ϕ^{l+1}):

  1. f = conv3×3(concat(nearest-up(ϕ^l), φ^{l+1}));
  2. re-inference: R^{l+1} = g'(f), segmentation logits re-predicted from the new-scale feature;
  3. gating (our reading of "poorly-inferred regions are refined in subsequent scales"):
     ``G = C ⊙ up(softmax(Ŝ^l)) + (1 − C) ⊙ softmax(R^{l+1})`` with C = nearest-up(C^l): reliable locations
     carry the previous scale's semantics over, unreliable ones take the re-inferred semantics
     (``gate='hard'``: C binarised at ``threshold``, no gradient through the gate);
  4. ϕ^{l+1} = SPADEResBlock(f, G) × ``spade_blocks`` (SPADE guided by the gated segmentation).

  Ŝ^l is detached in G (as in SWAP: the segmentation heads are trained by the cross-entropy, not through the
  guidance); R^{l+1} and C^l keep their gradients (the re-inference head and the evaluator also learn from the
  image losses through the guidance).
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.registry import MODELS
from methods.common.blocks import ConvNormAct, make_act
from methods.common.multiscale_skeleton import MultiScaleSkeleton, ScaleHead
from methods.common.spade import SPADEResBlock

__all__ = ["SegmentationConfidenceEvaluation", "SGEBlock", "SGENetGenerator", "gate_segmentation"]


def gate_segmentation(previous: torch.Tensor, confidence: torch.Tensor, reinferred: torch.Tensor,
                      gate: str = "soft", threshold: float = 0.5) -> torch.Tensor:
    """``C ⊙ previous + (1 − C) ⊙ reinferred`` (``gate='soft'``) or with C := [C ≥ threshold] (``'hard'``).

    ``previous`` / ``reinferred``: B×k×h×w class probabilities; ``confidence``: B×1×h×w in [0, 1].
    """
    if gate == "hard":
        confidence = (confidence >= threshold).to(previous.dtype)
    elif gate != "soft":
        raise ValueError(f"gate must be 'soft' or 'hard', got {gate!r}")
    return confidence * previous + (1.0 - confidence) * reinferred


@MODELS.register_module()
class SegmentationConfidenceEvaluation(nn.Module):
    """C^l = σ(conv3×3(act(conv3×3(act(conv3×3([Î^l, softmax(Ŝ^l), M^l])))))) ∈ [0, 1], B×1×h×w.

    Trained (in :class:`methods.sgenet.model.SGENetInpaintor`) by binary cross-entropy against the per-pixel
    correctness of argmax(Ŝ^l) w.r.t. the labels, and through the gating by the image losses.

    Args:
        num_classes (int): k. hidden (int): conv width. act (str): activation.
    """

    def __init__(self, num_classes: int, hidden: int = 32, act: str = "lrelu"):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3 + num_classes + 1, hidden, 3, padding=1), make_act(act),
                                 nn.Conv2d(hidden, hidden, 3, padding=1), make_act(act),
                                 nn.Conv2d(hidden, 1, 3, padding=1))

    def forward(self, image: torch.Tensor, seg_logits: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """``image`` B×3×h×w, ``seg_logits`` B×k×h×w, ``hole`` B×1×h×w (hole fraction) → B×1×h×w in [0, 1]."""
        x = torch.cat([image, torch.softmax(seg_logits, dim=1), hole], dim=1)
        return torch.sigmoid(self.net(x))


@MODELS.register_module()
class SGEBlock(nn.Module):
    """ϕ^{l+1} from ϕ^l, φ^{l+1}, Ŝ^l and C^l (see the module docstring, steps 1-4).

    Args:
        in_channels (int): of ϕ^l. skip_channels (int): of φ^{l+1}. out_channels (int): of ϕ^{l+1}.
        num_classes (int): k.
        spade_blocks (int): SPADE residual blocks after the fusion conv.
        spade_hidden (int): SPADE shared width (128 in SPADE).
        head_channels (int): hidden width of the re-inference head.
        gate (str), threshold (float): see :func:`gate_segmentation`.
        spectral_norm (bool): in the SPADE blocks. act (str), norm (str): of the fusion conv.
    """

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, num_classes: int,
                 spade_blocks: int = 1, spade_hidden: int = 128, head_channels: int = 64, gate: str = "soft",
                 threshold: float = 0.5, spectral_norm: bool = False, act: str = "lrelu", norm: str = "none"):
        super().__init__()
        if gate not in ("soft", "hard"):
            raise ValueError(f"gate must be 'soft' or 'hard', got {gate!r}")
        self.gate, self.threshold = gate, float(threshold)
        self.context = ConvNormAct(in_channels + skip_channels, out_channels, 3, norm=norm, act=act)
        self.reinfer = ScaleHead(out_channels, min(head_channels, out_channels), num_classes, act, 1)
        self.spade = nn.ModuleList(SPADEResBlock(out_channels, out_channels, num_classes, spade_hidden,
                                                 spectral_norm=spectral_norm) for _ in range(spade_blocks))

    def forward(self, phi: torch.Tensor, skip: torch.Tensor, prev_seg: torch.Tensor,
                confidence: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """``prev_seg``: Ŝ^l logits (detached by the caller); ``confidence``: C^l (B×1×h_l×w_l).

        Returns (ϕ^{l+1}, dict(guide=G, reinfer_logits=R^{l+1}, confidence=C at the new size)).
        """
        size = skip.shape[-2:]
        f = self.context(torch.cat([F.interpolate(phi, size=size, mode="nearest"), skip], dim=1))
        reinfer_logits = self.reinfer(f)
        previous = F.interpolate(torch.softmax(prev_seg, dim=1), size=size, mode="nearest")
        conf = F.interpolate(confidence, size=size, mode="nearest")
        guide = gate_segmentation(previous, conf, torch.softmax(reinfer_logits, dim=1), self.gate, self.threshold)
        h = f
        for block in self.spade:
            h = block(h, guide)
        return h, dict(guide=guide, reinfer_logits=reinfer_logits, confidence=conf)


@MODELS.register_module()
class SGENetGenerator(MultiScaleSkeleton):
    """Encoder → CIM → decoder with image/segmentation heads at 5 scales, confidence evaluation at scales 1..4
    and confidence-gated SPADE guidance between scales.

    Args:
        num_classes (int): k. in_channels (int): 4 (masked RGB ⊕ mask).
        widths (tuple[int]): channels at scales 5 (finest) … 1 (coarsest).
        cim_blocks (int), cim_dilations (tuple[int]): CIM depth and dilations.
        spade_blocks (int), spade_hidden (int), gate (str), threshold (float), spectral_norm (bool):
            :class:`SGEBlock` arguments.
        eval_channels (int): width of :class:`SegmentationConfidenceEvaluation`.
        head_channels (int): hidden width cap of the heads. act (str), norm (str): of the convs.
    """

    def __init__(self, num_classes: int = 8, in_channels: int = 4, widths=(64, 128, 256, 256, 256),
                 cim_blocks: int = 8, cim_dilations=(1, 2, 4, 8), spade_blocks: int = 1, spade_hidden: int = 128,
                 gate: str = "soft", threshold: float = 0.5, spectral_norm: bool = False, eval_channels: int = 32,
                 head_channels: int = 64, act: str = "lrelu", norm: str = "none"):
        super().__init__(num_classes=num_classes, in_channels=in_channels, widths=widths, cim_blocks=cim_blocks,
                         cim_dilations=cim_dilations, head_channels=head_channels, act=act, norm=norm)
        ch = self.ch
        self.blocks = nn.ModuleDict({str(l + 1): SGEBlock(ch[l], ch[l + 1], ch[l + 1], self.num_classes,
                                                          spade_blocks=spade_blocks, spade_hidden=spade_hidden,
                                                          head_channels=head_channels, gate=gate,
                                                          threshold=threshold, spectral_norm=spectral_norm,
                                                          act=act, norm=norm)
                                     for l in (1, 2, 3, 4)})
        self.evaluators = nn.ModuleDict({str(l): SegmentationConfidenceEvaluation(self.num_classes, eval_channels,
                                                                                  act)
                                         for l in (1, 2, 3, 4)})
        self._build_heads()

    def forward(self, x: torch.Tensor, mask: torch.Tensor, confidence_override: dict | None = None) -> dict:
        """``x``: B×4×H×W (masked image ⊕ mask), ``mask``: B×1×H×W (1 = hole), H, W multiples of 16.

        ``confidence_override`` ({l: B×1×h_l×w_l}) replaces the evaluator's C^l (analysis / tests).

        Returns dict(images=[Î^1..Î^5], segs=[Ŝ^1..Ŝ^5] (logits), confidences=[C^1..C^4] (B×1×h_l×w_l),
        reinfer_segs=[R^2..R^5] (logits), guides=[G^2..G^5] (gated probabilities)).
        """
        skips, phi = self.encode(x)
        images, segs, confs, reinfers, guides = [], [], [], [], []
        for l in range(1, 6):
            if l > 1:
                phi, info = self.blocks[str(l)](phi, skips[l], segs[-1].detach(), confs[-1])
                reinfers.append(info["reinfer_logits"])
                guides.append(info["guide"])
            image, seg = self.heads(l, phi)
            images.append(image)
            segs.append(seg)
            if l < 5:
                if confidence_override is not None and l in confidence_override:
                    conf = confidence_override[l]
                else:
                    hole = F.adaptive_avg_pool2d(mask, image.shape[-2:])
                    conf = self.evaluators[str(l)](image.detach(), seg.detach(), hole)
                confs.append(conf)
        return dict(images=images, segs=segs, confidences=confs, reinfer_segs=reinfers, guides=guides)
