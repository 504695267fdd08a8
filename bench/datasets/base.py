"""``InpaintDataset``: the base class of every dataset (sample dict of ``docs/ARCHITECTURE.md``).

A subclass says where its files are (``load_data_list``) and how its label files map to class ids
(``convert_label``); the base class does the rest: root checks with a helpful error, sorting,
``max_samples``, reading and checking images and labels, resize / crop / flip, masks (random for
training, a fixed ``masks.MaskSet`` for evaluation), conversion to tensors and bad-file handling.

Image pipeline (the same for every dataset, so methods see identical inputs):

1. read the image as RGB uint8 (Pillow) and the label as a single-channel class map;
   ``convert_label`` maps the file's values to class ids (255 = void); values outside
   ``0..num_label_ids-1`` other than 255 are an error. 16-bit images keep their high byte
   (v >> 8, what Pillow itself does to 16-bit RGB/RGBA PNGs and TIFFs), also 16-bit grey ones
   (modes ``I;16*``, and ``I`` from a PNG), which Pillow's ``convert('RGB')`` would clip to white;
   other 32-bit integer and floating-point images (mode ``I`` not from a PNG, ``F``) have no defined
   range and are refused. An image whose short side is below ``min_side`` (default ``img_size // 4``)
   is refused ("image too small"): enlarged more than 4× it would score interpolation, not content;
2. resize so that the short side is ``max(resize_short, img_size)`` (``resize_short`` defaults to
   ``resize_scale * img_size``; aspect kept): images with
   ``cv2.INTER_AREA`` when shrinking and ``cv2.INTER_CUBIC`` (saturated to 0..255) when enlarging,
   labels with ``cv2.INTER_NEAREST``. ``crop='resize'`` instead stretches to ``img_size``²;
3. crop ``img_size``² (``'random'`` position for training, ``'center'`` for testing);
4. random horizontal flip (image, label) with probability 0.5 when ``flip``;
5. void (255) becomes ``void_class`` where the dataset treats void as a class (Cityscapes, 20 classes).

Randomness is a pure function of ``(seed, index, epoch, visit)``: ``epoch`` is what
:meth:`InpaintDataset.set_epoch` last set (0 by default) and ``visit`` counts how often this
process has served the index since then (only for ``split='train'``; always 0 for ``'test'``).
The mask comes from ``np.random.default_rng([seed, index, epoch, visit])``, the crop/flip from
``np.random.default_rng([seed, index, epoch, visit, 1])``. With ``set_epoch`` called every epoch
the stream does not depend on the number of DataLoader workers; without it, it is reproducible
with ``num_workers=0`` or ``persistent_workers=True`` (non-persistent workers restart the visit
count every epoch, so masks would repeat across epochs).

Bad files: with ``skip_bad=False`` (default) the first unreadable / inconsistent file raises a
:class:`DatasetError` naming it and the fix. With ``skip_bad=True`` bad files are found **on
access**: the item is recorded in ``dataset.bad_files`` (``(path relative to data_root, reason)``)
and the next good item (index + 1, + 2, ... wrapping around) is returned instead, deterministically.
Records made inside DataLoader worker processes stay in those processes, so when the final count
and names matter (evaluation) use ``validate=True`` (the default for ``split='test'`` with
``skip_bad``): every item is decoded and checked once at construction, bad ones are dropped from
the list (``skip_bad=True``) or all are reported in one error (``skip_bad=False``), and
``bad_files`` is complete before the first batch.
Image folders whose image has no label file are handled the same way at list time.
"""
from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from mmengine.dataset import BaseDataset
from PIL import Image

from bench.datasets.errors import DatasetError, DatasetNotFoundError, not_found_message

VOID = 255
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
_SKIP_HINT = ("or set `skip_bad=True` on the dataset (e.g. `--cfg-options test_dataset.skip_bad=True`) "
              "to skip such files and list them in the results")


