"""Hole masks for inpaint-bench (uint8 H×W, **1 = hole**, 0 = known).

* :mod:`masks.generators`: random generators (``center``, DeepFill v2 ``freeform`` strokes, the DeepFill v2
  training mask ``box_freeform``, ratio-bucketed ``bucketed_freeform``), registered in
  ``bench.registry.MASK_GENERATORS``.
* :mod:`masks.maskset`: fixed on-disk evaluation sets (PNG 255 = hole + ``manifest.json``).
* :mod:`masks.nvidia`: the NVIDIA irregular test masks (PConv) loader.
"""
from masks.generators import (BRUSH_WIDTH, NVIDIA_BUCKETS, BoxFreeFormMaskGenerator,
                              BucketedFreeFormMaskGenerator, CenterMaskGenerator, FreeFormMaskGenerator,
                              MaskGenerationError, bbox_mask, box_freeform_mask, bucketed_freeform_mask,
                              build_mask_generator, center_mask, freeform_mask, hole_ratio, random_bbox)
from masks.maskset import (DEFAULT_SETS, MaskSet, MaskSetError, default_mask_set, encode_mask_png,
                           make_mask_set, mask_set_key, read_mask_png, set_sha256, show_mask_set,
                           verify_mask_set)
from masks.nvidia import MaskFolder, load_nvidia_masks, make_mask_set_from_folder

__all__ = [
    "BRUSH_WIDTH", "NVIDIA_BUCKETS",
    "MaskGenerationError", "center_mask", "freeform_mask", "random_bbox", "bbox_mask", "box_freeform_mask",
    "bucketed_freeform_mask", "hole_ratio", "build_mask_generator",
    "CenterMaskGenerator", "FreeFormMaskGenerator", "BoxFreeFormMaskGenerator", "BucketedFreeFormMaskGenerator",
    "MaskSetError", "MaskSet", "make_mask_set", "verify_mask_set", "default_mask_set", "show_mask_set",
    "set_sha256", "encode_mask_png", "read_mask_png", "mask_set_key", "DEFAULT_SETS",
    "MaskFolder", "load_nvidia_masks", "make_mask_set_from_folder",
]
