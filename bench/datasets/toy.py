"""Toy outdoor scenes: the embedded default dataset (no download), labelled with the 8 OST classes.

:func:`render_scene` draws one procedural scene with vectorised numpy/OpenCV (no per-pixel loops):
a sky (gradient + clouds) above an irregular horizon, often a mountain ridge (ridged noise, snow),
a lower band of grass and/or water meeting at a wavy boundary, sometimes a dirt road (class 0,
background), buildings standing on the horizon (wall colour + window grid), plant blobs (trees /
bushes with ragged outlines), sometimes an animal (body, head, legs; fur texture) and sometimes void
pixels (255): thin wires across the scene or a thin border frame. Every class has its own texture and
regions meet at irregular boundaries, so a hole across a boundary needs the semantics to be filled well.

A scene is a pure function of ``(scene_seed, split, index, size)``: it is drawn with
``np.random.default_rng([scene_seed, SPLIT_CODE[split], index])``, so train and test are disjoint
streams. :class:`ToyScenesDataset` caches the scenes as PNGs (``cache=True``, default) under
``<data_root>/<size>-s<scene_seed>/<split>/{images,labels}/NNNNN.png`` (written atomically with
``bench.io``, plus a ``manifest.json`` so the next start does not stat every file); ``cache=False``
renders each item in memory on access instead (``meta.file`` is then the path the cached file would
have). Scenes are bit-identical for the same numpy / OpenCV builds; another OpenCV build may change
low bits of the interpolated noise, which is why the cache (not re-rendering) defines a run's data.
Bump ``TOY_VERSION`` whenever :func:`render_scene` changes: cached scenes are then re-rendered.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from bench.datasets.base import InpaintDataset
from bench.datasets.errors import DatasetError
from bench.datasets.outdoor import OST_CLASSES, OST_PALETTE
from bench.registry import DATASETS

TOY_VERSION = 1  # bump when render_scene changes: cached scenes are then regenerated
SPLIT_CODE = dict(train=0, test=1)
DEFAULT_COUNTS = dict(train=1000, test=100)
BACKGROUND, SKY, WATER, GRASS, MOUNTAIN, BUILDING, PLANT, ANIMAL = range(8)
VOID = 255


# ---------------------------------------------------------------------------------------------- noise
def _noise2d(rng: np.random.Generator, size: int, cells_y: float, cells_x: float, octaves: int = 1,
             persistence: float = 0.5) -> np.ndarray:
    """Smooth fractal value noise, float32 size×size, roughly in [-1, 1].

    Octave o is a random grid of about ``cells * 2**o`` cells; the octaves are summed on a small
    pyramid (each partial sum upsampled bicubically to the next grid); the sum is resized bicubically
    to about 4 px per cell and bilinearly from there to the full size.
    """
    acc = None
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cy = int(min(size, max(1, round(cells_y * 2 ** o)))) + 1
        cx = int(min(size, max(1, round(cells_x * 2 ** o)))) + 1
        grid = rng.uniform(-amp, amp, (cy, cx)).astype(np.float32)
        acc = grid if acc is None else grid + cv2.resize(acc, (cx, cy), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= persistence
    acc *= np.float32(1.0 / total)
    my, mx = min(size, 4 * acc.shape[0]), min(size, 4 * acc.shape[1])
    if (my, mx) != (size, size):  # bicubic to 4 px per cell, then bilinear (smooth enough, 8x cheaper)
        acc = cv2.resize(acc, (mx, my), interpolation=cv2.INTER_CUBIC)
        return cv2.resize(acc, (size, size), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(acc, (size, size), interpolation=cv2.INTER_CUBIC)


def _noise1d(rng: np.random.Generator, n: int, cells: float, octaves: int = 1, persistence: float = 0.5,
             ridged: bool = False) -> np.ndarray:
    """Smooth 1-D value noise of length n in about [-1, 1] (``ridged``: 1 - |noise|, sharp peaks)."""
    out = np.zeros(n, np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        c = int(min(n, max(1, round(cells * 2 ** o)))) + 1
        grid = rng.uniform(-1.0, 1.0, (1, c)).astype(np.float32)
        v = cv2.resize(grid, (n, 1), interpolation=cv2.INTER_CUBIC)[0]
        out += amp * ((1.0 - np.abs(v)) * 2.0 - 1.0 if ridged else v)
        total += amp
        amp *= persistence
    return out / total


def _mix(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per-pixel blend of colours ``a`` and ``b`` (3-vectors or H×W×3) by weight ``t`` (H×W)."""
    t = t[..., None]
    return a * (1.0 - t) + b * t


