"""Random hole-mask generators (uint8 H×W, **1 = hole**, 0 = known).

Every generator is deterministic given a :class:`numpy.random.Generator`: the same generator state
always gives the same mask (for a fixed Pillow version, which rasterises the strokes).

The free-form generators follow the official DeepFill v2 recipe (JiahuiYu/generative_inpainting,
``inpaint_ops.py``: ``brush_stroke_mask``, ``random_bbox``, ``bbox2mask``) with its constants; each
constant below says where it comes from. Deviations from the official code, all harmless for the
256×256 squares it was written for, are listed in the docstrings (``Deviation:``).

Measured hole ratios (10,000 masks each, seeds ``[2021, i]``, numpy 2.4 / Pillow 13), against the
official code's 0.150 (p5 0.036, p95 0.291) and 0.311 (0.206, 0.437) at 256×256:

=========================================  ======  =====  =====
mask                                       mean    p5     p95
=========================================  ======  =====  =====
strokes (``freeform``), 256×256            0.151   0.038  0.293
box ∪ strokes (``box_freeform``), 256×256  0.310   0.210  0.432
strokes, 64×64, ``scale_width=True``       0.152   0.038  0.292
box ∪ strokes, 64×64, ``scale_width=True`` 0.310   0.207  0.434
=========================================  ======  =====  =====

(Without width scaling, strokes on 64×64 cover 0.447 on average.)
"""
from __future__ import annotations

import math
from numbers import Integral
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from bench.registry import MASK_GENERATORS

__all__ = [
    "MaskGenerationError",
    "as_size",
    "as_rng",
    "hole_ratio",
    "center_mask",
    "freeform_mask",
    "random_bbox",
    "bbox_mask",
    "box_freeform_mask",
    "bucketed_freeform_mask",
    "CenterMaskGenerator",
    "FreeFormMaskGenerator",
    "BoxFreeFormMaskGenerator",
    "BucketedFreeFormMaskGenerator",
    "build_mask_generator",
]

# ---- official DeepFill v2 constants (inpaint_ops.py) -------------------------------------------
#: ``brush_stroke_mask``: ``for _ in range(np.random.randint(1, 4))`` → 1–3 strokes (high exclusive).
NUM_STROKES = (1, 4)
#: ``min_num_vertex = 4``, ``max_num_vertex = 12``, used as ``randint(4, 12)`` → 4–11 (high exclusive).
NUM_VERTICES = (4, 12)
#: ``mean_angle = 2 * math.pi / 5``.
MEAN_ANGLE = 2 * math.pi / 5
#: ``angle_range = 2 * math.pi / 15``.
ANGLE_RANGE = 2 * math.pi / 15
#: ``min_width = 12``, ``max_width = 40``, used as ``int(np.random.uniform(12, 40))`` → 12–39 px.
BRUSH_WIDTH = (12, 40)
#: Image side the official widths and bbox sizes are given for (``img_shapes: [256, 256, 3]``).
REFERENCE_SIDE = 256
#: ``random_bbox``: ``height: 128``, ``width: 128`` (inpaint.yml), i.e. half the 256 side.
BBOX_SHAPE = (128, 128)
#: ``bbox2mask``: ``max_delta_height: 32``, ``max_delta_width: 32``; each side shrinks by
#: ``randint(delta // 2 + 1)`` = 0–16 px.
BBOX_MAX_DELTA = (32, 32)
#: ``vertical_margin: 0``, ``horizontal_margin: 0``.
BBOX_MARGIN = (0, 0)
#: NVIDIA irregular test-set buckets (hole-to-image ratio), lower bound exclusive, upper inclusive.
NVIDIA_BUCKETS = ((0.01, 0.1), (0.1, 0.2), (0.2, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.6))


class MaskGenerationError(RuntimeError):
    """A generator could not produce a mask (bad parameters, or rejection sampling gave up)."""


