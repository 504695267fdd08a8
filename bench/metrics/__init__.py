"""Streaming evaluation metrics (mmengine ``BaseMetric``), one module per metric family.

Importing this package registers every metric in ``bench.registry.METRICS``:

* :class:`PixelMetric` (``pixel.py``): PSNR, SSIM, L1, relative MAE under named protocols (``paper`` default).
* :class:`FIDKIDMetric` (``fid.py``): FID, KID on torch-fidelity Inception features (offline weights).
* :class:`LPIPSMetric` (``perceptual.py``): LPIPS v0.1 (AlexNet default) through ``lpips``.
* :class:`SegmentationMetric` (``segmentation.py``): mIoU of predicted segmentations (whole image, hole).

Weight files are resolved in ``weights.py`` (``describe_weights()`` for ``bench weights``); hole-ratio bins
of per-image values in ``bins.py``. Heavy packages (torch-fidelity, lpips, mmseg) are imported on first use.
"""
from .base import InpaintMetric, mean_of_values, to_uint8, to_uint8_levels
from .bins import hole_ratio_bins, per_image_table
from .fid import FIDKIDMetric, fid_from_features, frechet_distance, inception_features, kid_from_features
from .perceptual import LPIPSMetric, lpips_distance
from .pixel import (PROTOCOLS, PixelMetric, Protocol, masked_l1, pixel_values, psnr, psnr_ssim, relative_mae,
                    rgb_to_gray, ssim, ssim_map)
from .segmentation import SegmentationMetric, confusion_matrices, iou_from_confusion
from .weights import describe_weights, resolve_fid_weights, resolve_lpips_backbone

__all__ = [
    "InpaintMetric", "mean_of_values", "to_uint8", "to_uint8_levels",
    "PixelMetric", "Protocol", "PROTOCOLS", "psnr", "ssim", "psnr_ssim", "ssim_map", "masked_l1", "relative_mae",
    "rgb_to_gray", "pixel_values",
    "FIDKIDMetric", "frechet_distance", "fid_from_features", "kid_from_features", "inception_features",
    "LPIPSMetric", "lpips_distance",
    "SegmentationMetric", "confusion_matrices", "iou_from_confusion",
    "hole_ratio_bins", "per_image_table",
    "describe_weights", "resolve_fid_weights", "resolve_lpips_backbone",
]