def _col(*rgb) -> np.ndarray:
    return np.array(rgb, np.float32)


def _jitter(rng, rgb, amount=18.0) -> np.ndarray:
    return np.clip(_col(*rgb) + rng.uniform(-amount, amount, 3), 0, 255).astype(np.float32)


# ---------------------------------------------------------------------------------------------- scene
def render_scene(rng: np.random.Generator, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """Draw one toy outdoor scene.

    Args:
        rng: the scene's random generator (everything is drawn from it, in a fixed order).
        size: side in pixels (square); 64 to 256 is what the harness uses (16 to 1024 work).

    Returns:
        ``(img, label)``: RGB uint8 size×size×3 and uint8 size×size with the OST class ids
        (0 background, 1 sky, 2 water, 3 grass, 4 mountain, 5 building, 6 plant, 7 animal) and
        255 for void pixels.
    """
    S = int(size)
    if not 16 <= S <= 1024:
        raise ValueError(f"toy scene size must be in 16..1024, got {size}")
    f = S / 256.0  # scale of pixel-sized details
    ys = ((np.arange(S, dtype=np.float32) + 0.5) / S)[:, None]  # 0 top .. 1 bottom
    xs = ((np.arange(S, dtype=np.float32) + 0.5) / S)[None, :]
    lab = np.full((S, S), SKY, np.uint8)

    # --- layout --------------------------------------------------------------------------------
    horizon = (rng.uniform(0.36, 0.62) + 0.05 * _noise1d(rng, S, rng.uniform(1.5, 3.0))
               + 0.012 * _noise1d(rng, S, 10 * max(f, 0.5)))[None, :]
    has_mountain = rng.random() < 0.75
    if has_mountain:
        height = rng.uniform(0.10, 0.28)
        ridge = _noise1d(rng, S, rng.uniform(2.0, 4.0), octaves=4, persistence=0.55, ridged=True)
        ridge_y = horizon - height * np.clip(0.55 + 0.45 * ridge[None, :], 0.05, 1.0)
        lab[(ys >= ridge_y) & (ys < horizon)] = MOUNTAIN
    else:
        ridge_y = horizon
    below = ys >= horizon
    lab[below] = GRASS
    water_mode = rng.choice(["none", "lake", "shore"], p=[0.35, 0.35, 0.30])
    if water_mode != "none":
        depth = rng.uniform(0.08, 0.25)
        wave = (horizon + depth + 0.04 * _noise1d(rng, S, rng.uniform(2, 5), octaves=2)[None, :]
                + 0.008 * np.sin(xs * rng.uniform(20, 45) + rng.uniform(0, 6.3)))
        if water_mode == "lake":  # water right under the horizon, grass in front
            lab[below & (ys < wave)] = WATER
        else:  # grass on the far bank, water in front
            lab[below & (ys >= wave)] = WATER
    if rng.random() < 0.5:  # dirt road (background) from the bottom towards the horizon
        h0 = float(horizon.mean())
        persp = np.clip((ys - h0) / max(1e-3, 1.0 - h0), 0.0, 1.0)
        centre = (rng.uniform(0.3, 0.7) + rng.uniform(-0.25, 0.25) * (1.0 - persp) ** 2
                  + 0.03 * _noise1d(rng, S, 3)[:, None])
        half = rng.uniform(0.12, 0.30) * persp + 0.004
        edge = 1.0 + 0.15 * _noise2d(rng, S, 6, 6, octaves=2)
        lab[below & (np.abs(xs - centre) < half * edge)] = BACKGROUND

    # buildings on the horizon (id map for their textures)
    bid = np.full((S, S), -1, np.int16)
    n_buildings = int(rng.integers(1, 5)) if rng.random() < 0.6 else 0
    b_params = []
    for k in range(n_buildings):
        w = rng.uniform(0.06, 0.20)
        x0 = rng.uniform(-0.02, 1.0 - w + 0.02)
        h0 = float(horizon[0, int(np.clip((x0 + w / 2) * S, 0, S - 1))])
        top = h0 - rng.uniform(0.10, 0.34)
        bottom = h0 + rng.uniform(0.01, 0.04)
        region = (xs >= x0) & (xs < x0 + w) & (ys >= top) & (ys < bottom)
        lab[region] = BUILDING
        bid[region] = k
        b_params.append((x0, top, rng.uniform(0.018, 0.04), rng.uniform(0.025, 0.05), rng.uniform(0.4, 0.7),
                         rng.uniform(0.4, 0.7)))

    def box(x_lo, x_hi, y_lo, y_hi):
        """Row / column slices (pixels) of a box given in fractions, clipped to the image."""
        c0, c1 = max(0, int(x_lo * S)), min(S, int(np.ceil(x_hi * S)) + 1)
        r0, r1 = max(0, int(y_lo * S)), min(S, int(np.ceil(y_hi * S)) + 1)
        return slice(r0, max(r0, r1)), slice(c0, max(c0, c1))

    # plants: ragged blobs near / below the horizon (evaluated in their bounding boxes only)
    n_plants = int(rng.integers(1, 6)) if rng.random() < 0.8 else 0
    if n_plants:
        plant_edge = 0.12 * _noise2d(rng, S, 10, 10)
    for _ in range(n_plants):
        cx = rng.uniform(0.0, 1.0)
        r = rng.uniform(0.05, 0.15)
        cy = float(horizon[0, int(cx * (S - 1))]) + rng.uniform(-0.6, 0.9) * r
        ry = r * rng.uniform(0.8, 1.5)
        amps = rng.uniform(0.04, 0.12, 3)
        phases = rng.uniform(0, 6.3, 3)
        rs, cs = box(cx - 1.7 * r, cx + 1.7 * r, cy - 1.7 * ry, cy + 1.7 * ry)
        dx, dy = (xs[:, cs] - cx) / r, (ys[rs] - cy) / ry
        angles = np.linspace(-np.pi, np.pi, 257, dtype=np.float32)
        table = 1.0 + sum(a * np.sin(k * angles + ph) for a, k, ph in zip(amps, (3, 5, 8), phases))
        outline = table[((np.arctan2(dy, dx) + np.pi) * (256 / (2 * np.pi))).astype(np.intp)]
        d = np.sqrt(dx * dx + dy * dy) + plant_edge[rs, cs]
        lab[rs, cs][d < outline] = PLANT

    # animal: body + head + legs, standing on the ground
    if rng.random() < 0.6:
        h_mean = float(horizon.mean())
        cx = rng.uniform(0.2, 0.8)
        cy = rng.uniform(h_mean + 0.12, 0.85)
        rx = rng.uniform(0.07, 0.15)
        ry = rx * rng.uniform(0.45, 0.7)
        side = rng.choice([-1.0, 1.0])
        hr = ry * rng.uniform(0.55, 0.8)
        hx, hy = cx + side * rx * 1.05, cy - ry * 0.75
        leg_len = ry * rng.uniform(1.5, 1.9, 4)
        rs, cs = box(min(cx - rx, hx - hr) - 0.02, max(cx + rx, hx + hr) + 0.02, hy - hr - 0.02,
                     cy + leg_len.max() + 0.01)
        X, Y = xs[:, cs], ys[rs]
        edge = 0.10 * _noise2d(rng, S, 14, 14)[rs, cs]
        body = ((X - cx) / rx) ** 2 + ((Y - cy) / ry) ** 2 + edge < 1.0
        head = ((X - hx) / hr) ** 2 + ((Y - hy) / hr) ** 2 + edge < 1.0
        legs = np.zeros(body.shape, bool)
        for lx, ll in zip((cx - rx * 0.6, cx - rx * 0.3, cx + rx * 0.3, cx + rx * 0.6), leg_len):
            legs |= (np.abs(X - lx) < rx * 0.12) & (Y >= cy) & (Y < cy + ll)
        lab[rs, cs][body | head | legs] = ANIMAL

    # void: thin wires or a border frame
    if rng.random() < 0.3:
        t = max(1, int(round(1.5 * f)))
        if rng.random() < 0.5:
            for _ in range(int(rng.integers(1, 3))):
                a, b = rng.uniform(0.05, float(horizon.min()) + 0.05), rng.uniform(-0.15, 0.15)
                sag = rng.uniform(0.05, 0.2)
                wire = a + b * xs + sag * (xs - 0.5) ** 2
                lab[np.abs(ys - wire) * S < t / 2 + 0.01] = VOID
        else:
            lab[:t], lab[-t:], lab[:, :t], lab[:, -t:] = VOID, VOID, VOID, VOID

    # --- textures ---------------------------------------------------------------------------
    # Every pixel is  c = A + (B - A) * T  (two colours per class, a scalar field T), then an overlay
    # c += (O - c) * T2 (clouds, snow, glints, windows, spots). Scalar fields are computed on each
    # class's pixels only; the colour arithmetic runs once over the whole image.
    present = set(np.flatnonzero(np.bincount(lab.ravel(), minlength=256)).tolist())
    lut_a = np.zeros((256, 3), np.float32)
    lut_b = np.zeros((256, 3), np.float32)
    lut_o = np.zeros((256, 3), np.float32)
    T = np.zeros((S, S), np.float32)
    T2 = np.zeros((S, S), np.float32)
    per_pixel_b, per_pixel_o = [], []  # (mask, colours) where B / O vary inside a class
    full = (S, S)

    def at(m, a):
        """Values of a full-frame (or broadcastable) array at the pixels of mask m."""
        return np.broadcast_to(a, full)[m]

    masks = {c: lab == c for c in present}
    if SKY in present:
        m = masks[SKY]
        sunset = rng.random() < 0.2
        lut_a[SKY] = _jitter(rng, (40, 90, 200) if not sunset else (70, 60, 150))
        lut_b[SKY] = _jitter(rng, (170, 205, 240) if not sunset else (250, 170, 110))
        lut_o[SKY] = _jitter(rng, (240, 240, 244), 8)
        T[m] = np.clip(at(m, ys) / max(float(ridge_y.mean()), 0.05), 0, 1) ** 0.8
        cloud_n = _noise2d(rng, S, 3, 6, octaves=4, persistence=0.55)[m]
        cover = rng.uniform(-0.1, 0.35)
        T2[m] = np.clip((cloud_n - cover) * 3.0, 0, 1) * rng.uniform(0.6, 1.0)
    if MOUNTAIN in present:
        m = masks[MOUNTAIN]
        lut_b[MOUNTAIN] = _jitter(rng, rng.choice([(110, 100, 130), (120, 110, 95), (90, 110, 120)]), 15)
        lut_o[MOUNTAIN] = _col(235, 238, 245)
        ridged = 1.0 - np.abs(_noise2d(rng, S, 6, 12, octaves=4, persistence=0.6)[m])
        T[m] = 0.55 + 0.5 * ridged + 0.15 * _noise2d(rng, S, 20 * f + 4, 20 * f + 4)[m]
        snow_n = _noise2d(rng, S, 12, 24)[m]
        if rng.random() < 0.5:
            T2[m] = np.clip(1.0 - at(m, ys - ridge_y) / 0.05 + 0.6 * snow_n, 0, 1)
    if WATER in present:
        m = masks[WATER]
        lut_a[WATER], lut_b[WATER] = _jitter(rng, (30, 70, 120)), _jitter(rng, (90, 150, 190))
        lut_o[WATER] = _col(225, 235, 245)
        warp = _noise2d(rng, S, 4, 3, octaves=2)[m]
        y = at(m, ys)
        ripple = 0.5 + 0.5 * np.sin(y * rng.uniform(80, 140) * (0.4 + y) + 3.0 * warp)
        T[m] = np.clip(0.35 * ripple + 0.4 * (1 - y) + 0.15 * warp, 0, 1)
        T2[m] = np.clip((_noise2d(rng, S, 48 * f + 4, 12 * f + 2)[m] - 0.6) * 5, 0, 1) * 0.8
    if GRASS in present:
        m = masks[GRASS]
        lut_a[GRASS], lut_b[GRASS] = _jitter(rng, (45, 100, 35)), _jitter(rng, (120, 170, 60))
        blades = _noise2d(rng, S, 64 * f + 4, 160 * f + 8)[m]  # vertical streaks
        patches = _noise2d(rng, S, 4, 4, octaves=3)[m]
        grain = _noise2d(rng, S, S / 2, S / 2)[m]
        T[m] = np.clip(0.5 + 0.35 * blades + 0.3 * patches + 0.1 * grain, 0, 1)
    if BACKGROUND in present:
        m = masks[BACKGROUND]
        lut_b[BACKGROUND] = _jitter(rng, rng.choice([(140, 120, 95), (120, 118, 112)]), 12)
        gravel = _noise2d(rng, S, S / 2, S / 2)[m] * 0.5 + _noise2d(rng, S, 16, 16, octaves=2)[m] * 0.5
        T[m] = 0.85 + 0.3 * gravel
    if BUILDING in present:
        m = masks[BUILDING]
        walls = np.array([_jitter(rng, rng.choice([(200, 190, 170), (160, 70, 55), (150, 150, 155),
                                                    (225, 220, 210)]), 15) for _ in b_params], np.float32)
        x0s, tops, wxs, wys, fxs, fys = (np.array(v, np.float32) for v in zip(*b_params))
        k = bid[m].astype(np.int64)
        relx, rely = (at(m, xs) - x0s[k]) / wxs[k], (at(m, ys) - tops[k]) / wys[k]
        ix, iy = np.floor(relx).astype(np.int64), np.floor(rely).astype(np.int64)
        fx, fy = relx - ix, rely - iy
        window = (np.abs(fx - 0.5) < fxs[k] / 2) & (fy > 0.25) & (fy < 0.25 + fys[k]) & (iy >= 1)
        lit = ((ix * 73856093) ^ (iy * 19349663) ^ (k * 83492791)) % 5 == 0
        T[m] = 0.92 + 0.08 * _noise2d(rng, S, S / 4, S / 4)[m]
        T2[m] = window
        per_pixel_o.append((m, np.where(lit[:, None], _col(250, 220, 120), _col(40, 55, 80))))
        per_pixel_b.append((m, walls[k]))
    if PLANT in present:
        m = masks[PLANT]
        lut_a[PLANT], lut_b[PLANT] = _jitter(rng, (20, 70, 25)), _jitter(rng, (85, 150, 60))
        leaves = _noise2d(rng, S, 24 * f + 4, 24 * f + 4, octaves=3, persistence=0.6)[m]
        T[m] = np.clip(0.5 + 0.9 * leaves, 0, 1) ** 1.5
    if ANIMAL in present:
        m = masks[ANIMAL]
        fur_c = _jitter(rng, rng.choice([(150, 95, 50), (200, 160, 110), (90, 80, 75), (230, 225, 215)]), 15)
        lut_b[ANIMAL], lut_o[ANIMAL] = fur_c, fur_c * 0.35
        T[m] = 0.8 + 0.3 * _noise2d(rng, S, 90 * f + 8, 12 * f + 2)[m]  # horizontal hair streaks
        spots = np.clip((_noise2d(rng, S, 10, 10)[m] - 0.3) * 4, 0, 1)
        if rng.random() < 0.4:
            T2[m] = spots
    if VOID in present:
        lut_a[VOID] = lut_b[VOID] = _col(25, 25, 28)

    lab3 = cv2.merge([lab, lab, lab])
    A, B, O = (cv2.LUT(lab3, lut[None]) for lut in (lut_a, lut_b, lut_o))
    for m, colours in per_pixel_b:
        B[m] = colours
    for m, colours in per_pixel_o:
        O[m] = colours
    B -= A
    B *= T[..., None]
    img = A
    img += B
    O -= img
    O *= T2[..., None]
    img += O
    img += 0.5
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8), lab