# ---- helpers ------------------------------------------------------------------------------------
def as_size(size) -> tuple[int, int]:
    """``256`` or ``(H, W)`` → ``(H, W)`` of positive ints."""
    if isinstance(size, Integral):
        hw = (int(size), int(size))
    else:
        try:
            hw = tuple(int(s) for s in size)
        except TypeError:
            raise ValueError(f"mask size must be an int or (H, W), got {size!r}") from None
        if len(hw) != 2:
            raise ValueError(f"mask size must be an int or (H, W), got {size!r}")
    if min(hw) <= 0:
        raise ValueError(f"mask size must be positive, got {size!r}")
    return hw


def as_rng(rng) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from a Generator, a seed (int / sequence) or ``None``."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.RandomState):
        raise TypeError("pass a numpy.random.Generator (np.random.default_rng(seed)), not a RandomState")
    return np.random.default_rng(rng)


def hole_ratio(mask: np.ndarray) -> float:
    """Fraction of hole pixels (mask is 1 = hole)."""
    return float(np.count_nonzero(mask)) / mask.size


def _check_range(name: str, lo_hi, *, low: float = 0, integer: bool = False) -> tuple:
    lo, hi = lo_hi
    if integer and not (isinstance(lo, Integral) and isinstance(hi, Integral)):
        raise ValueError(f"{name} must be two integers (low, high exclusive), got {lo_hi!r}")
    if not (low <= lo < hi):
        raise ValueError(f"{name} must satisfy {low} <= low < high, got {lo_hi!r}")
    return (int(lo), int(hi)) if integer else (float(lo), float(hi))


# ---- center ---------------------------------------------------------------------------------------
def center_mask(size, hole) -> np.ndarray:
    """Central rectangular hole: ``hole`` (int side or ``(h, w)``) pixels, centred in ``size``.

    Paper protocol: 128×128 on 256×256 (Outdoor Scenes), 96×96 on 256 (Cityscapes); PEN-Net tests on
    the exact centre 128×128 of 256. The top-left corner is ``((H - h) // 2, (W - w) // 2)``.
    """
    H, W = as_size(size)
    h, w = as_size(hole)
    if h > H or w > W:
        raise ValueError(f"center hole {h}x{w} does not fit in a {H}x{W} mask")
    mask = np.zeros((H, W), np.uint8)
    top, left = (H - h) // 2, (W - w) // 2
    mask[top:top + h, left:left + w] = 1
    return mask


