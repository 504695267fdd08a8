"""Cityscapes (gtFine), 19 train classes + void as class 19 = the papers' "20 categories"."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from bench.datasets.base import InpaintDataset, count_files
from bench.datasets.cityscapes_labels import ID_TO_TRAINID, TRAIN_CLASSES, TRAIN_PALETTE, VOID_COLOR
from bench.datasets.errors import DatasetError
from bench.registry import DATASETS

IMG_SUFFIX = "_leftImg8bit.png"
TRAINID_SUFFIX = "_gtFine_labelTrainIds.png"
LABELID_SUFFIX = "_gtFine_labelIds.png"


@DATASETS.register_module(name=["cityscapes", "CityscapesDataset"])
class CityscapesDataset(InpaintDataset):
    """Cityscapes fine annotations.

    Images ``leftImg8bit/<dir>/<city>/<city>_<seq>_<frame>_leftImg8bit.png``; labels
    ``gtFine/<dir>/<city>/<same stem>_gtFine_labelTrainIds.png`` when present (made by
    cityscapesScripts ``createTrainIdLabelImgs.py`` or mmseg's converter), otherwise
    ``..._gtFine_labelIds.png`` converted with the official id → trainId table
    (``cityscapes_labels.py``; ids without a train id and the license plate → 255).
    ``split='train'`` reads ``train`` (2,975), ``split='test'`` reads ``val`` (500; the official
    test labels are withheld). The recipe (config) resizes the short side to 512 and crops 256 at
    random for training, and resizes the short side to 256 + centre crop 256×256 for testing.

    Args:
        void_as_class (bool): True (default): void/255 becomes class 19, 20 classes (every pixel has
            a label, as the semantic-guided inpainting papers need). False: 19 classes, 255 ignored.
        split_dirs (dict): folder read for each split. Default ``dict(train='train', test='val')``.
        extra_dirs (list[dict] | None): training only: extra (e.g. pseudo-labelled) images, each
            ``dict(img_dir=..., seg_dir=...)`` relative to ``data_root`` (or absolute). Images are
            ``*_leftImg8bit.png`` anywhere below ``img_dir``; the label is
            ``<seg_dir>/<same relative folder>/<stem>_gtFine_labelTrainIds.png`` (or ``_labelIds``).
        **kwargs: see :class:`InpaintDataset`.
    """

    NAME = "cityscapes"
    DATA_SUBDIR = "cityscapes"
    HAS_LABELS = True
    METAINFO = dict(classes=TRAIN_CLASSES + ("void",), palette=TRAIN_PALETTE + [VOID_COLOR])
    EXPECTED_TREE = """
cityscapes/                                   (--data-root DIR  ->  DIR/cityscapes)
├── leftImg8bit/
│   ├── train/<city>/<city>_<seq>_<frame>_leftImg8bit.png    (2,975)
│   └── val/<city>/<city>_<seq>_<frame>_leftImg8bit.png      (500, the test split)
└── gtFine/
    ├── train/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png   (or _gtFine_labelTrainIds.png)
    └── val/<city>/<city>_<seq>_<frame>_gtFine_labelIds.png
(leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip from cityscapes-dataset.com, unzipped here)
"""
    SPLIT_DIRS = dict(train="train", test="val")

    def __init__(self, data_root="data/cityscapes", *, void_as_class: bool = True,
                 split_dirs: dict | None = None, extra_dirs: list | None = None, metainfo=None, **kwargs):
        self.void_as_class = bool(void_as_class)
        self.void_class = 19 if self.void_as_class else None
        self.split_dirs = dict(self.SPLIT_DIRS, **(split_dirs or {}))
        self.extra_dirs = list(extra_dirs or [])
        if not self.void_as_class:
            metainfo = dict(dict(classes=TRAIN_CLASSES, palette=TRAIN_PALETTE), **(metainfo or {}))
        super().__init__(data_root=data_root, metainfo=metainfo, **kwargs)

    @classmethod
    def required_paths(cls, split: str) -> list[str]:
        d = cls.SPLIT_DIRS[split]
        return [f"leftImg8bit/{d}", f"gtFine/{d}"]

    def split_required_paths(self) -> list[str]:
        d = self.split_dirs[self.split]
        return [f"leftImg8bit/{d}", f"gtFine/{d}"]

    @classmethod
    def count(cls, root, split: str) -> int | None:
        return count_files(Path(root) / "leftImg8bit" / cls.SPLIT_DIRS[split], IMG_SUFFIX, depth=1)

    def _scan(self, img_dir: Path, seg_dir: Path) -> tuple[list[dict], list[tuple[str, str]]]:
        items, missing = [], []
        for dirpath, _dirs, files in os.walk(img_dir):
            for name in files:
                if not name.endswith(IMG_SUFFIX):
                    continue
                img = Path(dirpath) / name
                stem = name[: -len(IMG_SUFFIX)]
                lab_dir = seg_dir / img.parent.relative_to(img_dir)
                train_ids, label_ids = lab_dir / (stem + TRAINID_SUFFIX), lab_dir / (stem + LABELID_SUFFIX)
                if train_ids.is_file():
                    items.append(dict(img_path=str(img), seg_path=str(train_ids), seg_kind="trainIds"))
                elif label_ids.is_file():
                    items.append(dict(img_path=str(img), seg_path=str(label_ids), seg_kind="labelIds"))
                else:
                    missing.append((str(img), str(label_ids)))
        return items, missing

    def load_data_list(self) -> list[dict]:
        root = Path(self.data_root)
        d = self.split_dirs[self.split]
        items, missing = self._scan(root / "leftImg8bit" / d, root / "gtFine" / d)
        if self.split == "train":
            for extra in self.extra_dirs:
                img_dir, seg_dir = root / extra["img_dir"], root / extra["seg_dir"]
                if not img_dir.is_dir():
                    raise DatasetError(f"extra_dirs: image folder {img_dir} does not exist. Fix: correct "
                                       f"`extra_dirs` in the dataset config.", path=str(img_dir),
                                       reason="missing extra folder")
                more, more_missing = self._scan(img_dir, seg_dir)
                items += more
                missing += more_missing
        self._report_missing_labels(missing)
        return items

    def convert_label(self, label: np.ndarray, info: dict) -> np.ndarray:
        label = super().convert_label(label, info)
        if info.get("seg_kind") != "labelIds":
            return label
        if label.max(initial=0) > 255 or label.min(initial=0) < 0:
            bad = sorted({int(v) for v in np.unique(label) if not 0 <= v <= 255})[:10]
            raise DatasetError(
                f"label {info['seg_path']} has values {bad} that are not Cityscapes label ids (0..33). "
                f"Fix: use the official gtFine *_labelIds.png files or regenerate them.",
                path=info["seg_path"], reason=f"label ids out of range: {bad}")
        train = ID_TO_TRAINID[label.astype(np.intp)]
        if (train < 0).any():
            bad = np.unique(label[train < 0])[:10].tolist()
            raise DatasetError(
                f"label {info['seg_path']} has values {bad} that are not Cityscapes label ids (0..33). "
                f"Fix: use the official gtFine *_labelIds.png files or regenerate them.",
                path=info["seg_path"], reason=f"label ids out of range: {bad}")
        return train.astype(np.uint8)
