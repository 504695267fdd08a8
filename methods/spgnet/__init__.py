"""``spgnet``: SPG-Net, "SPG-Net: Segmentation Prediction and Guidance Network for Image Inpainting" (Song, Yang,
Shen, Wang, Huang, Kuo, BMVC 2018, arXiv 1805.03356). Baseline of the SWAP paper's Table 2 (segmentation mIoU).

No official code exists (``shared/anchors/METHODS.md`` §5): this is a **re-implementation** from the paper's
description, laid out after the facts recorded about the public unofficial port (yccyenchicheng/pytorch-SegInpaint;
no code copied):

* stage 1, SP-Net (``networks.SegmentationPredictionNet``): completes the label map from the corrupted image, the
  mask and the corrupted one-hot label map (labels inside the hole never reach it: ``model.known_label_map``);
* stage 2, SG-Net (``networks.SegmentationGuidedNet``): the image from the corrupted image and the completed labels;
* both ResNet-style encoder–decoders (conv7×7 s2, 3 × conv3×3 s2, 9 residual blocks at 512, 4 transposed convs);
* multiscale PatchGAN discriminators, hinge GAN, feature matching and VGG losses (``model.SPGNetInpaintor``).

Test-time label switch ``model.test_labels``: ``'dataset'`` (default: dataset labels outside the hole, standing in
for the paper's pretrained segmenter) or ``'none'`` (zeros). Choices are documented in ``model.py`` and
``configs/spgnet_paper.py``.
"""
from pathlib import Path

from bench.registry import MethodSpec, register_method

from .model import TEST_LABELS, SPGNetInpaintor, known_label_map
from .networks import (ResnetBlock, ResnetEncoderDecoder, SegmentationGuidedNet, SegmentationPredictionNet,
                       SPGNetGenerator)

SPEC = register_method(MethodSpec(
    name="spgnet",
    config_dir=Path(__file__).parent / "configs",
    origin=("Song, Yang, Shen, Wang, Huang, Kuo, 'SPG-Net: Segmentation Prediction and Guidance Network for Image "
            "Inpainting', BMVC 2018 (arXiv 1805.03356); no official code: re-implemented from the paper's "
            "two-stage description (segmentation prediction, then segmentation-guided generation), layout after "
            "the unofficial port yccyenchicheng/pytorch-SegInpaint (METHODS.md §5); known-region labels at test "
            "time from the dataset (test_labels='dataset') instead of a pretrained segmenter"),
    trainable=True,
    reimplementation=True,
    predicts_segmentation=True,
    paper_name="SPG-Net",
))

__all__ = ["SPEC", "SPGNetInpaintor", "SPGNetGenerator", "SegmentationPredictionNet", "SegmentationGuidedNet",
           "ResnetEncoderDecoder", "ResnetBlock", "known_label_map", "TEST_LABELS"]