# ---- DeepFill v2 strokes ----------------------------------------------------------------------------
def _draw_stroke(draw: ImageDraw.ImageDraw, rng: np.random.Generator, H: int, W: int, *,
                 num_vertices, mean_angle, angle_range, width, width_scale) -> None:
    """One ``brush_stroke_mask`` stroke: a polyline of ``num_vertex`` segments with round joints.

    Same order of random draws as the official loop body: vertex count, angle_min/max, the angles
    (even ones reflected to ``2π − angle``), the start vertex, the segment lengths, the width.
    """
    # official: average_radius = math.sqrt(H*H + W*W) / 8; scale=average_radius // 2 (floored)
    average_radius = math.sqrt(H * H + W * W) / 8
    num_vertex = int(rng.integers(*num_vertices))
    angle_min = mean_angle - rng.uniform(0, angle_range)
    angle_max = mean_angle + rng.uniform(0, angle_range)
    angles = rng.uniform(angle_min, angle_max, size=num_vertex)
    angles[0::2] = 2 * math.pi - angles[0::2]
    # Deviation: the official ``h, w = mask.size`` swaps H and W (x is drawn in [0, H)); we use
    # x ∈ [0, W), y ∈ [0, H). Identical for square images.
    x, y = int(rng.integers(0, W)), int(rng.integers(0, H))
    radii = np.clip(rng.normal(average_radius, average_radius // 2, size=num_vertex), 0, 2 * average_radius)
    dx, dy = radii * np.cos(angles), radii * np.sin(angles)
    vertices = [(x, y)]
    for i in range(num_vertex):  # clipping makes each vertex depend on the previous one
        # official: new_x = np.clip(x + r cos a, 0, w); the clipped float is truncated with int()
        x = int(min(max(x + dx[i], 0.0), W))
        y = int(min(max(y + dy[i], 0.0), H))
        vertices.append((x, y))
    w = int(rng.uniform(*width))  # official: int(np.random.uniform(min_width, max_width))
    if width_scale != 1.0:
        w = max(1, int(round(w * width_scale)))
    draw.line(vertices, fill=1, width=w)
    r = w // 2  # official round joints: draw.ellipse((x - w//2, y - w//2, x + w//2, y + w//2))
    for vx, vy in vertices:
        draw.ellipse((vx - r, vy - r, vx + r, vy + r), fill=1)


def _width_scale(H: int, W: int, scale_width: bool) -> float:
    return min(H, W) / REFERENCE_SIDE if scale_width else 1.0


def freeform_mask(size, rng=None, *, num_strokes=NUM_STROKES, num_vertices=NUM_VERTICES,
                  mean_angle: float = MEAN_ANGLE, angle_range: float = ANGLE_RANGE,
                  width=BRUSH_WIDTH, scale_width: bool = True, flip: bool = False) -> np.ndarray:
    """DeepFill v2 free-form brush strokes (``inpaint_ops.py: brush_stroke_mask``).

    ``randint(1, 4)`` strokes of ``randint(4, 12)`` segments each; segment angle ~ U(angle_min,
    angle_max) around ``2π/5`` (± up to ``2π/15``), even segments reflected to ``2π − angle``; segment
    length ~ N(r, r // 2) clipped to [0, 2r] with ``r = √(H² + W²) / 8``; start vertex uniform;
    vertices clipped to the image; Pillow ``ImageDraw.line`` of width ``int(U(12, 40))`` plus round
    joints (ellipses of radius ``width // 2``) at every vertex. Ranges are ``(low, high exclusive)``.

    Args:
        scale_width: widths are pixels at 256×256; when True they are multiplied by
            ``min(H, W) / 256`` (rounded, at least 1) so that e.g. 64×64 masks keep the hole statistics
            of 256×256 ones. No effect at 256.
        flip: the official code ends with two random flips whose result is never assigned
            (``mask.transpose(...)``), so the official masks are *not* flipped; ``False`` reproduces
            that. ``True`` applies a horizontal and a vertical flip, each with probability 1/2 (same
            hole-ratio distribution, mirrored stroke directions).
    """
    H, W = as_size(size)
    rng = as_rng(rng)
    num_strokes = _check_range("num_strokes", num_strokes, low=1, integer=True)
    num_vertices = _check_range("num_vertices", num_vertices, low=1, integer=True)
    width = _check_range("width", width, low=1)
    img = Image.new("L", (W, H), 0)
    draw = ImageDraw.Draw(img)
    scale = _width_scale(H, W, scale_width)
    for _ in range(int(rng.integers(*num_strokes))):
        _draw_stroke(draw, rng, H, W, num_vertices=num_vertices, mean_angle=mean_angle,
                     angle_range=angle_range, width=width, width_scale=scale)
    mask = np.asarray(img, dtype=np.uint8)
    return _random_flip(mask, rng) if flip else mask.copy()


def _random_flip(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Horizontal, then vertical flip, each with probability 1/2 (what the official code intended)."""
    if rng.random() < 0.5:
        mask = mask[:, ::-1]
    if rng.random() < 0.5:
        mask = mask[::-1, :]
    return np.ascontiguousarray(mask)


# ---- DeepFill v2 training box -------------------------------------------------------------------
def _scaled_box_constants(H: int, W: int):
    """Official bbox constants (given for 256×256) scaled to H×W: shape, max delta, margins."""
    sh, sw = H / REFERENCE_SIDE, W / REFERENCE_SIDE
    shape = (max(1, round(BBOX_SHAPE[0] * sh)), max(1, round(BBOX_SHAPE[1] * sw)))
    delta = (round(BBOX_MAX_DELTA[0] * sh), round(BBOX_MAX_DELTA[1] * sw))
    margin = (round(BBOX_MARGIN[0] * sh), round(BBOX_MARGIN[1] * sw))
    return shape, delta, margin


def random_bbox(size, rng=None, *, shape=None, margin=None) -> tuple[int, int, int, int]:
    """DeepFill v2 ``random_bbox``: ``(top, left, height, width)`` with the top-left corner uniform in
    ``[margin, side − margin − box)`` (``tf.random_uniform(minval, maxval)``, maxval exclusive).

    Defaults (official ``inpaint.yml`` at 256: box 128×128, margins 0) scale with the image size.
    """
    H, W = as_size(size)
    rng = as_rng(rng)
    d_shape, _, d_margin = _scaled_box_constants(H, W)
    bh, bw = as_size(shape) if shape is not None else d_shape
    mv, mh = (margin, margin) if isinstance(margin, Integral) else (margin or d_margin)
    maxt, maxl = H - mv - bh, W - mh - bw
    if maxt < mv or maxl < mh:
        raise ValueError(f"a {bh}x{bw} box with margins ({mv}, {mh}) does not fit in {H}x{W}")
    # tf.random_uniform with maxval == minval is undefined; allow the degenerate "box fills the image".
    top = int(rng.integers(mv, maxt)) if maxt > mv else mv
    left = int(rng.integers(mh, maxl)) if maxl > mh else mh
    return top, left, bh, bw


def bbox_mask(size, bbox, rng=None, *, max_delta=None) -> np.ndarray:
    """DeepFill v2 ``bbox2mask``: fill ``bbox`` after shrinking it by a random ``randint(delta // 2 + 1)``
    pixels on *both* top and bottom (and the same for left/right), i.e. 0–16 px per side at 256.
    """
    H, W = as_size(size)
    rng = as_rng(rng)
    _, d_delta, _ = _scaled_box_constants(H, W)
    dh, dw = (max_delta, max_delta) if isinstance(max_delta, Integral) else (max_delta or d_delta)
    top, left, bh, bw = bbox
    h = int(rng.integers(dh // 2 + 1))
    w = int(rng.integers(dw // 2 + 1))
    mask = np.zeros((H, W), np.uint8)
    mask[top + h:top + bh - h, left + w:left + bw - w] = 1
    return mask


def box_freeform_mask(size, rng=None, *, scale_width: bool = True, **stroke_kwargs) -> np.ndarray:
    """The official DeepFill v2 *training* mask: ``bbox2mask(random_bbox())`` ∪ ``brush_stroke_mask()``.

    At 256×256: one box of 128×128 with top-left uniform in [0, 128)², shrunk by 0–16 px per side
    (sides 96–128), union with 1–3 brush strokes. Box size, shrink and margins scale with the image
    size (``H/256``, ``W/256``); stroke widths scale when ``scale_width``. Draw order: box, shrink, strokes.
    """
    H, W = as_size(size)
    rng = as_rng(rng)
    box = bbox_mask((H, W), random_bbox((H, W), rng), rng)
    strokes = freeform_mask((H, W), rng, scale_width=scale_width, **stroke_kwargs)
    return np.maximum(box, strokes)


def bucketed_freeform_mask(size, rng=None, ratio_range=(0.1, 0.2), *, max_attempts: int = 1000,
                           max_strokes: int = 64, scale_width: bool = True, **stroke_kwargs) -> np.ndarray:
    """Free-form strokes rejection-sampled into a hole-ratio bucket ``low < ratio <= high``.

    Like the NVIDIA irregular test buckets (0.01–0.1, 0.1–0.2, …, 0.5–0.6). Each attempt starts from a
    :func:`freeform_mask` (1–3 strokes) and keeps adding single DeepFill v2 strokes while the ratio is
    ``<= low`` (at most ``max_strokes`` strokes); it is accepted when the ratio is ``<= high``, otherwise
    a new attempt starts. Raises :class:`MaskGenerationError` after ``max_attempts`` failed attempts.
    """
    H, W = as_size(size)
    rng = as_rng(rng)
    low, high = _check_range("ratio_range", ratio_range)
    if high > 1:
        raise ValueError(f"ratio_range must lie in [0, 1], got {ratio_range!r}")
    if max_attempts < 1 or max_strokes < 1:
        raise ValueError("max_attempts and max_strokes must be >= 1")
    flip = stroke_kwargs.pop("flip", False)
    first = dict(stroke_kwargs)
    single = {k: v for k, v in stroke_kwargs.items() if k != "num_strokes"}
    single.update(
        num_vertices=_check_range("num_vertices", single.get("num_vertices", NUM_VERTICES), low=1, integer=True),
        width=_check_range("width", single.get("width", BRUSH_WIDTH), low=1),
        mean_angle=single.get("mean_angle", MEAN_ANGLE), angle_range=single.get("angle_range", ANGLE_RANGE))
    scale = _width_scale(H, W, scale_width)
    n_pix = H * W
    best = None
    for _ in range(max_attempts):
        mask = freeform_mask((H, W), rng, scale_width=scale_width, **first)
        ratio = np.count_nonzero(mask) / n_pix
        if ratio <= low:
            img = Image.fromarray(mask)
            draw = ImageDraw.Draw(img)
            strokes = 0
            while ratio <= low and strokes < max_strokes:
                _draw_stroke(draw, rng, H, W, width_scale=scale, **single)
                strokes += 1
                ratio = np.count_nonzero(np.asarray(img)) / n_pix
            mask = np.array(img, dtype=np.uint8)
        if low < ratio <= high:
            return _random_flip(mask, rng) if flip else mask
        best = ratio if best is None else min(best, ratio, key=lambda r: abs(r - (low + high) / 2))
    raise MaskGenerationError(
        f"bucketed_freeform_mask: no mask with hole ratio in ({low}, {high}] at {H}x{W} after "
        f"{max_attempts} attempts (closest ratio {best:.3f}); widen ratio_range, raise max_attempts / "
        f"max_strokes, or change the stroke parameters")


# ---- registered generator classes ---------------------------------------------------------------
class _MaskGenerator:
    """Base: ``__call__(rng) -> uint8 H×W`` (1 = hole) and a JSON-serialisable ``params`` dict."""

    name: str = ""

    def __init__(self, size):
        self.size = as_size(size)

    def __call__(self, rng=None) -> np.ndarray:
        raise NotImplementedError

    def _extra_params(self) -> dict[str, Any]:
        return {}

    @property
    def params(self) -> dict[str, Any]:
        """Everything needed to rebuild this generator: ``MASK_GENERATORS.build(params)``."""
        return {"type": self.name, "size": list(self.size), **self._extra_params()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if k != "type")
        return f"{type(self).__name__}({args})"


def _jsonable(value):
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@MASK_GENERATORS.register_module(name="center")
class CenterMaskGenerator(_MaskGenerator):
    """Central square/rectangular hole. ``hole`` (int or (h, w)) wins; otherwise the hole side is
    ``round(hole_ratio × side)`` (``hole_ratio`` is a *side* fraction: 0.5 → 128×128 on 256, 25 % area).
    """

    name = "center"

    def __init__(self, size, hole=None, hole_ratio: float = 0.5):
        super().__init__(size)
        if hole is None:
            if not 0 < hole_ratio <= 1:
                raise ValueError(f"hole_ratio (hole side / image side) must be in (0, 1], got {hole_ratio!r}")
            hole = (max(1, round(self.size[0] * hole_ratio)), max(1, round(self.size[1] * hole_ratio)))
        self.hole = as_size(hole)
        self._mask = center_mask(self.size, self.hole)  # validates the fit

    def __call__(self, rng=None) -> np.ndarray:
        return self._mask.copy()

    def _extra_params(self):
        return {"hole": list(self.hole)}


@MASK_GENERATORS.register_module(name="freeform")
class FreeFormMaskGenerator(_MaskGenerator):
    """DeepFill v2 brush strokes (:func:`freeform_mask`), official constants by default."""

    name = "freeform"

    def __init__(self, size, num_strokes=NUM_STROKES, num_vertices=NUM_VERTICES, mean_angle=MEAN_ANGLE,
                 angle_range=ANGLE_RANGE, width=BRUSH_WIDTH, scale_width=True, flip=False):
        super().__init__(size)
        self.kwargs = dict(
            num_strokes=_check_range("num_strokes", tuple(num_strokes), low=1, integer=True),
            num_vertices=_check_range("num_vertices", tuple(num_vertices), low=1, integer=True),
            mean_angle=float(mean_angle), angle_range=float(angle_range),
            width=_check_range("width", tuple(width), low=1), scale_width=bool(scale_width), flip=bool(flip))

    def __call__(self, rng=None) -> np.ndarray:
        return freeform_mask(self.size, rng, **self.kwargs)

    def _extra_params(self):
        return {k: _jsonable(v) for k, v in self.kwargs.items()}


@MASK_GENERATORS.register_module(name="box_freeform")
class BoxFreeFormMaskGenerator(FreeFormMaskGenerator):
    """Official DeepFill v2 training mask: random box ∪ brush strokes (:func:`box_freeform_mask`)."""

    name = "box_freeform"

    def __call__(self, rng=None) -> np.ndarray:
        return box_freeform_mask(self.size, rng, **self.kwargs)


@MASK_GENERATORS.register_module(name="bucketed_freeform")
class BucketedFreeFormMaskGenerator(FreeFormMaskGenerator):
    """Brush strokes rejection-sampled into ``low < hole ratio <= high`` (:func:`bucketed_freeform_mask`)."""

    name = "bucketed_freeform"

    def __init__(self, size, ratio_range=(0.1, 0.2), max_attempts=1000, max_strokes=64, **stroke_kwargs):
        super().__init__(size, **stroke_kwargs)
        low, high = _check_range("ratio_range", tuple(ratio_range))
        if high > 1:
            raise ValueError(f"ratio_range must lie in [0, 1], got {ratio_range!r}")
        self.ratio_range = (low, high)
        self.max_attempts = int(max_attempts)
        self.max_strokes = int(max_strokes)

    def __call__(self, rng=None) -> np.ndarray:
        return bucketed_freeform_mask(self.size, rng, self.ratio_range, max_attempts=self.max_attempts,
                                      max_strokes=self.max_strokes, **self.kwargs)

    def _extra_params(self):
        return {"ratio_range": list(self.ratio_range), "max_attempts": self.max_attempts,
                "max_strokes": self.max_strokes, **super()._extra_params()}


def build_mask_generator(cfg, size=None) -> _MaskGenerator:
    """A generator object from a config dict (``{'type': 'freeform', ...}``) or an existing generator.

    ``size`` fills a missing ``size`` key; if both are given they must agree.
    """
    if isinstance(cfg, str):
        cfg = {"type": cfg}
    if isinstance(cfg, dict):
        cfg = dict(cfg)
        if "type" not in cfg:
            raise ValueError(f"mask generator config needs a 'type' (one of {sorted(MASK_GENERATORS.module_dict)}), "
                             f"got {cfg!r}")
        if cfg.get("size") is None:
            if size is None:
                raise ValueError(f"mask generator config {cfg!r} has no 'size' and none was given")
            cfg["size"] = size
        elif size is not None and as_size(cfg["size"]) != as_size(size):
            raise ValueError(f"mask generator size {cfg['size']!r} differs from the requested size {size!r}")
        name = cfg["type"]
        # module_dict first: Registry.get would import torch (via mmengine.dist) just to find a class here.
        cls = MASK_GENERATORS.module_dict.get(name) or MASK_GENERATORS.get(name)
        if cls is None:
            known = ", ".join(sorted(MASK_GENERATORS.module_dict))
            raise KeyError(f"unknown mask generator {name!r}; registered: {known}")
        gen = cls(**{k: v for k, v in cfg.items() if k != "type"})
    else:
        gen = cfg
        if not callable(gen) or not hasattr(gen, "params") or not hasattr(gen, "size"):
            raise TypeError(f"a mask generator must be a config dict or an object with __call__(rng), "
                            f"`params` and `size`; got {type(gen).__name__}")
        if size is not None and as_size(gen.size) != as_size(size):
            raise ValueError(f"mask generator size {tuple(gen.size)} differs from the requested size {size!r}")
    return gen
