"""Outdoor Scenes (OST, SFTGAN): 8 classes, 255 void. Train = OutdoorSeg (9,900), test = OST300 (300)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from bench.datasets.base import IMG_EXTENSIONS, InpaintDataset, count_files, list_images
from bench.datasets.errors import DatasetError
from bench.registry import DATASETS

OST_CLASSES = ("background", "sky", "water", "grass", "mountain", "building", "plant", "animal")
# SFTGAN colour LUT (RGB); void is (255, 255, 255).
OST_PALETTE = [[153, 153, 153], [0, 255, 255], [109, 158, 235], [183, 225, 205], [153, 0, 255],
               [17, 85, 204], [106, 168, 79], [224, 102, 102]]
OST_VOID_COLOR = (255, 255, 255)

# (image folder, label folder, image suffixes) per split, relative to data_root
OST_LAYOUT = dict(
    train=("OutdoorSeg/images", "OutdoorSeg/annotations", (".jpg", ".jpeg", ".png")),
    test=("OutdoorSceneTest300", "OutdoorSceneTest300_anno", (".png", ".jpg", ".jpeg")),
)
# label file names tried for an image stem, in order (the first is the documented convention)
LABEL_NAME_PATTERNS = ("{stem}.png", "{stem}_anno.png", "{stem}_seg.png", "{stem}_label.png")


@DATASETS.register_module(name=["outdoor", "OutdoorScenesDataset"])
class OutdoorScenesDataset(InpaintDataset):
    """Outdoor Scenes (OST) with the 8-class SFTGAN annotation (0 background, 1 sky, 2 water,
    3 grass, 4 mountain, 5 building, 6 plant, 7 animal; 255 (also written "8") void, ignored).

    Naming assumption (the SFTGAN README does not spell out file names): a label is the PNG in the
    parallel annotation folder with the image's stem (``ADE_train_00000001.jpg`` →
    ``ADE_train_00000001.png``); ``<stem>_anno.png``, ``<stem>_seg.png`` and ``<stem>_label.png``
    are accepted too. Labels may be grey / palette PNGs holding class ids (a pixel value of 8 is
    read as void), or RGB colour maps in the SFTGAN colour table (converted; unknown colours are an
    error). Paper recipe (config): short side 256 + random 256 crop for training; short side 256 +
    centre crop for testing.

    Args:
        **kwargs: see :class:`InpaintDataset`.
    """

    NAME = "outdoor"
    DATA_SUBDIR = "outdoor"
    HAS_LABELS = True
    METAINFO = dict(classes=OST_CLASSES, palette=OST_PALETTE)
    EXPECTED_TREE = """
outdoor/                              (--data-root DIR  ->  DIR/outdoor)
├── OutdoorSeg/                       (OutdoorSeg_img.zip + OutdoorSeg_anno.zip: the train split)
│   ├── images/*.jpg                  (9,900)
│   └── annotations/*.png             (same stem as the image; values 0-7, 255 = void)
├── OutdoorSceneTest300/*.png         (OST300_img.zip: the test split, 300)
└── OutdoorSceneTest300_anno/*.png    (OST300_anno.zip; same stem as the image)
(OST dataset from the xinntao/SFTGAN README links)
"""

    def __init__(self, data_root="data/outdoor", **kwargs):
        super().__init__(data_root=data_root, **kwargs)

    @classmethod
    def required_paths(cls, split: str) -> list[str]:
        img_dir, seg_dir, _ = OST_LAYOUT[split]
        return [img_dir, seg_dir]

    @classmethod
    def count(cls, root, split: str) -> int | None:
        img_dir, _seg, suffixes = OST_LAYOUT[split]
        return count_files(Path(root) / img_dir, suffixes)

    def load_data_list(self) -> list[dict]:
        root = Path(self.data_root)
        img_dir, seg_dir, suffixes = OST_LAYOUT[self.split]
        items, missing = [], []
        for img in list_images(root / img_dir, suffixes=suffixes):
            for pattern in LABEL_NAME_PATTERNS:
                lab = root / seg_dir / pattern.format(stem=img.stem)
                if lab.is_file():
                    items.append(dict(img_path=str(img), seg_path=str(lab)))
                    break
            else:
                missing.append((str(img), str(root / seg_dir / f"{img.stem}.png")))
        self._report_missing_labels(missing)
        return items

    def convert_label(self, label: np.ndarray, info: dict) -> np.ndarray:
        if label.ndim == 3:
            return self._colour_to_ids(label[..., :3], info["seg_path"])
        label = label.copy() if label.dtype == np.uint8 else label.astype(np.int64)
        label[label == len(OST_CLASSES)] = 255  # "255(8), void"
        return label

    @staticmethod
    def _colour_to_ids(rgb: np.ndarray, path: str) -> np.ndarray:
        code = (rgb[..., 0].astype(np.int32) << 16) | (rgb[..., 1].astype(np.int32) << 8) | rgb[..., 2]
        out = np.full(code.shape, -1, np.int16)
        for cls_id, (r, g, b) in enumerate(OST_PALETTE):
            out[code == ((r << 16) | (g << 8) | b)] = cls_id
        r, g, b = OST_VOID_COLOR
        out[code == ((r << 16) | (g << 8) | b)] = 255
        if (out < 0).any():
            colours = np.unique(rgb[out < 0].reshape(-1, 3), axis=0)[:5].tolist()
            raise DatasetError(
                f"label {path} is a colour map with colours {colours} that are not in the SFTGAN colour "
                f"table. Fix: use the class-index annotation PNGs (values 0-7, 255 = void).",
                path=path, reason=f"unknown label colours {colours}")
        return out.astype(np.uint8)


__all__ = ["OutdoorScenesDataset", "OST_CLASSES", "OST_PALETTE", "IMG_EXTENSIONS"]