def scene_rng(scene_seed: int, split: str, index: int) -> np.random.Generator:
    """The generator :func:`render_scene` gets for item ``index`` of ``split``."""
    return np.random.default_rng([int(scene_seed), SPLIT_CODE[split], int(index)])


# ---------------------------------------------------------------------------------------------- dataset
@DATASETS.register_module(name=["toy", "ToyScenesDataset"])
class ToyScenesDataset(InpaintDataset):
    """Procedural outdoor scenes with the 8 OST classes (what ``bench demo`` runs on; no download).

    Args:
        num_images (int | None): number of scenes. ``None`` (default): ``max_samples`` when set (the scenes
            are procedural, so a preset may ask for any number), else 1000 for train, 100 for test. With
            ``max_samples`` only the first ``max_samples`` scenes are rendered.
        scene_size (int | None): side of the rendered scenes; default ``img_size`` (so no resize).
        scene_seed (int): seed of the scenes (independent of ``seed``, which drives masks / crops, so
            runs with different seeds train on the same images). Default 0.
        cache (bool): write the scenes once as PNGs under
            ``<data_root>/<scene_size>-s<scene_seed>/<split>/`` (default) or render them in memory on
            every access (``False``; for read-only disks).
        **kwargs: see :class:`InpaintDataset`.
    """

    NAME = "toy"
    DATA_SUBDIR = "toy"
    HAS_LABELS = True
    METAINFO = dict(classes=OST_CLASSES, palette=OST_PALETTE)
    EXPECTED_TREE = """
toy/                                  (generated on first use; nothing to download)
└── <size>-s<scene_seed>/{train,test}/
    ├── images/00000.png ...          (RGB scenes; 1000 train / 100 test by default)
    ├── labels/00000.png ...          (OST class ids 0-7, 255 = void)
    └── manifest.json
"""

    def __init__(self, data_root="data/toy", *, num_images: int | None = None, scene_size: int | None = None,
                 scene_seed: int = 0, cache: bool = True, img_size: int = 256, split: str = "train", **kwargs):
        self.num_images = int(num_images) if num_images is not None else None
        if self.num_images is not None and self.num_images < 1:
            raise ValueError(f"toy dataset: num_images must be >= 1, got {num_images}")
        self.scene_size = int(scene_size or img_size)
        self.scene_seed = int(scene_seed)
        self.cache = bool(cache)
        self._last = (None, None)
        super().__init__(data_root=data_root, img_size=img_size, split=split, **kwargs)

    @classmethod
    def describe(cls, root) -> dict:
        return dict(name=cls.NAME, found=True, path=str(root), expected_tree=cls.expected_tree(),
                    n_train=DEFAULT_COUNTS["train"], n_test=DEFAULT_COUNTS["test"])

    @property
    def cache_dir(self) -> Path:
        return Path(self.data_root) / f"{self.scene_size}-s{self.scene_seed}" / self.split

    def check_root(self) -> None:
        if not self.cache:
            return
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatasetError(f"cannot create the toy-scene cache {self.cache_dir}: {exc}. Fix: point "
                               f"--data-root at a writable folder, or set `cache=False` on the toy dataset "
                               f"(scenes are then rendered in memory).", path=str(self.cache_dir),
                               reason="cache not writable") from exc

    def _paths(self, i: int) -> tuple[Path, Path]:
        return self.cache_dir / "images" / f"{i:05d}.png", self.cache_dir / "labels" / f"{i:05d}.png"

    def load_data_list(self) -> list[dict]:
        # max_samples keeps the first N (sorted = index order): only those are rendered
        if self.num_images is None:
            n = self.max_samples or DEFAULT_COUNTS.get(self.split, 100)
        else:
            n = min(self.num_images, self.max_samples or self.num_images)
        if self.cache:
            self.generate(n)
        items = []
        for i in range(n):
            img, lab = self._paths(i)
            items.append(dict(img_path=str(img), seg_path=str(lab), toy_index=i))
        return items

    def generate(self, n: int) -> int:
        """Render and write the scenes ``0..n-1`` that are not cached yet; return how many were written."""
        from bench.io import atomic_write_bytes, atomic_write_json

        manifest_path = self.cache_dir / "manifest.json"
        want = dict(version=TOY_VERSION, size=self.scene_size, scene_seed=self.scene_seed, split=self.split)
        old = {}
        if manifest_path.is_file():
            try:
                old = json.loads(manifest_path.read_text())
            except (OSError, ValueError):
                old = {}
        same = all(old.get(k) == v for k, v in want.items())
        if same and int(old.get("count", 0)) >= n:
            return 0
        # Rendering and PNG encoding run here; the atomic writes (each fsync-ed by bench.io) run in a
        # few threads so that disk latency overlaps with rendering.
        from concurrent.futures import ThreadPoolExecutor

        written, pending = 0, []
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="toy-write") as pool:
            for i in range(n):
                img_p, lab_p = self._paths(i)
                if same and img_p.is_file() and lab_p.is_file():
                    continue
                img, lab = render_scene(scene_rng(self.scene_seed, self.split, i), self.scene_size)
                ok_i, png_i = cv2.imencode(".png", img[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 1])
                ok_l, png_l = cv2.imencode(".png", lab, [cv2.IMWRITE_PNG_COMPRESSION, 1])
                if not (ok_i and ok_l):
                    raise DatasetError(f"could not encode toy scene {i} as PNG", path=str(img_p), reason="encode")
                pending.append(pool.submit(atomic_write_bytes, lab_p, png_l.tobytes()))
                pending.append(pool.submit(atomic_write_bytes, img_p, png_i.tobytes()))
                written += 1
                if len(pending) > 64:  # bound memory; re-raise write errors early
                    for fut in pending[:32]:
                        fut.result()
                    pending = pending[32:]
            for fut in pending:
                fut.result()
        count = max(n, int(old.get("count", 0))) if same else n
        atomic_write_json(manifest_path, dict(want, count=count, classes=list(OST_CLASSES), void=VOID))
        return written

    def _render(self, info: dict):
        i = info["toy_index"]
        if self._last[0] != i:
            self._last = (i, render_scene(scene_rng(self.scene_seed, self.split, i), self.scene_size))
        return self._last[1]

    def read_image(self, info: dict) -> np.ndarray:
        if not self.cache:
            return self._render(info)[0]
        try:
            return super().read_image(info)
        except DatasetError as err:
            raise DatasetError(f"{err} (toy cache: delete {self.cache_dir} and it is regenerated)",
                               path=err.path, reason=err.reason) from err

    def read_label(self, info: dict) -> np.ndarray:
        if not self.cache:
            return self._render(info)[1]
        try:
            return super().read_label(info)
        except DatasetError as err:
            raise DatasetError(f"{err} (toy cache: delete {self.cache_dir} and it is regenerated)",
                               path=err.path, reason=err.reason) from err


__all__ = ["render_scene", "scene_rng", "ToyScenesDataset", "TOY_VERSION"]