def list_images(folder: Path, recursive: bool = False, suffixes=IMG_EXTENSIONS) -> list[Path]:
    """Image files in ``folder`` (sorted; no decoding). Empty list when the folder is missing."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    it = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(p for p in it if p.name.lower().endswith(tuple(suffixes)) and p.is_file())


def count_files(folder: Path, suffix: str | tuple = IMG_EXTENSIONS, depth: int = 0) -> int | None:
    """Cheap count of files ending with ``suffix`` in ``folder`` (``depth`` levels of sub-folders).

    ``None`` when the folder does not exist.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return None
    suffix = tuple(s.lower() for s in ((suffix,) if isinstance(suffix, str) else suffix))
    n = 0
    with os.scandir(folder) as it:
        for entry in it:
            if depth > 0 and entry.is_dir():
                n += count_files(Path(entry.path), suffix, depth - 1) or 0
            elif entry.name.lower().endswith(suffix):
                n += 1
    return n


def _rgb8(im: Image.Image, path) -> np.ndarray:
    """RGB uint8 of an opened image; 16-bit samples keep their high byte (see ``read_image``)."""
    mode = im.mode
    if mode.startswith("I;16") or (mode == "I" and im.format == "PNG"):  # PNG has no 32-bit samples
        a = np.asarray(im)
        if a.size and (int(a.min()) < 0 or int(a.max()) > 65535):
            raise DatasetError(f"image {path} has {mode} values outside 0..65535. Fix: save it as an 8- or "
                               f"16-bit PNG, {_SKIP_HINT}.", path=path, reason="unsupported pixel format")
        grey = (a.astype(np.uint32) >> 8).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if mode in ("I", "F") or mode.startswith(("I;32", "F;")):
        kind = "floating-point" if mode.startswith("F") else "32-bit integer"
        raise DatasetError(f"image {path} has {kind} pixels (mode {mode}) with no defined 0..255 range. Fix: "
                           f"save it as an 8- or 16-bit PNG, {_SKIP_HINT}.", path=path,
                           reason="unsupported pixel format")
    return np.asarray(im.convert("RGB"))


