"""The paper's published numbers, as data (typed in from the CVPR 2021 paper; never scraped at run time).

Source: Liao et al., "Image Inpainting Guided by Coherence Priors of Semantics and Textures", CVPR 2021,
Tables 1-3 and Sec. 4.4 (user study). Values are exactly as printed (SSIM and mIoU as fractions).

Paper protocol (Sec. 4.1/4.2): Outdoor Scenes (OST) 300 test images, Cityscapes 500 validation images,
256x256 inputs, central hole 128x128 (OST) / 96x96 (Cityscapes) or irregular masks after GatedConv [43].
"""
from __future__ import annotations

# Registry name -> the name the paper prints. ``swap`` is "SWAP (ours)" only for its ``full`` variant.
PAPER_METHOD_NAMES = {
    "gatedconv": "GatedConv",
    "pennet": "PEN-Net",
    "edgeconnect": "EdgeConnect",
    "sgenet": "SGE-Net",
    "spgnet": "SPG-Net",
    "swap": "SWAP (ours)",
}
# Order of rows in the paper's tables (ours last); (method, variant).
PAPER_METHOD_ORDER = (("gatedconv", "default"), ("pennet", "default"), ("edgeconnect", "default"),
                      ("spgnet", "default"), ("sgenet", "default"), ("swap", "full"))
OURS = ("swap", "full")

SWAP_VARIANTS = ("base", "att", "swap", "full")
SWAP_VARIANT_NAMES = {"base": "Ours (Base)", "att": "Ours (Att)", "swap": "Ours (SWAP)", "full": "Ours (Full)"}
# Table 3's two switches per variant: (SWAP module, coherence loss).
SWAP_VARIANT_SWITCHES = {"base": (False, False), "att": (False, False), "swap": (True, False),
                         "full": (True, True)}

DATASET_NAMES = {"outdoor": "Outdoor Scenes", "cityscapes": "Cityscapes", "places2": "Places2",
                 "toy": "toy", "folder": "folder"}
DATASET_ORDER = ("outdoor", "cityscapes", "places2", "toy", "folder")
MASK_SET_NAMES = {"center": "centre holes", "irregular": "irregular holes"}
MASK_SET_ORDER = ("center", "irregular")

# What a run must match to be compared with the paper without a mark.
PAPER_PROTOCOL = {"preset": "paper", "protocol": "paper"}
PAPER_NUM_IMAGES = {"outdoor": 300, "cityscapes": 500}

# Table 1: (dataset, mask set) -> method -> metric -> value.
TABLE1 = {
    ("outdoor", "center"): {
        "gatedconv": {"psnr": 19.06, "ssim": 0.73, "fid": 42.34},
        "pennet": {"psnr": 18.58, "ssim": 0.75, "fid": 44.12},
        "edgeconnect": {"psnr": 19.32, "ssim": 0.76, "fid": 41.25},
        "sgenet": {"psnr": 20.53, "ssim": 0.81, "fid": 40.67},
        "swap": {"psnr": 21.18, "ssim": 0.81, "fid": 38.15},
    },
    ("outdoor", "irregular"): {
        "gatedconv": {"psnr": 18.47, "ssim": 0.74, "fid": 44.15},
        "pennet": {"psnr": 17.56, "ssim": 0.69, "fid": 48.95},
        "edgeconnect": {"psnr": 19.12, "ssim": 0.74, "fid": 42.27},
        "sgenet": {"psnr": 19.46, "ssim": 0.76, "fid": 39.14},
        "swap": {"psnr": 20.31, "ssim": 0.80, "fid": 36.74},
    },
    ("cityscapes", "center"): {
        "gatedconv": {"psnr": 21.13, "ssim": 0.74, "fid": 20.03},
        "pennet": {"psnr": 20.48, "ssim": 0.72, "fid": 22.34},
        "edgeconnect": {"psnr": 21.71, "ssim": 0.76, "fid": 19.87},
        "sgenet": {"psnr": 23.41, "ssim": 0.85, "fid": 18.67},
        "swap": {"psnr": 23.89, "ssim": 0.84, "fid": 18.14},
    },
    ("cityscapes", "irregular"): {
        "gatedconv": {"psnr": 17.13, "ssim": 0.67, "fid": 43.14},
        "pennet": {"psnr": 16.37, "ssim": 0.66, "fid": 47.87},
        "edgeconnect": {"psnr": 17.63, "ssim": 0.72, "fid": 39.04},
        "sgenet": {"psnr": 17.78, "ssim": 0.74, "fid": 41.45},
        "swap": {"psnr": 17.86, "ssim": 0.76, "fid": 38.18},
    },
}

# Table 2: mIoU as printed (fractions, although the header says "mIoU%"). Mask set not stated.
TABLE2 = {
    "outdoor": {"spgnet": 0.51, "sgenet": 0.68, "swap": 0.71},
    "cityscapes": {"spgnet": 0.39, "sgenet": 0.53, "swap": 0.57},
}

# Table 3 (Outdoor Scenes only). The mask set is not stated; Full equals Table 1's OST centre row,
# so it is compared with centre holes.
TABLE3 = {
    "outdoor": {
        "base": {"psnr": 17.43, "ssim": 0.65, "fid": 57.31},
        "att": {"psnr": 19.77, "ssim": 0.76, "fid": 43.54},
        "swap": {"psnr": 20.58, "ssim": 0.79, "fid": 39.46},
        "full": {"psnr": 21.18, "ssim": 0.81, "fid": 38.15},
    },
}
TABLE3_MASK_SET = "center"

# Sec. 4.4: 100 images x 20 subjects = 2,000 rankings; share of first places (%).
USER_STUDY = {
    "rankings": 2000,
    "images": 100,
    "subjects": 20,
    "first_place_percent": {"swap": 51.8, "sgenet": 21.3, "edgeconnect": 13.5, "gatedconv": 7.8, "pennet": 5.6},
}


def table1_value(dataset: str, mask_set: str, method: str, variant: str, metric: str):
    """The paper's Table 1 value for one cell, or None (SWAP only for its ``full`` variant)."""
    if method == "swap" and variant != "full":
        return None
    return TABLE1.get((dataset, mask_set), {}).get(method, {}).get(metric)


def table2_value(dataset: str, method: str, variant: str):
    if method == "swap" and variant != "full":
        return None
    return TABLE2.get(dataset, {}).get(method)


def table3_value(dataset: str, mask_set: str, variant: str, metric: str):
    if mask_set != TABLE3_MASK_SET:
        return None
    return TABLE3.get(dataset, {}).get(variant, {}).get(metric)
