"""NVIDIA irregular test masks (Liu et al., ECCV 2018, "Image Inpainting for Irregular Holes Using
Partial Convolutions"), folder ``testing_mask_dataset/`` from ``test_mask.zip``.

12,000 PNGs ``00000.png … 11999.png`` (512×512, white = hole) in 6 hole-ratio buckets of 2,000 files
(1,000 with and 1,000 without the border constraint): bucket *k* = files ``[2000k, 2000k + 2000)`` with
hole ratio (0.01, 0.1], (0.1, 0.2], (0.2, 0.3], (0.3, 0.4], (0.4, 0.5], (0.5, 0.6] for k = 0 … 5 (PEN-Net's
``level``). Masks are binarised with ``pixel > 0 → hole``, as EdgeConnect, PEN-Net and mmagic do.
Licence CC BY-NC-SA 4.0: never commit them; point the loader at a downloaded copy.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image

from masks.generators import NVIDIA_BUCKETS, as_size
from masks.maskset import MaskSet, MaskSetError, _write_set, read_mask_png

__all__ = ["NVIDIA_TEST_COUNT", "NVIDIA_PER_BUCKET", "NVIDIA_BUCKETS", "MaskFolder", "load_nvidia_masks",
           "make_mask_set_from_folder"]

NVIDIA_TEST_COUNT = 12000
NVIDIA_PER_BUCKET = 2000
_FILE_RE = re.compile(r"^(\d{5})\.png$", re.IGNORECASE)
_FIX = ("download test_mask.zip from https://nv-adlr.github.io/publication/partialconv-inpainting, unzip it "
        "and pass its testing_mask_dataset/ folder")


class MaskFolder:
    """Read-only, MaskSet-like view of mask PNGs in a folder: ``len``, ``ms[i]`` (uint8 H×W, 1 = hole,
    resized with nearest neighbour to ``size``), ``names``, ``paths``, ``size``, ``hole_ratios``.
    """

    def __init__(self, root, paths: list[Path], size=None, *, threshold: int = 0, bucket: int | None = None):
        self.root = Path(root)
        self._paths = list(paths)
        if not self._paths:
            raise MaskSetError(f"{self.root}: no mask files selected")
        self.threshold = int(threshold)
        self.bucket = bucket
        self.ratio_range = NVIDIA_BUCKETS[bucket] if bucket is not None else None
        self.resize = size is not None
        if size is None:  # size of the first file; every other file must match
            try:
                with Image.open(self._paths[0]) as img:
                    size = (img.height, img.width)
            except Exception as e:
                raise MaskSetError(f"{self._paths[0]}: cannot read mask image ({type(e).__name__}: {e})") from None
        self.size = as_size(size)
        self._ratios = None

    def __len__(self) -> int:
        return len(self._paths)

    def __getitem__(self, i) -> np.ndarray:
        n = len(self)
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"mask index must be an int, got {type(i).__name__}")
        if not -n <= i < n:
            raise IndexError(f"mask index {i} out of range for {n} masks in {self.root}")
        path = self._paths[int(i) % n]
        mask = read_mask_png(path, None if self.resize else self.size, threshold=self.threshold)
        if mask.shape != self.size:
            img = Image.fromarray(mask).resize((self.size[1], self.size[0]), Image.Resampling.NEAREST)
            mask = np.asarray(img, dtype=np.uint8)
        return mask

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        return f"MaskFolder({str(self.root)!r}, n={len(self)}, size={self.size}, bucket={self.bucket})"

    @property
    def names(self) -> list[str]:
        return [p.name for p in self._paths]

    @property
    def paths(self) -> list[Path]:
        return list(self._paths)

    @property
    def hole_ratios(self) -> np.ndarray:
        """Hole ratio of every mask at ``size`` (reads all files once, then cached)."""
        if self._ratios is None:
            self._ratios = np.array([float(m.mean()) for m in self], dtype=np.float64)
        return self._ratios

    @property
    def params(self) -> dict:
        return {"type": "nvidia_irregular", "size": list(self.size), "bucket": self.bucket,
                "ratio_range": list(self.ratio_range) if self.ratio_range else None,
                "threshold": self.threshold, "resample": "nearest"}


def load_nvidia_masks(folder, bucket: int | None = None, size=None, *, strict: bool = True,
                      threshold: int = 0) -> MaskFolder:
    """The NVIDIA irregular test masks in ``folder`` (``testing_mask_dataset/``), optionally one bucket.

    Args:
        bucket: None for all files, or k ∈ 0..5 for files ``[2000k, 2000k + 2000)`` (hole ratio
            (0.01, 0.1] for k = 0, (0.1k, 0.1(k+1)] otherwise).
        size: int or (H, W) to resize to (nearest neighbour); None keeps the files' size.
        strict: require the complete set ``00000.png … 11999.png`` (set False for a partial copy).
        threshold: a pixel is a hole when its gray value is > threshold.

    Raises :class:`MaskSetError` naming the folder or file for anything unexpected.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MaskSetError(f"NVIDIA mask folder {folder} does not exist; {_FIX}")
    if bucket is not None:
        is_int = isinstance(bucket, (int, np.integer)) and not isinstance(bucket, bool)
        if not is_int or not 0 <= bucket < len(NVIDIA_BUCKETS):
            raise ValueError(f"bucket must be an int in 0..{len(NVIDIA_BUCKETS) - 1} "
                             f"(hole ratio buckets {NVIDIA_BUCKETS}), got {bucket!r}")
        bucket = int(bucket)
    by_index = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith(".") or p.suffix.lower() != ".png":
            continue
        m = _FILE_RE.match(p.name)
        if m is None or int(m.group(1)) >= NVIDIA_TEST_COUNT:
            raise MaskSetError(f"{p}: unexpected file name in the NVIDIA test-mask folder (expected "
                               f"00000.png … {NVIDIA_TEST_COUNT - 1:05d}.png); move it out of {folder}")
        by_index[int(m.group(1))] = p
    if not by_index:
        raise MaskSetError(f"{folder} contains no mask PNGs; {_FIX}")
    if strict:
        missing = [i for i in range(NVIDIA_TEST_COUNT) if i not in by_index]
        if missing:
            shown = ", ".join(f"{i:05d}.png" for i in missing[:5]) + (" …" if len(missing) > 5 else "")
            raise MaskSetError(f"{folder} is incomplete: {len(missing)} of {NVIDIA_TEST_COUNT} masks missing "
                               f"({shown}); re-extract test_mask.zip, or pass strict=False for a partial copy")
    if bucket is None:
        indices = sorted(by_index)
    else:
        lo = bucket * NVIDIA_PER_BUCKET
        indices = [i for i in sorted(by_index) if lo <= i < lo + NVIDIA_PER_BUCKET]
        if not indices:
            raise MaskSetError(f"{folder} has no masks of bucket {bucket} (files {lo:05d}.png … "
                               f"{lo + NVIDIA_PER_BUCKET - 1:05d}.png); {_FIX}")
    return MaskFolder(folder, [by_index[i] for i in indices], size, threshold=threshold, bucket=bucket)


def make_mask_set_from_folder(out_dir, folder, bucket: int | None = None, size=None, progress: bool = True,
                              *, strict: bool = True, threshold: int = 0) -> MaskSet:
    """Copy NVIDIA test masks (all or one bucket, resized) into a fixed mask set at ``out_dir``.

    The set's generator is ``nvidia_irregular`` with the loader's params, seed ``null``; each file entry
    keeps its original name under ``source``. Same overwrite rules as :func:`masks.make_mask_set`.
    """
    src = folder if isinstance(folder, MaskFolder) else load_nvidia_masks(
        folder, bucket=bucket, size=size, strict=strict, threshold=threshold)
    return _write_set(out_dir, src.__getitem__, count=len(src), generator="nvidia_irregular",
                      params=src.params, seed=None, size=src.size, progress=progress, sources=src.names)
