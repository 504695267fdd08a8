"""``describe_datasets``: what ``bench datasets`` prints (cheap: folder checks and file counts only)."""
from __future__ import annotations

import os
from pathlib import Path

from bench.datasets.cityscapes import CityscapesDataset
from bench.datasets.folder import ImageFolderDataset
from bench.datasets.outdoor import OutdoorScenesDataset
from bench.datasets.places2 import Places2Dataset
from bench.datasets.toy import ToyScenesDataset

DATASET_CLASSES = (ToyScenesDataset, OutdoorScenesDataset, CityscapesDataset, Places2Dataset, ImageFolderDataset)


def describe_datasets(data_root: str | os.PathLike = "data") -> list[dict]:
    """One dict per dataset: ``name``, ``found`` (bool), ``path`` (``<data_root>/<subdir>``),
    ``expected_tree`` (str), ``n_train`` and ``n_test`` (int, or None where absent / not cheap).

    No image is decoded; Places2 train is counted from its list file (None without one).
    """
    root = Path(data_root)
    return [cls.describe(root / cls.DATA_SUBDIR) for cls in DATASET_CLASSES]
