"""``sgenet``: SGE-Net, "Guidance and Evaluation: Semantic-Aware Image Inpainting for Mixed Scenes"
(Liao, Xiao, Wang, Lin, Satoh, ECCV 2020, arXiv 2003.06877). Baseline of the SWAP paper's Tables 1 and 2.

No public code exists (``shared/anchors/METHODS.md`` §0): this is a **re-implementation** from the paper's
description, on the encoder / CIM / multi-scale decoder skeleton shared with SWAP
(``methods/common/multiscale_skeleton.py``):

* multi-scale decoder predicting image + segmentation at 5 scales (``networks.SGENetGenerator``);
* semantic guidance: the predicted segmentation modulates the next scale's features through SPADE
  (``methods/common/spade.py``: parameter-free instance norm, then ``(1 + γ)``, ``β`` from a conv net over the map);
* segmentation confidence evaluation (``networks.SegmentationConfidenceEvaluation``): C^l ∈ [0, 1] per location;
  the segmentation guiding scale l+1 is ``C·Ŝ^l + (1 − C)·R^{l+1}`` where R^{l+1} is re-inferred from the new
  scale's features, so poorly inferred regions are re-inferred (``networks.gate_segmentation``);
* losses (``model.SGENetInpaintor``): multi-scale L1, hinge multiscale PatchGAN, per-scale cross-entropy
  (+ on the re-inferred maps), BCE of the confidence against per-pixel correctness (our choice).

Every value the paper does not give is marked "choice" in ``configs/sgenet_paper.py``.
"""
from pathlib import Path

from bench.registry import MethodSpec, register_method

from .model import SGENetInpaintor, confidence_targets
from .networks import SegmentationConfidenceEvaluation, SGEBlock, SGENetGenerator, gate_segmentation

SPEC = register_method(MethodSpec(
    name="sgenet",
    config_dir=Path(__file__).parent / "configs",
    origin=("Liao, Xiao, Wang, Lin, Satoh, 'Guidance and Evaluation: Semantic-Aware Image Inpainting for Mixed "
            "Scenes', ECCV 2020 (arXiv 2003.06877); no public code: re-implemented from the paper's description "
            "(multi-scale image+segmentation decoder, SPADE semantic guidance, segmentation confidence "
            "evaluation), on the encoder/CIM/decoder skeleton shared with SWAP; choices in methods/sgenet/configs"),
    trainable=True,
    reimplementation=True,
    predicts_segmentation=True,
    paper_name="SGE-Net",
))

__all__ = ["SPEC", "SGENetInpaintor", "SGENetGenerator", "SGEBlock", "SegmentationConfidenceEvaluation",
           "confidence_targets", "gate_segmentation"]
