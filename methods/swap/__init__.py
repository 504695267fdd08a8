"""``swap``: Image Inpainting Guided by Coherence Priors of Semantics and Textures (Liao et al., CVPR 2021).

Re-implemented from the paper (no public code, see ``shared/anchors/METHODS.md`` §0). Variants (Table 3):
``full`` (SWAP + coherence losses), ``base`` (joint multi-scale inpainting + segmentation, no attention),
``att`` (contextual attention over all known patches in SWAP's place), ``swap`` (SWAP, no coherence losses).
"""
from pathlib import Path

from bench.registry import MethodSpec, register_method

from .losses import (MultiScaleCrossEntropyLoss, MultiScaleGANLoss, MultiScaleL1Loss, NonLocalPatchCoherenceLoss,
                     StructureCoherenceLoss)
from .model import SWAPInpaintor
from .networks import SWAPGenerator
from .swap import SemanticWiseAttention, SWAPBlock

SPEC = register_method(MethodSpec(
    name="swap",
    config_dir=Path(__file__).parent / "configs",
    variants=("full", "base", "att", "swap"),
    origin=("Liao, Xiao, Wang, Lin, Satoh, 'Image Inpainting Guided by Coherence Priors of Semantics and "
            "Textures', CVPR 2021 (arXiv 2012.08054); no public code: re-implemented from the paper "
            "(Sec. 3, Eq. 1-12); unspecified details documented in methods/swap/configs"),
    trainable=True,
    reimplementation=True,
    predicts_segmentation=True,
    paper_name="SWAP (Liao et al. 2021)",
))

__all__ = ["SPEC", "SWAPInpaintor", "SWAPGenerator", "SemanticWiseAttention", "SWAPBlock", "MultiScaleL1Loss",
           "MultiScaleCrossEntropyLoss", "MultiScaleGANLoss", "NonLocalPatchCoherenceLoss", "StructureCoherenceLoss"]