class InpaintDataset(BaseDataset):
    """Base class of the inpainting datasets; ``__getitem__`` returns the sample dict.

    Sample dict: ``img`` float32 3×H×W in [-1, 1]; ``mask`` float32 1×H×W (1 = hole);
    ``seg`` int64 H×W (255 = ignore; only when the dataset has labels and ``with_seg``);
    ``meta`` = ``dict(file, dataset, index, mask_id, hole_ratio)`` with ``file`` relative to
    ``data_root``. See the module docstring for the resize / crop / randomness / bad-file rules.

    Args:
        data_root (str | Path): the dataset's folder (``<--data-root>/<DATA_SUBDIR>``).
        split (str): ``'train'`` or ``'test'``.
        img_size (int): side of the square crop fed to the model. Default 256.
        resize_short (int | None): short side after resizing, before cropping (pixels); ``None``
            means ``resize_scale * img_size``. Never below ``img_size`` (a smaller value is raised).
        resize_scale (float): short side as a multiple of ``img_size`` when ``resize_short`` is None
            (default 1.0; Cityscapes training uses 2.0 = 512 for 256 crops). Configs use this form so
            that a preset's ``img_size`` (e.g. 64 for smoke runs) keeps the recipe's proportions.
        crop (str | None): ``'random'``, ``'center'`` or ``'resize'`` (stretch to ``img_size``²,
            no crop). ``None``: ``'random'`` for train, ``'center'`` for test.
        flip (bool | None): random horizontal flip. ``None``: True for train, False for test.
        masks (dict | callable | None): mask generator config (built through
            ``bench.registry.MASK_GENERATORS`` with ``size=img_size``) or a generator object;
            called as ``gen(rng) -> uint8 H×W`` (1 = hole) once per item (training). Ignored when
            ``mask_set`` is given.
        mask_set (masks.MaskSet | str | Path | None): fixed evaluation masks; item ``i`` gets mask
            ``i mod len(mask_set)`` and ``meta.mask_id`` is that mask's file name.
            Without ``masks`` and ``mask_set`` the mask is all zeros (``mask_id=None``).
        skip_bad (bool): skip unreadable / inconsistent files instead of raising (see
            ``bad_files``). Default False.
        min_side (int | None): smallest accepted short side of an image, in pixels; smaller images
            are bad files (reason ``'image too small'``). ``None`` (default): ``img_size // 4``
            (64 for 256 crops: at most a 4× enlargement); 0 accepts any size.
        validate (bool | None): decode and check every item at construction (see module docstring).
            ``None`` (default): True for ``split='test'`` with ``skip_bad`` (evaluation then scores
            exactly the good images, no stand-ins, and ``bad_files`` is final), else False.
        max_samples (int | None): keep the first N items in sorted path order.
        seed (int): seed of masks, crops and flips (not of the data itself).
        with_seg (bool): return ``seg`` when the dataset has labels (False: labels are not read).
        metainfo (dict | None): overrides of ``METAINFO`` (mmengine semantics).
        lazy_init (bool): defer listing the files until first use (mmengine semantics).
        serialize_data (bool): keep the file list as one pickled buffer, shared by DataLoader
            workers without copy-on-read growth (mmengine semantics). Default True.
        indices (int | Sequence[int] | None): mmengine subset, applied after ``max_samples``.

    Attributes:
        bad_files (list[tuple[str, str]]): ``(path relative to data_root, reason)`` of every bad
            file met so far (in this process).
    """

    METAINFO: dict = dict(classes=(), palette=[])
    NAME = "base"  # registry name, also ``meta['dataset']``
    DATA_SUBDIR = ""  # folder under --data-root / BENCH_DATA_ROOT
    HAS_LABELS = False
    EXPECTED_TREE = ""  # shown in the "not found" error and by ``bench datasets``
    void_class: int | None = None  # class id void (255) becomes; None keeps 255 (ignore)

    def __init__(self,
                 data_root: str | os.PathLike = "",
                 split: str = "train",
                 img_size: int = 256,
                 resize_short: int | None = None,
                 resize_scale: float = 1.0,
                 crop: str | None = None,
                 flip: bool | None = None,
                 masks: Any = None,
                 mask_set: Any = None,
                 skip_bad: bool = False,
                 min_side: int | None = None,
                 validate: bool | None = None,
                 max_samples: int | None = None,
                 seed: int = 0,
                 with_seg: bool = True,
                 metainfo: dict | None = None,
                 lazy_init: bool = False,
                 serialize_data: bool = True,
                 indices=None):
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        crop = crop or ("random" if split == "train" else "center")
        if crop not in ("random", "center", "resize"):
            raise ValueError(f"crop must be 'random', 'center' or 'resize', got {crop!r}")
        if int(img_size) < 8:
            raise ValueError(f"img_size must be >= 8, got {img_size}")
        if max_samples is not None and int(max_samples) < 1:
            raise ValueError(f"max_samples must be a positive int or None, got {max_samples}")
        self.split = split
        self.img_size = int(img_size)
        if resize_short is None:
            resize_short = int(round(float(resize_scale) * self.img_size))
        self.resize_short = max(int(resize_short), self.img_size)
        self.crop = crop
        self.flip = (split == "train") if flip is None else bool(flip)
        self.skip_bad = bool(skip_bad)
        self.min_side = self.img_size // 4 if min_side is None else int(min_side)
        if self.min_side < 0:
            raise ValueError(f"min_side must be >= 0 (0 accepts any size), got {min_side}")
        self.validate = (self.skip_bad and split == "test") if validate is None else bool(validate)
        self.max_samples = None if max_samples is None else int(max_samples)
        self.seed = int(seed or 0)
        self.has_labels = getattr(self, "has_labels", self.HAS_LABELS)
        self.with_seg = bool(with_seg) and self.has_labels
        self.bad_files: list[tuple[str, str]] = []
        self._bad_idx: set[int] = set()
        self._epoch = 0
        self._visits: dict[int, int] = defaultdict(int)
        self.mask_set = self._load_mask_set(mask_set)
        self._mask_names = None if self.mask_set is None else [str(n) for n in self.mask_set.names]
        self.mask_generator = None if self.mask_set is not None else self._build_mask_generator(masks)
        super().__init__(
            ann_file="", metainfo=metainfo, data_root=str(data_root), data_prefix=dict(),
            serialize_data=serialize_data, pipeline=[], test_mode=(split == "test"),
            lazy_init=lazy_init, indices=indices)

    # ---------------------------------------------------------------- class-level description
    @property
    def num_classes(self) -> int:
        """Number of classes the model predicts (0 for datasets without labels)."""
        return len(self._metainfo.get("classes", ()))

    @property
    def num_label_ids(self) -> int:
        """Valid non-void values of a converted label (``num_classes`` minus a void class)."""
        return self.num_classes - (1 if self.void_class is not None else 0)

    @classmethod
    def expected_tree(cls) -> str:
        """The folder layout this dataset expects under its ``data_root``."""
        return cls.EXPECTED_TREE.strip("\n")

    @classmethod
    def required_paths(cls, split: str) -> list[str]:
        """Paths (relative to ``data_root``) that must exist for ``split``."""
        return []

    @classmethod
    def count(cls, root: str | os.PathLike, split: str) -> int | None:
        """Cheap number of images of ``split`` under ``root`` (no decoding); None if absent."""
        return None

    @classmethod
    def describe(cls, root: str | os.PathLike) -> dict:
        """What ``bench datasets`` prints for this dataset at ``root`` (cheap)."""
        root = Path(root)
        found = root.is_dir() and all((root / p).exists()
                                      for s in ("train", "test") for p in cls.required_paths(s))
        return dict(name=cls.NAME, found=bool(found), path=str(root), expected_tree=cls.expected_tree(),
                    n_train=cls.count(root, "train") if root.is_dir() else None,
                    n_test=cls.count(root, "test") if root.is_dir() else None)

    # ---------------------------------------------------------------- list building
    def split_required_paths(self) -> list[str]:
        """``required_paths`` of this instance's split (instances may read other folders)."""
        return self.required_paths(self.split)

    def check_root(self) -> None:
        """Raise one :class:`DatasetNotFoundError` (with the expected tree) if files are missing."""
        root = Path(self.data_root)
        if not root.is_dir():
            missing = ["the folder itself"]
        else:
            missing = [p for p in self.split_required_paths() if not (root / p).exists()]
        if missing:
            raise DatasetNotFoundError(
                not_found_message(self.NAME, self.DATA_SUBDIR, str(root), missing, self.expected_tree()),
                path=str(root), reason="dataset not found")

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.check_root()
        super().full_init()

    def load_data_list(self) -> list[dict]:
        """Subclasses: list of dicts with ``img_path`` (and ``seg_path`` for labelled datasets)."""
        raise NotImplementedError

    def filter_data(self) -> list[dict]:
        """Sort by image path, add ``file`` (relative path), apply ``max_samples`` and ``validate``."""
        data = sorted(self.data_list, key=lambda d: str(d["img_path"]))
        if not data and self.bad_files:
            raise DatasetError(f"all {len(self.bad_files)} images of dataset {self.NAME!r} ({self.data_root}) "
                               f"were skipped as bad, first: {self.bad_files[0][0]} ({self.bad_files[0][1]})",
                               path=str(self.data_root), reason="all items bad")
        if not data:
            raise DatasetNotFoundError(
                not_found_message(self.NAME, self.DATA_SUBDIR, str(self.data_root),
                                  [f"images of split {self.split!r}"], self.expected_tree()),
                path=str(self.data_root), reason="no images")
        for d in data:
            d["img_path"] = str(d["img_path"])
            if d.get("seg_path") is not None:
                d["seg_path"] = str(d["seg_path"])
            d.setdefault("file", self._rel(d["img_path"]))
        if self.max_samples is not None:
            data = data[: self.max_samples]
        if self.validate:
            data = self._validate_list(data)
        return data

    def _report_missing_labels(self, missing: list[tuple[str, str]]) -> None:
        """Images without a label file: record them (``skip_bad``) or raise one error listing them."""
        if not missing:
            return
        if self.skip_bad:
            for img, lab in missing:
                self.bad_files.append((self._rel(img), f"no label file (expected {self._rel(lab)})"))
            return
        shown = "\n".join(f"    {img} -> expected {lab}" for img, lab in missing[:10])
        more = f"\n    ... and {len(missing) - 10} more" if len(missing) > 10 else ""
        raise DatasetError(
            f"{len(missing)} image(s) of dataset {self.NAME!r} have no label file:\n{shown}{more}\n"
            f"Fix: restore the label files (expected layout below), remove those images, {_SKIP_HINT}.\n"
            f"Expected layout:\n{self.expected_tree()}",
            path=missing[0][0], reason="no label file")

    def _validate_list(self, data: list[dict]) -> list[dict]:
        good, errors = [], []
        for info in data:
            try:
                self._load_pair(info)
            except DatasetError as err:
                errors.append(err)
                if self.skip_bad:
                    self.bad_files.append((self._rel(err.path or info["img_path"]), err.reason))
                continue
            good.append(info)
        if errors and not self.skip_bad:
            shown = "\n".join(f"  - {e}" for e in errors[:5])
            more = f"\n  ... and {len(errors) - 5} more" if len(errors) > 5 else ""
            raise DatasetError(f"{len(errors)} bad file(s) in dataset {self.NAME!r} ({self.data_root}):\n"
                               f"{shown}{more}", path=errors[0].path, reason=errors[0].reason)
        if not good:
            raise DatasetError(f"every item of dataset {self.NAME!r} at {self.data_root} is bad "
                               f"(first: {errors[0]})", path=str(self.data_root), reason="all items bad")
        return good

    def _rel(self, path: str | os.PathLike) -> str:
        path = str(path)
        try:
            rel = os.path.relpath(path, str(self.data_root) or ".")
        except ValueError:  # different drive (Windows)
            return Path(path).as_posix()
        return Path(path).as_posix() if rel.startswith("..") else Path(rel).as_posix()

    # ---------------------------------------------------------------- masks
    def _load_mask_set(self, mask_set):
        if mask_set is None:
            return None
        if isinstance(mask_set, (str, os.PathLike)):
            import masks as masks_pkg  # the masks package (another layer, imported lazily)

            cls = masks_pkg.MaskSet
            loader = getattr(cls, "load", None) or getattr(cls, "from_dir", None) or cls
            mask_set = loader(mask_set)
        n = len(mask_set)
        if n == 0:
            raise DatasetError("the mask set is empty", path=str(getattr(mask_set, "root", "")),
                               reason="empty mask set")
        shape = np.asarray(mask_set[0]).shape
        if shape != (self.img_size, self.img_size):
            raise DatasetError(
                f"mask set {getattr(mask_set, 'root', '')} has {shape[1] if len(shape) > 1 else '?'}x{shape[0]} masks "
                f"but the dataset crops {self.img_size}x{self.img_size}. Fix: use a mask set made at size "
                f"{self.img_size} (`bench masks make --size {self.img_size}`) or set img_size to match.",
                path=str(getattr(mask_set, "root", "")), reason="mask size mismatch")
        return mask_set

    def _build_mask_generator(self, masks):
        if masks is None:
            return None
        if callable(masks) and not isinstance(masks, dict):
            return masks
        from bench.registry import MASK_GENERATORS

        cfg = dict(masks)
        cfg["size"] = self.img_size
        return MASK_GENERATORS.build(cfg)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch mixed into the random stream (and restart visit counts)."""
        self._epoch = int(epoch)
        self._visits.clear()

    # ---------------------------------------------------------------- reading
    def read_image(self, info: dict) -> np.ndarray:
        """RGB uint8 H×W×3 of an item (raises :class:`DatasetError` naming the file).

        16-bit samples become their high byte (v >> 8): Pillow already does so for 16-bit RGB(A), and
        ``convert('RGB')`` would clip 16-bit grey to white. 32-bit integer (not from a PNG) and float
        images are refused: their range is not defined.
        """
        path = info["img_path"]
        if not os.path.isfile(path):
            raise DatasetError(f"image {path} does not exist. Fix: restore it (re-extract the dataset) "
                               f"or remove it from the list file, {_SKIP_HINT}.", path=path, reason="missing image")
        try:
            with Image.open(path) as im:
                arr = _rgb8(im, path)
        except DatasetError:
            raise
        except Exception as exc:  # PIL raises many types (OSError, SyntaxError, ValueError, ...)
            raise DatasetError(
                f"cannot read image {path}: {type(exc).__name__}: {exc}. Fix: re-download / re-extract "
                f"this file or delete it, {_SKIP_HINT}.", path=path, reason="unreadable image") from exc
        return arr

    def read_label(self, info: dict) -> np.ndarray:
        """The raw label array of an item as stored (H×W, or H×W×C for colour maps)."""
        path = info["seg_path"]
        if not os.path.isfile(path):
            raise DatasetError(f"label {path} does not exist. Fix: restore it, {_SKIP_HINT}.",
                               path=path, reason="missing label")
        try:
            with Image.open(path) as im:
                im.load()
                arr = np.array(im)  # mode P gives the palette indices, L the grey values
        except Exception as exc:
            raise DatasetError(
                f"cannot read label {path}: {type(exc).__name__}: {exc}. Fix: re-download / re-extract "
                f"this file or delete it together with its image, {_SKIP_HINT}.",
                path=path, reason="unreadable label") from exc
        if arr.dtype == bool:
            arr = arr.astype(np.uint8)
        return arr

    def convert_label(self, label: np.ndarray, info: dict) -> np.ndarray:
        """Hook: map stored label values to class ids (255 = void). Default: identity (2-D only)."""
        if label.ndim != 2:
            raise DatasetError(
                f"label {info['seg_path']} has {label.shape[2]} channels; expected a single-channel "
                f"class-index PNG (0..{self.num_label_ids - 1}, 255 = void). Fix: convert colour maps to "
                f"class ids before use.", path=info["seg_path"], reason="label is not a class map")
        return label

    def _load_pair(self, info: dict) -> tuple[np.ndarray, np.ndarray | None]:
        """Read and check one item: (RGB uint8 H×W×3, class map uint8 H×W or None)."""
        img = self.read_image(info)
        h, w = img.shape[:2]
        if min(h, w) < self.min_side:
            path = info["img_path"]
            raise DatasetError(
                f"image {path} is {w}x{h}: its short side is below min_side={self.min_side} px (the crop is "
                f"{self.img_size}x{self.img_size}; enlarging it that much scores interpolation, not the image). "
                f"Fix: remove it or lower `min_side` of the dataset (0 accepts any size), {_SKIP_HINT}.",
                path=path, reason="image too small")
        if not self.with_seg or info.get("seg_path") is None:
            return img, None
        path = info["seg_path"]
        lab = np.asarray(self.convert_label(self.read_label(info), info))
        n = self.num_label_ids
        bad = ~(((lab >= 0) & (lab < n)) | (lab == VOID))
        if bad.any():
            vals = np.unique(lab[bad])
            shown = ", ".join(str(int(v)) for v in vals[:10]) + (" ..." if len(vals) > 10 else "")
            raise DatasetError(
                f"label {path} has values {shown} outside the class range 0..{n - 1} (255 = void) of "
                f"dataset {self.NAME!r}. Fix: check that the file is a class-index map of this dataset "
                f"(not a colour map or another label encoding), regenerate it, {_SKIP_HINT}.",
                path=path, reason=f"label values out of range: {shown}")
        if lab.shape[:2] != img.shape[:2]:
            raise DatasetError(
                f"image {info['img_path']} is {img.shape[1]}x{img.shape[0]} but its label {path} is "
                f"{lab.shape[1]}x{lab.shape[0]}. Fix: the label must have the image's size; check that "
                f"the pair belongs together (file naming) or regenerate the label, {_SKIP_HINT}.",
                path=path, reason="image/label size mismatch")
        lab = lab.astype(np.uint8, copy=False)
        if self.void_class is not None:
            lab = np.where(lab == VOID, np.uint8(self.void_class), lab)
        return img, lab

    # ---------------------------------------------------------------- geometry
    def _geometry(self, img: np.ndarray, seg: np.ndarray | None, rng: np.random.Generator):
        size = self.img_size
        h, w = img.shape[:2]
        if self.crop == "resize":
            new_h = new_w = size
        else:
            scale = self.resize_short / min(h, w)
            new_h, new_w = max(size, int(round(h * scale))), max(size, int(round(w * scale)))
        if (new_h, new_w) != (h, w):
            interp = cv2.INTER_AREA if new_h * new_w < h * w else cv2.INTER_CUBIC
            img = cv2.resize(img, (new_w, new_h), interpolation=interp)
            if seg is not None:
                seg = cv2.resize(seg, (new_w, new_h), interpolation=cv2.INTER_NEAREST)
        if self.crop != "resize":
            if self.crop == "random":
                top = int(rng.integers(0, new_h - size + 1))
                left = int(rng.integers(0, new_w - size + 1))
            else:
                top, left = (new_h - size) // 2, (new_w - size) // 2
            img = img[top:top + size, left:left + size]
            if seg is not None:
                seg = seg[top:top + size, left:left + size]
        if self.flip and rng.random() < 0.5:
            img = img[:, ::-1]
            if seg is not None:
                seg = seg[:, ::-1]
        return img, seg

    def _mask(self, index: int, epoch: int, visit: int) -> tuple[np.ndarray, str | None]:
        size = self.img_size
        if self.mask_set is not None:
            k = index % len(self.mask_set)
            mask, mask_id = np.asarray(self.mask_set[k]), self._mask_names[k]
        elif self.mask_generator is not None:
            mask = np.asarray(self.mask_generator(np.random.default_rng([self.seed, index, epoch, visit])))
            mask_id = None
        else:
            return np.zeros((size, size), np.float32), None
        if mask.shape != (size, size):
            raise DatasetError(f"mask for item {index} is {mask.shape}, expected ({size}, {size}): the mask "
                               f"generator / set must be made at img_size={size}", reason="mask size mismatch")
        return (mask > 0).astype(np.float32), mask_id

    # ---------------------------------------------------------------- items
    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        n = len(self)
        idx = int(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} out of range for dataset {self.NAME!r} of {n} items")
        idx %= n
        first_error = None
        for k in range(n):
            j = (idx + k) % n
            if j in self._bad_idx:
                continue
            info = self.get_data_info(j)
            try:
                img, seg = self._load_pair(info)
            except DatasetError as err:
                if not self.skip_bad:
                    raise
                first_error = first_error or err
                self._bad_idx.add(j)
                self.bad_files.append((self._rel(err.path or info["img_path"]), err.reason))
                continue
            return self._make_sample(j, info, img, seg)
        raise DatasetError(f"every item of dataset {self.NAME!r} at {self.data_root} is bad "
                           f"(first: {first_error})", path=str(self.data_root), reason="all items bad")

    def _make_sample(self, index: int, info: dict, img: np.ndarray, seg: np.ndarray | None) -> dict:
        if self.split == "train":
            epoch, visit = self._epoch, self._visits[index]
            self._visits[index] = visit + 1
        else:
            epoch, visit = 0, 0
        img, seg = self._geometry(img, seg, np.random.default_rng([self.seed, index, epoch, visit, 1]))
        mask, mask_id = self._mask(index, epoch, visit)
        img_t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32))
        sample = dict(
            img=img_t.div_(127.5).sub_(1.0),
            mask=torch.from_numpy(mask)[None],
            meta=dict(file=info["file"], dataset=self.NAME, index=index, mask_id=mask_id,
                      hole_ratio=float(mask.mean())))
        if seg is not None:
            sample["seg"] = torch.from_numpy(np.ascontiguousarray(seg, dtype=np.int64))
        return sample

    def __repr__(self) -> str:
        n = len(self) if self._fully_initialized else "?"
        return (f"{type(self).__name__}(name={self.NAME!r}, split={self.split!r}, n={n}, "
                f"root={self.data_root!r}, img_size={self.img_size}, classes={self.num_classes})")
