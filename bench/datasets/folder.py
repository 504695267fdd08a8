"""Any folder of images, optionally with a parallel folder of label PNGs (same relative stem)."""
from __future__ import annotations

from pathlib import Path

from bench.datasets.base import IMG_EXTENSIONS, InpaintDataset, count_files, list_images
from bench.registry import DATASETS


def _palette(n: int) -> list[list[int]]:
    """A deterministic, well-spread colour per class (golden-ratio hue steps)."""
    import colorsys

    return [[int(round(c * 255)) for c in colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.65, 0.95)]
            for i in range(n)]


@DATASETS.register_module(name=["folder", "ImageFolderDataset"])
class ImageFolderDataset(InpaintDataset):
    """Images (``*.jpg|jpeg|png|bmp|webp|tif``) below ``<data_root>/<img_dir>`` (recursive, sorted).

    With ``seg_dir``, every image needs ``<data_root>/<seg_dir>/<same relative path, .png>``: a
    single-channel class-index map with values ``0..num_classes-1`` and 255 = void.

    Args:
        img_dir (str | dict): image folder relative to ``data_root`` (``''`` = the root itself), or
            a dict per split, e.g. ``dict(train='train/images', test='test/images')``.
        seg_dir (str | dict | None): label folder (same forms), or None for an unlabelled folder.
        num_classes (int | None): number of classes when ``seg_dir`` is given (required then).
        classes (Sequence[str] | None): class names (default ``class0``, ``class1``, ...).
        void_class (int | None): map 255 to this class id (must then be ``num_classes - 1``).
        recursive (bool): look into sub-folders. Default True.
        **kwargs: see :class:`InpaintDataset`.
    """

    NAME = "folder"
    DATA_SUBDIR = "folder"
    HAS_LABELS = False
    METAINFO = dict(classes=(), palette=[])
    EXPECTED_TREE = """
folder/                          (--data-root DIR  ->  DIR/folder, or set data_root directly)
├── images/**/*.jpg|png          (img_dir; any tree; or images/train and images/test via a dict)
└── labels/**/*.png              (optional seg_dir: same relative path and stem as the image;
                                  class ids 0..num_classes-1, 255 = void)
"""

    def __init__(self, data_root="data/folder", *, img_dir="images", seg_dir=None,
                 num_classes: int | None = None, classes=None, void_class: int | None = None,
                 recursive: bool = True, metainfo=None, split: str = "train", **kwargs):
        self.img_dir = img_dir[split] if isinstance(img_dir, dict) else img_dir
        self.seg_dir = seg_dir[split] if isinstance(seg_dir, dict) else seg_dir
        self.recursive = bool(recursive)
        self.has_labels = self.seg_dir is not None
        if self.has_labels:
            if classes is None and not num_classes:
                raise ValueError("folder dataset: `num_classes` (or `classes`) is required with `seg_dir`")
            classes = tuple(classes) if classes is not None else tuple(f"class{i}" for i in range(num_classes))
            if num_classes and len(classes) != num_classes:
                raise ValueError(f"folder dataset: {len(classes)} class names but num_classes={num_classes}")
            if len(classes) > 255:
                raise ValueError("folder dataset: at most 255 classes (labels are 8-bit, 255 = void)")
            if void_class is not None and void_class != len(classes) - 1:
                raise ValueError("folder dataset: void_class must be the last class id")
            self.void_class = void_class
            metainfo = dict(dict(classes=classes, palette=_palette(len(classes))), **(metainfo or {}))
        super().__init__(data_root=data_root, metainfo=metainfo, split=split, **kwargs)

    @classmethod
    def required_paths(cls, split: str) -> list[str]:
        return ["images"]

    def split_required_paths(self) -> list[str]:
        return [p for p in (self.img_dir, self.seg_dir) if p]

    @classmethod
    def count(cls, root, split: str) -> int | None:
        return count_files(Path(root) / "images", IMG_EXTENSIONS)

    def load_data_list(self) -> list[dict]:
        root = Path(self.data_root)
        img_root = root / self.img_dir if self.img_dir else root
        seg_root = None if self.seg_dir is None else root / self.seg_dir
        items, missing = [], []
        for img in list_images(img_root, recursive=self.recursive):
            if seg_root is not None and seg_root in img.parents:
                continue  # labels folder inside the image folder
            if seg_root is None:
                items.append(dict(img_path=str(img)))
                continue
            lab = (seg_root / img.relative_to(img_root)).with_suffix(".png")
            if lab.is_file():
                items.append(dict(img_path=str(img), seg_path=str(lab)))
            else:
                missing.append((str(img), str(lab)))
        self._report_missing_labels(missing)
        return items
