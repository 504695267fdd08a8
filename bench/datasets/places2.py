"""Places2 / Places365-Standard (high resolution), images only (no labels)."""
from __future__ import annotations

from pathlib import Path

from bench.datasets.base import InpaintDataset, count_files, list_images
from bench.datasets.errors import DatasetError, DatasetNotFoundError, not_found_message
from bench.registry import DATASETS

# where the train list file is looked for, relative to data_root, in order
TRAIN_LIST_CANDIDATES = (
    "places365_train_standard.txt",
    "filelist_places365-standard/places365_train_standard.txt",
    "meta/places365_train_standard.txt",
)


@DATASETS.register_module(name=["places2", "Places2Dataset"])
class Places2Dataset(InpaintDataset):
    """Places365-Standard high-resolution images (no segmentation labels).

    ``split='test'``: every ``*.jpg`` in ``val_large/`` (36,500, ``Places365_val_00000001.jpg`` ...),
    sorted; use ``max_samples`` for a subset (the first N in sorted order).
    ``split='train'``: the images named by the list file (``places365_train_standard.txt``, lines
    ``/a/abbey/00000000.jpg 0``) below ``data_large/``. Without a list file, ``data_large/`` is
    scanned recursively (slow for 1.8 M files; a warning says so). Listed files are not stat-ed at
    start (1.8 M); a missing one is reported when it is read (``skip_bad`` applies).

    Args:
        list_file (str | None): train list file (relative to ``data_root`` or absolute). Default:
            the first of ``TRAIN_LIST_CANDIDATES`` that exists.
        train_dir (str): default ``'data_large'``. test_dir (str): default ``'val_large'``.
        **kwargs: see :class:`InpaintDataset`.
    """

    NAME = "places2"
    DATA_SUBDIR = "places2"
    HAS_LABELS = False
    METAINFO = dict(classes=(), palette=[])
    EXPECTED_TREE = """
places2/                                   (--data-root DIR  ->  DIR/places2)
├── data_large/<letter>/<category>/*.jpg    (train_large_places365standard.tar, 1.8 M)
├── places365_train_standard.txt           (filelist_places365-standard.tar; or meta/...)
└── val_large/Places365_val_00000001.jpg ... 00036500.jpg   (val_large.tar: the test split)
"""

    def __init__(self, data_root="data/places2", *, list_file: str | None = None,
                 train_dir: str = "data_large", test_dir: str = "val_large", **kwargs):
        self.list_file = list_file
        self.train_dir = train_dir
        self.test_dir = test_dir
        super().__init__(data_root=data_root, **kwargs)

    @classmethod
    def required_paths(cls, split: str) -> list[str]:
        return ["data_large"] if split == "train" else ["val_large"]

    def split_required_paths(self) -> list[str]:
        return [self.train_dir] if self.split == "train" else [self.test_dir]

    @classmethod
    def _find_list(cls, root: Path, list_file: str | None = None) -> Path | None:
        if list_file:
            return root / list_file
        for cand in TRAIN_LIST_CANDIDATES:
            if (root / cand).is_file():
                return root / cand
        return None

    @classmethod
    def count(cls, root, split: str) -> int | None:
        root = Path(root)
        if split == "test":
            return count_files(root / "val_large", (".jpg", ".jpeg", ".png"))
        if not (root / "data_large").is_dir():
            return None
        lst = cls._find_list(root)
        if lst is None:
            return None  # counting 1.8 M files by walking is not cheap
        with open(lst, "rb") as fh:
            return sum(1 for line in fh if line.strip())

    def load_data_list(self) -> list[dict]:
        root = Path(self.data_root)
        if self.split == "test":
            return [dict(img_path=str(p)) for p in list_images(root / self.test_dir)]
        base = root / self.train_dir
        lst = self._find_list(root, self.list_file)
        if lst is None:
            from mmengine.logging import print_log

            print_log(f"places2: no train list file ({', '.join(TRAIN_LIST_CANDIDATES)}) under {root}; "
                      f"scanning {base} recursively (slow)", logger="current", level=30)
            return [dict(img_path=str(p)) for p in list_images(base, recursive=True)]
        if not lst.is_file():
            raise DatasetNotFoundError(
                not_found_message(self.NAME, self.DATA_SUBDIR, str(root), [str(lst)], self.expected_tree()),
                path=str(lst), reason="missing list file")
        items = []
        with open(lst, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                parts = line.split()
                if not parts:
                    continue
                rel = parts[0].lstrip("/")
                if ".." in Path(rel).parts:
                    raise DatasetError(f"{lst}:{lineno}: path {parts[0]!r} leaves {base}. Fix: use the "
                                       f"official list file.", path=str(lst), reason="bad list line")
                items.append(dict(img_path=str(base / rel)))
        return items
