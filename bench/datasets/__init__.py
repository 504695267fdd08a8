"""Datasets returning the sample dict of ``docs/ARCHITECTURE.md`` (registered in ``bench.registry.DATASETS``).

* ``toy`` (:class:`ToyScenesDataset`): procedural outdoor scenes, 8 OST classes, no download.
* ``outdoor`` (:class:`OutdoorScenesDataset`): Outdoor Scenes (OutdoorSeg train / OST300 test), 8 classes.
* ``cityscapes`` (:class:`CityscapesDataset`): gtFine, 19 train ids + void as class 19.
* ``places2`` (:class:`Places2Dataset`): Places365-Standard, images only.
* ``folder`` (:class:`ImageFolderDataset`): any image folder, optional label folder.

``inpaint_collate`` (registered in ``bench.registry.FUNCTIONS``) batches samples;
:func:`describe_datasets` lists what is found under a data root; errors are :class:`DatasetError`.
"""
from bench.datasets.base import InpaintDataset
from bench.datasets.catalog import DATASET_CLASSES, describe_datasets
from bench.datasets.cityscapes import CityscapesDataset
from bench.datasets.collate import inpaint_collate
from bench.datasets.errors import DatasetError, DatasetNotFoundError
from bench.datasets.folder import ImageFolderDataset
from bench.datasets.outdoor import OutdoorScenesDataset
from bench.datasets.places2 import Places2Dataset
from bench.datasets.toy import ToyScenesDataset, render_scene

__all__ = [
    "InpaintDataset", "ToyScenesDataset", "OutdoorScenesDataset", "CityscapesDataset", "Places2Dataset",
    "ImageFolderDataset", "inpaint_collate", "describe_datasets", "DATASET_CLASSES", "DatasetError",
    "DatasetNotFoundError", "render_scene",
]
