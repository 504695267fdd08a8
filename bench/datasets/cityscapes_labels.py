"""Cityscapes label table (facts of cityscapesScripts ``helpers/labels.py``, official release).

``LABELS`` lists ``(name, id, train_id)``: ids 0–33 plus the license plate (id −1). trainIds 0–18 are
the 19 evaluation classes; every other label has train_id 255 (ignore), the license plate −1, which
this harness also treats as 255. ``ID_TO_TRAINID`` is a 256-entry lookup table for ``*_labelIds.png``
files: entries 0–33 hold the trainId, 255 stays 255 (void), every other value is −1 (= not a
Cityscapes id: such a label file is rejected).
"""
from __future__ import annotations

import numpy as np

#          name                    id  trainId
LABELS = (
    ("unlabeled",               0, 255),
    ("ego vehicle",             1, 255),
    ("rectification border",    2, 255),
    ("out of roi",              3, 255),
    ("static",                  4, 255),
    ("dynamic",                 5, 255),
    ("ground",                  6, 255),
    ("road",                    7, 0),
    ("sidewalk",                8, 1),
    ("parking",                 9, 255),
    ("rail track",             10, 255),
    ("building",               11, 2),
    ("wall",                   12, 3),
    ("fence",                  13, 4),
    ("guard rail",             14, 255),
    ("bridge",                 15, 255),
    ("tunnel",                 16, 255),
    ("pole",                   17, 5),
    ("polegroup",              18, 255),
    ("traffic light",          19, 6),
    ("traffic sign",           20, 7),
    ("vegetation",             21, 8),
    ("terrain",                22, 9),
    ("sky",                    23, 10),
    ("person",                 24, 11),
    ("rider",                  25, 12),
    ("car",                    26, 13),
    ("truck",                  27, 14),
    ("bus",                    28, 15),
    ("caravan",                29, 255),
    ("trailer",                30, 255),
    ("train",                  31, 16),
    ("motorcycle",             32, 17),
    ("bicycle",                33, 18),
    ("license plate",          -1, -1),
)

TRAIN_CLASSES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light",
                 "traffic sign", "vegetation", "terrain", "sky", "person", "rider", "car", "truck",
                 "bus", "train", "motorcycle", "bicycle")

# RGB colours of the 19 train classes (as in the official table / mmsegmentation).
TRAIN_PALETTE = [[128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153],
                 [153, 153, 153], [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152],
                 [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142], [0, 0, 70], [0, 60, 100],
                 [0, 80, 100], [0, 0, 230], [119, 11, 32]]
VOID_COLOR = [0, 0, 0]


def _id_to_trainid() -> np.ndarray:
    lut = np.full(256, -1, np.int16)
    lut[255] = 255
    for _name, label_id, train_id in LABELS:
        if label_id >= 0:
            lut[label_id] = 255 if train_id < 0 else train_id
    return lut


ID_TO_TRAINID = _id_to_trainid()
assert tuple(n for n, _i, t in LABELS if 0 <= t < 255) == TRAIN_CLASSES
