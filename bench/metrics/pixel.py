"""Pixel metrics: PSNR, SSIM, L1 (mmagic's masked MAE ×100) and relative MAE, under named protocols.

The inpainting literature computes "PSNR / SSIM" in incompatible ways (``docs`` of the shared
``anchors/EVAL.md`` §1.1): the same outputs give SSIM 0.75–0.86 depending on window, covariance and colour
space alone. Every value therefore carries its protocol:

``paper`` (default)
    RGB, composited output, quantised to uint8 levels as a saved PNG would be, whole image, mean of per-image
    values. PSNR with data range 255; SSIM of Wang et al. 2004 (Gaussian 11×11, σ = 1.5, K1 = 0.01,
    K2 = 0.03, population covariance, valid region only, channel mean) — what
    ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=255, channel_axis=-1)`` and mmagic/MAT's cv2 ``_ssim`` give.
``edgeconnect``
    EdgeConnect ``scripts/metrics.py``: grayscale (skimage ``rgb2gray`` weights 0.2125/0.7154/0.0721) of the
    [0, 1] images, PSNR with data range 1, SSIM ``compare_ssim(data_range=1, win_size=51)`` = uniform 51×51
    window with skimage's default sample covariance.
``pennet``
    PEN-Net ``core/metric.py``: RGB uint8 composites, PSNR range 255, SSIM ``win_size=51`` uniform window with
    sample covariance, channel mean.
``hole``
    ``paper`` restricted to hole pixels: PSNR of the MSE over hole pixels, SSIM = mean of the Gaussian SSIM map
    over the hole pixels of the valid region, relative MAE over hole pixels.

Reported PSNR is capped: :class:`PixelMetric` scores each image ``min(PSNR, psnr_max)`` (default
:data:`PSNR_MAX` = 100 dB, i.e. an MSE floor of R²·1e-10), so an exact reconstruction (PSNR ``inf``) counts as
100 dB instead of making the set's mean infinite, and therefore null in ``metrics.json``; the metric's ``reasons``
then says how many images reached the cap. The pure functions below return the uncapped value (``inf``).

Whether a method's output varies inside the hole is measured beside the scores (the constant-output guard):
:func:`hole_std` is the variation of an image inside its hole (root mean over the RGB channels of each channel's
variance over hole pixels, in uint8 levels, whatever the protocol; 0 for a flat colour). :class:`PixelMetric`
keeps it per image for the scored output (``hole_std``) and the ground truth (``hole_std_gt``), and reports
``constant_fill``, the fraction of images whose output varies by less than :data:`CONSTANT_FILL_LEVELS` (1 grey
level) inside a hole where the ground truth does not: such a fill (e.g. one mean colour) says nothing about what a
method learned, and the tables mark its row.

In every protocol ``l1`` is mmagic's ``MAE(mask_key='mask', scaling=100)``: Σ|gt−pred|/255·mask /
(Σmask·C) × 100 on the uint8 levels (the hole only), and ``mae_rel`` is EdgeConnect/PEN-Net's
Σ|a−b| / Σ(a+b) in the protocol's colour space.

All functions take N×C×H×W torch tensors and run on the input's device. SSIM filters four maps per channel with a
separable window — the sum and the difference of the images, u = x + y − R (R = the data range) and v = x − y, and
their squares (:func:`_half_dissimilarity` derives Wang et al.'s formula from their window means and variances):

* Gaussian window, ``precision='float32'`` (default): one depthwise ``conv2d`` per axis, each with the image
  columns of the other axis as channels (the planes as stored are channels-last for the first; one plane transpose
  makes them so for the second: no other layout copy). Centring keeps float32 exact enough: on real photos
  it equals skimage's float64 to ~1.5e-7 (1.1e-6 on a nearly black one, 1e-8 on saturated test patterns; tested
  to 2e-6, the acceptance bound is 1e-4).
* ``precision='float64'`` (exact to float64 rounding): shifted multiply-adds for the Gaussian; the uniform window
  (``edgeconnect``/``pennet``) always runs in float64 with running sums (``cumsum``), where float32 would not be
  exact.

SSIM of a window whose two image patches are identical is exactly 1 (v = 0 there: numerator = denominator, also in
skimage's floating point; the deficit 1 − SSIM that the code computes is exactly 0 there). With composited outputs
the known pixels equal the ground truth, so :func:`ssim` filters only the bounding box of the pixels that differ,
grown by the window (per image on the CPU, the union over the batch on other devices) and counts every other valid
pixel as 1 — the same numbers, several times faster for rectangular holes; raw outputs that differ everywhere are
filtered whole. :func:`psnr_ssim` computes both metrics from one squared error (its row sums give PSNR's total and,
with the column sums, the boxes); it is what :func:`pixel_values` runs.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bench.registry import METRICS

from .base import InpaintMetric, mean_of_values, to_uint8_levels

# skimage.color.rgb2gray (ITU-R BT.709 luma, as skimage documents)
GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)
#: Per-image PSNR cap of :class:`PixelMetric` in dB (MSE floor R²·1e-10): finite for an exact reconstruction and
#: reached only by near-exact ones (one level off in one channel of one pixel of a 256² image is 101 dB).
PSNR_MAX = 100.0
#: An output whose :func:`hole_std` is below this many uint8 levels is constant inside the hole (less than one grey
#: level of variation: a flat fill), unless the ground truth is as flat there (``bench.reports`` uses the same value).
CONSTANT_FILL_LEVELS = 1.0


# --------------------------------------------------------------------------------------- pure functions
PRECISIONS = ("float32", "float64")


def _compute_dtype(device: torch.device, precision: str = "float64") -> torch.dtype:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    return torch.float32 if device.type == "mps" or precision == "float32" else torch.float64


def rgb_to_gray(x: torch.Tensor) -> torch.Tensor:
    """N×3×H×W → N×1×H×W with skimage's ``rgb2gray`` weights (0.2125, 0.7154, 0.0721)."""
    w = torch.tensor(GRAY_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def squared_error(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(a − b)² element-wise: in float32 for float32 inputs (exact for uint8 levels: |a−b|² ≤ 65025), else in
    float64; one fused kernel (``mse_loss`` without reduction), one pass over the images."""
    dtype = a.dtype if a.dtype == torch.float32 and b.dtype == torch.float32 else _compute_dtype(a.device)
    return F.mse_loss(a.to(dtype), b.to(dtype), reduction="none")


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float, mask: torch.Tensor | None = None,
         boxes: list | None = None) -> torch.Tensor:
    """Per-image PSNR in dB of N×C×H×W tensors: ``10·log10(data_range² / MSE)``.

    Args:
        a, b: images (see :func:`squared_error` for the arithmetic; sums accumulate in float64).
        data_range: the value range of the images (255 for uint8 levels, 1 for [0, 1]).
        mask: optional N×1×H×W (or N×C×H×W) weights, 1 = pixel counted; the MSE is then
            Σ diff²·mask / (Σmask · C) (all channels of a masked pixel count). NaN where the mask is empty.
        boxes: :func:`differing_boxes` of these images, when the caller has them: the squared error is summed
            inside the boxes only (every pixel outside is equal, so the sum is the same; a composite's is its hole).

    Returns:
        float64 tensor of shape (N,); ``inf`` where the images are identical.
    """
    n_img, n_ch, h, w = a.shape
    acc = torch.float32 if a.device.type == "mps" else torch.float64
    sse = []
    for g, box in boxes if boxes is not None else [(slice(0, n_img), (0, h, 0, w))]:
        if box is None:
            sse.append(torch.zeros(g.stop - g.start, dtype=acc, device=a.device))
            continue
        r0, r1, c0, c1 = box
        d2 = squared_error(a[g, :, r0:r1, c0:c1], b[g, :, r0:r1, c0:c1])
        if mask is not None:
            d2 = d2.mul_(mask[g, :, r0:r1, c0:c1].to(d2.dtype))
        sse.append(_image_sums(d2))
    total = sse[0] if len(sse) == 1 else torch.cat(sse)
    if mask is None:
        return _psnr_of(total, n_ch * h * w, data_range)
    inv_mse = _image_sums(mask.to(total.dtype)).mul_(n_ch / mask.shape[1]).div_(total)
    return inv_mse.mul_(float(data_range) ** 2).log10_().mul_(10.0)


def _psnr_of(sse: torch.Tensor, n: int, data_range: float) -> torch.Tensor:
    """10·log10(R² · n / SSE), in place on the per-image sums of squared errors ``sse``."""
    return sse.reciprocal_().mul_(float(data_range) ** 2 * n).log10_().mul_(10.0)


def _image_sums(x: torch.Tensor) -> torch.Tensor:
    """Per-image sums (N,) of N×C×H×W, accumulated in float64 (float32 on MPS).

    float32 input is summed along rows in float32 first, then the row sums in float64: a float64-accumulating
    reduction of float32 has no vectorised CPU kernel (~10× slower, measured). Rows of integers below 2^24 in
    total — squared differences of uint8 levels over up to 258 columns — are summed exactly."""
    acc = torch.float32 if x.device.type == "mps" else torch.float64
    if x.dim() > 2 and x.stride(-1) != 1 and x.stride(-2) == 1:
        x = x.transpose(-1, -2)           # column-major planes (the SSIM map): rows of memory first
    if x.dtype == torch.float32 and acc == torch.float64:
        return x.sum(dim=-1).flatten(1).sum(dim=1, dtype=acc)
    return x.flatten(1).sum(dim=1, dtype=acc)


@functools.lru_cache(maxsize=32)
def _window_1d(window: str, win_size: int, sigma: float, dtype, device) -> torch.Tensor:
    if win_size % 2 != 1 or win_size < 1:
        raise ValueError(f"SSIM window size must be odd and positive, got {win_size}")
    if window == "gaussian":
        r = win_size // 2
        x = torch.arange(-r, r + 1, dtype=torch.float64, device="cpu")
        w = torch.exp(-0.5 * (x / sigma) ** 2)
        return (w / w.sum()).to(device=device, dtype=dtype)
    if window == "uniform":
        return torch.full((win_size,), 1.0 / win_size, dtype=dtype, device=device)
    raise ValueError(f"unknown SSIM window {window!r}; choose 'gaussian' or 'uniform'")


@functools.lru_cache(maxsize=64)
def _taps_per_channel(w1d: torch.Tensor, channels: int, dtype: torch.dtype) -> torch.Tensor:
    """Contiguous channels×1×1×k depthwise weights of the 1-D window (``w1d`` is itself cached by
    :func:`_window_1d`): an expanded view would be copied by every convolution call."""
    k = w1d.numel()
    return w1d.to(dtype).view(1, 1, 1, k).expand(channels, 1, 1, k).contiguous()


def _filter_columns(planes: torch.Tensor, w1d: torch.Tensor) -> torch.Tensor:
    """P×H×W contiguous planes filtered along H (valid region) → P×(H−k+1)×W contiguous, with no layout copy.

    Each plane is read as a 1×H "image" whose W columns are its channels: stored row by row, that is already
    channels-last, and a depthwise 1×k convolution of it filters every column at once, vectorised over the
    columns (oneDNN on CPU; both passes with the transpose between them took 0.7 ms per 148² crop of 12 maps where
    a 12-channel channels-last stack, its two layout copies and two convolutions took 1.05 ms, profiled in the
    pipeline). The output is channels-last too, i.e. the filtered planes stored row by row."""
    p, h, w = planes.shape
    k = w1d.numel()
    out = F.conv2d(planes.view(p, 1, h, w).permute(0, 3, 1, 2), _taps_per_channel(w1d, w, planes.dtype),
                   groups=w)
    return out.permute(0, 2, 3, 1).reshape(p, h - k + 1, w)


def _filter_valid(x: torch.Tensor, window: str, w1d: torch.Tensor) -> torch.Tensor:
    """Separable 2-D filter of every channel of N×C×H×W with the 1-D window ``w1d``, valid region only.

    * uniform window: running sums (``cumsum``), O(1) per pixel;
    * float32 (or half) Gaussian: :func:`_filter_columns` twice around one plane transpose (a depthwise
      convolution per axis, the image columns and then the rows as channels); the result is the transposed
      view of column-major planes (element-wise work after it runs in memory order; sums do not care);
    * float64 Gaussian: a sum of shifted slices, one multiply-add per tap (float64 ``conv2d`` has no vectorised
      CPU kernel).
    """
    k = w1d.numel()
    if window == "uniform":
        cs = F.pad(x, (0, 0, 1, 0)).cumsum(dim=-2)
        y = cs[..., k:, :] - cs[..., :-k, :]
        cs = F.pad(y, (1, 0)).cumsum(dim=-1)
        return (cs[..., k:] - cs[..., :-k]) * (1.0 / (k * k))
    if x.dtype != torch.float64:
        n, c, h, w = x.shape
        y = _filter_columns(x.reshape(n * c, h, w), w1d).transpose(1, 2).contiguous()   # P×W×ho
        z = _filter_columns(y, w1d)                                                       # P×wo×ho
        return z.view(n, c, w - k + 1, h - k + 1).transpose(-1, -2)
    w = w1d.tolist()
    ho = x.shape[-2] - k + 1
    y = x[..., 0:ho, :] * w[0]
    for t in range(1, k):
        y.add_(x[..., t:t + ho, :], alpha=w[t])
    wo = x.shape[-1] - k + 1
    z = y[..., 0:wo] * w[0]
    for t in range(1, k):
        z.add_(y[..., t:t + wo], alpha=w[t])
    return z


@dataclass(frozen=True)
class _SSIMSettings:
    dtype: torch.dtype
    window: str
    w1d: torch.Tensor
    c1: torch.Tensor       # 2·C1 (0-d tensors in the compute dtype: a Python scalar costs a conversion per op)
    c2: torch.Tensor       # 2·C2 / n (n = the covariance normalisation)
    centre: torch.Tensor   # the data range R: u = x + y is centred on it

    @property
    def k(self) -> int:
        return self.w1d.numel()


@functools.lru_cache(maxsize=64)
def _cached_settings(device: torch.device, dtype: torch.dtype, data_range: float, window: str, win_size: int,
                     sigma: float, K1: float, K2: float, use_sample_covariance: bool) -> _SSIMSettings:
    w1d = _window_1d(window, win_size, sigma, dtype, device)
    np_ = win_size**2
    cov_norm = np_ / (np_ - 1) if use_sample_covariance else 1.0
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    def scalar(v):
        return torch.tensor(v, dtype=dtype, device=device)
    return _SSIMSettings(dtype, window, w1d, scalar(2.0 * c1), scalar(2.0 * c2 / cov_norm), scalar(data_range))


def _ssim_settings(a, b, data_range, window, win_size, sigma, K1, K2, use_sample_covariance,
                   precision) -> _SSIMSettings:
    if win_size is None:
        win_size = 2 * int(3.5 * sigma + 0.5) + 1 if window == "gaussian" else 7
    if a.shape != b.shape or a.dim() != 4:
        raise ValueError(f"ssim needs two N×C×H×W tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if min(a.shape[-2:]) < win_size:
        raise ValueError(f"SSIM window {win_size} exceeds the image size {tuple(a.shape[-2:])}")
    # running sums lose float32 precision over a row: the uniform window always runs in float64
    dtype = _compute_dtype(a.device, "float64" if window == "uniform" else precision)
    return _cached_settings(a.device, dtype, float(data_range), window, int(win_size), float(sigma), float(K1),
                            float(K2), bool(use_sample_covariance))


def _half_dissimilarity(x: torch.Tensor, y: torch.Tensor, st: _SSIMSettings) -> torch.Tensor:
    """(1 − SSIM) / 2 map (valid region) of same-shaped N×C×H×W tensors already in ``st.dtype``.

    Filters the sum and the difference of the images instead of the images: with u = x + y − R (R = the data
    range; centring keeps float32 exact enough) and v = x − y, one filter call takes four maps per channel,
    u, v, u² + 2C2/n and v² (n = the covariance normalisation; the window weights sum to 1, so the constant
    passes through). With ū = E[u] + R = μx + μy, ε = E[v] = μx − μy, α = Var(u) + 2C2/n (Var u =
    σx² + σy² + 2σxy) and β = Var(v) = σx² + σy² − 2σxy, Wang et al.'s two factors, each doubled, are

        2(2μxμy + C1) = A − B,  2(μx² + μy² + C1) = A + B   (A = ū² + 2C1, B = ε²),
        (2/n)(2σxy + C2) = α − β,  (2/n)(σx² + σy² + C2) = α + β,

    so SSIM = (A − B)(α − β) / ((A + B)(α + β)) = (P − Q) / (P + Q) with P = Aα + Bβ and Q = Aβ + Bα, and
    (1 − SSIM)/2 = Q / (P + Q): eleven element-wise operations after the filter, one new buffer, on dense planes
    (column-major ones from the float32 Gaussian filter; the map is then a transposed view). The deficit itself is
    what the mean needs (Σ SSIM = count − Σ(1 − SSIM)), and it has no cancellation. Where the two patches are
    identical, v = 0 in the window, so B = β = Q = 0 exactly and the deficit is exactly 0, as in skimage's float64
    arithmetic.
    """
    n, c, h, w = x.shape
    buf = torch.empty((n, 4, c, h, w), dtype=x.dtype, device=x.device)
    u, v, uu, vv = buf.unbind(1)
    torch.add(x, y, out=u).sub_(st.centre)
    torch.sub(x, y, out=v)
    torch.addcmul(st.c2, u, u, out=uu)
    torch.mul(v, v, out=vv)
    del u, v, uu, vv
    k = st.k
    filtered = _filter_valid(buf.view(n, 4 * c, h, w), st.window, st.w1d)
    del buf                                       # 4 maps freed before the formula allocates (cache reuse)
    eu, ev, euu, evv = filtered.view(n, 4, c, h - k + 1, w - k + 1).unbind(1)   # fresh: updated in place
    alpha = euu.addcmul_(eu, eu, value=-1)
    big_a = torch.addcmul(st.c1, eu.add_(st.centre), eu, out=eu)   # ū² + 2C1
    big_b = ev.square_()
    beta = evv.sub_(big_b)
    p = big_a * alpha
    p.addcmul_(big_b, beta)
    q = big_a.mul_(beta).addcmul_(big_b, alpha)
    return q.div_(p.add_(q))


def ssim_map(
    a: torch.Tensor,
    b: torch.Tensor,
    data_range: float,
    window: str = "gaussian",
    win_size: int | None = None,
    sigma: float = 1.5,
    K1: float = 0.01,
    K2: float = 0.03,
    use_sample_covariance: bool = False,
    precision: str = "float32",
) -> torch.Tensor:
    """SSIM map of N×C×H×W images over the valid region: N×C×(H−win+1)×(W−win+1).

    ``window='gaussian'`` uses taps exp(−x²/2σ²) for x in −r..r (r = win_size // 2; default win_size 11 =
    scipy's radius ``int(3.5σ + 0.5)`` for σ = 1.5, as skimage with ``gaussian_weights=True``);
    ``window='uniform'`` a box of ``win_size`` (default 7, skimage's default). With
    ``use_sample_covariance`` the (co)variances are scaled by NP/(NP−1), NP = win_size² (skimage's default);
    without it they are population (co)variances (Wang et al.). The valid region equals skimage's crop of
    (win_size−1)//2 pixels at each border. ``precision``: ``float32`` (default; Gaussian only, see the module
    docstring) or ``float64``.
    """
    st = _ssim_settings(a, b, data_range, window, win_size, sigma, K1, K2, use_sample_covariance, precision)
    return _half_dissimilarity(a.to(st.dtype), b.to(st.dtype), st).mul_(-2.0).add_(1.0).contiguous()


def _box(rows: np.ndarray, cols: np.ndarray, k: int) -> tuple[int, int, int, int] | None:
    """Box of the differing pixels from per-row and per-column sums of the squared error, grown for windows
    of size ``k`` (see :func:`differing_boxes`); None when nothing differs."""
    r, c = np.flatnonzero(rows), np.flatnonzero(cols)
    if r.size == 0:
        return None
    h, w = rows.shape[-1], cols.shape[-1]
    return max(0, int(r[0]) - k + 1), min(h, int(r[-1]) + k), max(0, int(c[0]) - k + 1), min(w, int(c[-1]) + k)


def differing_boxes(a: torch.Tensor, b: torch.Tensor, k: int = 11) -> list[tuple[slice, tuple | None]]:
    """``[(images, box)]`` for :func:`ssim` and :func:`psnr`: the image rows r0:r1 and columns c0:c1 that hold
    every pixel where a ≠ b, grown by k − 1 so that every SSIM window of size ``k`` seeing such a pixel lies
    inside (the valid map of the crop covers map rows r0:r1−k+1; map row i = image rows i..i+k−1); ``box`` None
    where a = b.

    On the CPU one entry per image (each its own box; batching images with equal boxes measured no faster: the
    wider stacks leave the cache); on other devices one entry for the whole batch (the union box). The squared
    error's sums along rows and along columns give every image's profiles (sums of non-negative values: zero iff
    all zero; ``a != b`` is ~6× slower on the CPU, measured)."""
    d2 = squared_error(a, b).detach()
    return _boxes_of(d2.sum(dim=-1).sum(dim=1).cpu().numpy(), d2.sum(dim=-2).sum(dim=1).cpu().numpy(), k, a.device)


def _boxes_of(rows: np.ndarray, cols: np.ndarray, k: int, device: torch.device) -> list:
    """:func:`differing_boxes` from the N×H row and N×W column sums of the squared error (on the host)."""
    n = rows.shape[0]
    if device.type == "cpu":
        return [(slice(i, i + 1), _box(rows[i], cols[i], k)) for i in range(n)]
    return [(slice(0, n), _box(rows.sum(0), cols.sum(0), k))]


def ssim(
    a: torch.Tensor,
    b: torch.Tensor,
    data_range: float,
    window: str = "gaussian",
    win_size: int | None = None,
    sigma: float = 1.5,
    K1: float = 0.01,
    K2: float = 0.03,
    use_sample_covariance: bool = False,
    mask: torch.Tensor | None = None,
    precision: str = "float32",
    boxes: list | None = None,
) -> torch.Tensor:
    """Per-image SSIM (N,) of N×C×H×W tensors: mean of :func:`ssim_map` over channels and the valid region.

    With ``mask`` (N×1×H×W, 1 = counted) the map is averaged over the masked pixels of the valid region only
    (NaN where none). Defaults are Wang et al. 2004; see :func:`ssim_map` for the options.

    Only the windows that see a differing pixel are filtered (module docstring): the mean is
    1 − Σ_box (1 − map)·w / Σ w, exactly the full-map mean. ``boxes``: :func:`differing_boxes` for this window
    size, when the caller already has them.
    """
    st = _ssim_settings(a, b, data_range, window, win_size, sigma, K1, K2, use_sample_covariance, precision)
    return _ssim_in_boxes(a, b, st, mask, differing_boxes(a, b, st.k) if boxes is None else boxes)


def _ssim_in_boxes(a: torch.Tensor, b: torch.Tensor, st: _SSIMSettings, mask: torch.Tensor | None,
                   boxes: list) -> torch.Tensor:
    """:func:`ssim` once the settings and the boxes are known: 1 − Σ_box (1 − map)·w / Σ w per image."""
    x, y = a.to(st.dtype), b.to(st.dtype)
    n_img, n_ch = x.shape[:2]
    k, pad = st.k, (st.k - 1) // 2
    hv, wv = x.shape[-2] - k + 1, x.shape[-1] - k + 1
    acc = torch.float32 if x.device.type == "mps" else torch.float64
    m = None
    if mask is not None:
        m = mask.to(device=x.device, dtype=st.dtype)[:, :1, pad:pad + hv, pad:pad + wv]
    if sum(g.stop - g.start for g, _ in boxes) != n_img:
        raise ValueError(f"ssim: the boxes cover {[(g.start, g.stop) for g, _ in boxes]}, not the {n_img} images; "
                         "pass differing_boxes() of these images and this window size")
    # SSIM = 1 − Σ (1 − map)·w / Σ w, the deficit summed inside the boxes only (it is 0 elsewhere)
    count = float(n_ch * hv * wv) if m is None else _image_sums(m).mul_(n_ch)
    deficit = []
    for g, box in boxes:
        if box is None:
            deficit.append(torch.zeros(g.stop - g.start, dtype=acc, device=x.device))
            continue
        r0, r1, c0, c1 = box
        half = _half_dissimilarity(x[g, :, r0:r1, c0:c1], y[g, :, r0:r1, c0:c1], st)
        if m is not None:
            half = half.mul_(m[g, :, r0:r1 - k + 1, c0:c1 - k + 1])
        deficit.append(_image_sums(half))
    total = deficit[0] if len(deficit) == 1 else torch.cat(deficit)
    return total.mul_(-2.0 / count).add_(1.0) if m is None else total.mul_(-2.0).div_(count).add_(1.0)


def psnr_ssim(
    a: torch.Tensor,
    b: torch.Tensor,
    data_range: float,
    window: str = "gaussian",
    win_size: int | None = None,
    sigma: float = 1.5,
    K1: float = 0.01,
    K2: float = 0.03,
    use_sample_covariance: bool = False,
    mask: torch.Tensor | None = None,
    precision: str = "float32",
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`psnr` and :func:`ssim` of the same images (same arguments), sharing the squared error: its sums
    along rows give PSNR's total and, with those along columns, the boxes of differing pixels (one pass over
    the images for both metrics; what :func:`pixel_values` calls)."""
    st = _ssim_settings(a, b, data_range, window, win_size, sigma, K1, K2, use_sample_covariance, precision)
    d2 = squared_error(a, b).detach()
    # the per-row sums (exact for uint8 levels up to 258 columns) and per-column sums go to the host once:
    # the boxes are searched there anyway, and numpy's small reductions cost µs where torch ops cost ~10 µs
    row_sums = d2.sum(dim=-1).cpu().numpy()                    # N×C×H
    boxes = _boxes_of(row_sums.sum(axis=1), d2.sum(dim=-2).cpu().numpy().sum(axis=1), st.k, a.device)
    if mask is None:
        sse = row_sums.sum(axis=(1, 2), dtype=np.float64)
        with np.errstate(divide="ignore"):
            p_host = 10.0 * np.log10(float(data_range) ** 2 * d2[0].numel() / sse)
        acc = torch.float32 if a.device.type == "mps" else torch.float64
        p = torch.from_numpy(p_host).to(device=a.device, dtype=acc)
    else:
        p = psnr(a, b, data_range, mask=mask, boxes=boxes)
    return p, _ssim_in_boxes(a, b, st, mask, boxes)


def masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor, scaling: float = 100.0,
              data_range: float = 255.0) -> torch.Tensor:
    """mmagic ``MAE(mask_key='mask', scaling=100)`` per image: Σ|a−b|/range·mask / (Σmask·C + 1e-12) × scaling.

    Sums accumulate in float64 (exact for uint8 levels in float32) and the range is divided out afterwards."""
    diff = (a - b.to(a.dtype)).abs_()
    m = mask.to(a.dtype)
    scale = diff.shape[1] / m.shape[1]
    return _image_sums(diff * m) / data_range / (_image_sums(m) * scale + 1e-12) * scaling


def relative_mae(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """EdgeConnect / PEN-Net ``compare_mae`` per image: Σ|a−b| / Σ(a+b) (over ``mask`` pixels if given)."""
    x, y = a, b.to(a.dtype)
    num, den = (x - y).abs_(), x + y
    if mask is not None:
        m = mask.to(a.dtype).expand_as(num)
        num, den = num * m, den * m
    return _image_sums(num) / _image_sums(den)


def hole_std(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-image variation inside the hole of N×C×H×W images in [-1, 1]: √(mean over channels of each channel's
    population variance over the hole pixels, ``mask > 0.5``), in uint8 levels (0..255, quantised as a saved PNG).

    0 for a flat colour (whatever the colour: per channel, so a coloured fill is not mistaken for variation),
    NaN for an empty hole. Two passes (mean, then squared deviations) in float64 (float32 on MPS): no cancellation.
    Returns a tensor of shape (N,)."""
    dtype = torch.float32 if x.device.type == "mps" else torch.float64
    levels = to_uint8_levels(x.detach().to(dtype))
    hole = (mask.detach()[:, :1] > 0.5).to(device=x.device, dtype=dtype)
    count = hole.sum(dim=(-2, -1), keepdim=True)                                   # N×1×1×1
    mean = (levels * hole).sum(dim=(-2, -1), keepdim=True) / count                 # N×C×1×1
    var = (levels - mean).mul_(hole).square_().sum(dim=(-2, -1)) / count.flatten(1)   # N×C
    return var.mean(dim=1).sqrt_()


def constant_fill_fraction(results: list[dict], levels: float = CONSTANT_FILL_LEVELS) -> tuple[float | None, int, int]:
    """``(fraction, constant, scored)`` of per-image results (``values`` with ``hole_std``, ``hole_std_gt``): an
    image is constant when its output varies by less than ``levels`` inside a hole where the ground truth varies by
    at least ``levels``; images with an undefined ``hole_std`` (empty hole) are not scored. ``fraction`` is None
    when no image is."""
    out = np.asarray([r["values"].get("hole_std", np.nan) for r in results], dtype=np.float64)
    gt = np.asarray([r["values"].get("hole_std_gt", np.nan) for r in results], dtype=np.float64)
    scored = ~np.isnan(out)
    constant = scored & (out < levels) & ~(gt < levels)     # a flat truth (or none recorded) cannot excuse it
    n = int(scored.sum())
    return (float(constant.sum() / n) if n else None), int(constant.sum()), n


# --------------------------------------------------------------------------------------------- protocols
@dataclass(frozen=True)
class Protocol:
    """How a pixel metric turns [-1, 1] tensors into numbers (see the module docstring).

    Attributes:
        name: protocol name used in configs and metrics.json.
        gray: evaluate skimage-``rgb2gray`` luminance instead of RGB (``ssim``, ``psnr``, ``mae_rel``).
        unit_range: evaluate on [0, 1] (uint8 levels / 255, data range 1) instead of 0..255 (data range 255).
        window, win_size, sigma, sample_covariance: the SSIM settings.
        hole_only: restrict PSNR, SSIM and relative MAE to hole pixels.
        source: reference of the recipe.
    """

    name: str
    gray: bool = False
    unit_range: bool = False
    window: str = "gaussian"
    win_size: int = 11
    sigma: float = 1.5
    sample_covariance: bool = False
    hole_only: bool = False
    source: str = ""

    @property
    def data_range(self) -> float:
        return 1.0 if self.unit_range else 255.0


PROTOCOLS: dict[str, Protocol] = {
    "paper": Protocol(
        "paper",
        source="Wang et al. 2004 SSIM (Gaussian 11, sigma 1.5, population covariance, valid region) as "
               "skimage(gaussian_weights=True, use_sample_covariance=False) / mmagic / MAT; RGB uint8 levels, "
               "whole image, mean of per-image values"),
    "edgeconnect": Protocol(
        "edgeconnect", gray=True, unit_range=True, window="uniform", win_size=51, sample_covariance=True,
        source="knazeri/edge-connect scripts/metrics.py: rgb2gray, [0,1], compare_psnr(data_range=1), "
               "compare_ssim(data_range=1, win_size=51)"),
    "pennet": Protocol(
        "pennet", window="uniform", win_size=51, sample_covariance=True,
        source="researchmm/PEN-Net-for-Inpainting core/metric.py: RGB uint8 composites, "
               "structural_similarity(multichannel=True, win_size=51)"),
    "hole": Protocol(
        "hole", hole_only=True,
        source="paper protocol restricted to hole pixels (PSNR of hole MSE, SSIM map mean over hole pixels)"),
}


def pixel_values(pred: torch.Tensor, gt: torch.Tensor, mask: torch.Tensor,
                 protocol: str | Protocol = "paper", precision: str = "float32") -> dict[str, torch.Tensor]:
    """All pixel metrics of a batch under a protocol.

    Args:
        pred, gt: N×3×H×W in [-1, 1] (quantised here to uint8 levels, as saved PNGs).
        mask: N×1×H×W, 1 = hole.
        protocol: a name of :data:`PROTOCOLS` or a :class:`Protocol`.
        precision: ``float32`` (default: uint8 levels are exact in float32, sums run in float64, Gaussian SSIM
            within ~1e-6 of float64) or ``float64`` (everything to float64 rounding). Grey-scale and [0, 1]
            protocols always run in float64.

    Returns:
        ``{'psnr', 'ssim', 'l1', 'mae_rel'}`` → float64 tensors of shape (N,).
    """
    p = PROTOCOLS[protocol] if isinstance(protocol, str) else protocol
    if pred.device.type == "cpu" and pred.shape[0] > 1:
        # image by image on the CPU: every intermediate of one 256² image stays in the cache (a batch of 8
        # streams through memory: ~2x slower per image, measured); on GPUs the batch goes at once
        parts = [pixel_values(pred[i:i + 1], gt[i:i + 1], mask[i:i + 1], p, precision)
                 for i in range(pred.shape[0])]
        return {k: torch.cat([part[k] for part in parts]) for k in parts[0]}
    dtype = _compute_dtype(pred.device, "float64" if (p.gray or p.unit_range) else precision)
    a = to_uint8_levels(pred.detach().to(dtype))
    b = to_uint8_levels(gt.detach().to(device=pred.device, dtype=dtype))
    mask = mask.detach().to(device=pred.device, dtype=dtype)
    l1 = masked_l1(a, b, mask)
    if p.unit_range:
        a, b = a / 255.0, b / 255.0
    if p.gray:
        a, b = rgb_to_gray(a), rgb_to_gray(b)
    region = mask if p.hole_only else None
    psnr_v, ssim_v = psnr_ssim(a, b, p.data_range, window=p.window, win_size=p.win_size, sigma=p.sigma,
                               use_sample_covariance=p.sample_covariance, mask=region, precision=precision)
    return {
        "psnr": psnr_v,
        "ssim": ssim_v,
        "l1": l1,
        "mae_rel": relative_mae(a, b, mask=region),
    }


# -------------------------------------------------------------------------------------------- the metric
@METRICS.register_module()
class PixelMetric(InpaintMetric):
    """PSNR, SSIM, L1 and relative MAE per image, averaged over the dataset.

    Args:
        protocol (str): one of ``paper`` (default), ``edgeconnect``, ``pennet``, ``hole`` (module docstring).
        source (str): which prediction is scored: ``composite`` (default; known pixels = ground truth) or
            ``raw`` (the generator output).
        precision (str): ``float32`` (default) or ``float64`` arithmetic (see :func:`pixel_values`); written
            into ``metrics.json``.
        psnr_max (float): per-image PSNR cap in dB (default :data:`PSNR_MAX` = 100): each image scores
            ``min(PSNR, psnr_max)``, so an exact reconstruction (PSNR ``inf``) gives ``psnr_max``, not an
            infinite (null) set mean; ``reasons['psnr']`` counts the images at the cap. Written into metrics.json.
        collect_device, prefix: see :class:`bench.metrics.base.InpaintMetric`.

    Values: ``psnr`` (dB), ``ssim``, ``l1`` (mmagic masked MAE ×100), ``mae_rel`` (Σ|a−b|/Σ(a+b)).
    Per-image values are kept in each result's ``values``; the dataset value is their mean (PSNR: mean of
    per-image capped PSNR, not PSNR of the pooled MSE). Images whose value is undefined (NaN, e.g. an empty
    hole under the ``hole`` protocol) are left out of that mean and counted in ``reasons``.

    The constant-output guard (module docstring): per image also ``hole_std`` (the scored output's
    :func:`hole_std`, uint8 levels) and ``hole_std_gt`` (the ground truth's), into ``per_image.csv`` and not
    averaged; for the set ``constant_fill``, the fraction of images whose output is constant inside a hole where the
    truth is not (:func:`constant_fill_fraction`, threshold :data:`CONSTANT_FILL_LEVELS`); ``reasons`` counts them.
    """

    names = ("psnr", "ssim", "l1", "mae_rel")
    variation_names = ("hole_std", "hole_std_gt")   # per image only (the constant-output guard)
    default_prefix = "pixel"

    def __init__(self, protocol: str = "paper", source: str = "composite", precision: str = "float32",
                 psnr_max: float = PSNR_MAX, collect_device: str = "cpu", prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if protocol not in PROTOCOLS:
            raise KeyError(f"unknown pixel-metric protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
        if source not in ("composite", "raw"):
            raise ValueError(f"source must be 'composite' or 'raw', got {source!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        if not (isinstance(psnr_max, (int, float)) and 0 < psnr_max < float("inf")):
            raise ValueError(f"psnr_max must be a finite number of dB > 0, got {psnr_max!r}")
        self.protocol = PROTOCOLS[protocol]
        self.source = source
        self.precision = precision
        self.psnr_max = float(psnr_max)

    def process(self, data_batch: dict, data_samples) -> None:
        pred = self._stack(data_samples, self.source)
        device = pred.device
        gt = data_batch["img"].to(device)
        mask = data_batch["mask"].to(device)
        vals = pixel_values(pred, gt, mask, self.protocol, self.precision)
        vals["psnr"] = vals["psnr"].clamp(max=self.psnr_max)   # inf (exact) -> the cap; NaN stays NaN
        vals["hole_std"] = hole_std(pred, mask).to(vals["psnr"].dtype)
        vals["hole_std_gt"] = hole_std(gt, mask).to(vals["psnr"].dtype)
        keys = self.names + self.variation_names
        table = torch.stack([vals[n] for n in keys], dim=1).cpu().tolist()
        for meta, row in zip(self._metas(data_batch, data_samples), table):
            self.results.append(self._entry(meta, dict(zip(keys, map(float, row)))))

    def compute_metrics(self, results: list) -> dict:
        """Means of the per-image values; every rule that changed what was averaged is said in ``reasons``."""
        self.reasons = {}
        out = {}
        n = len(results)
        for name in self.names:
            vals = np.asarray([r["values"].get(name, np.nan) for r in results], dtype=np.float64)
            notes = []
            if name == "psnr":   # results resumed from an older state may hold uncapped values
                capped = int(np.count_nonzero(vals >= self.psnr_max))
                if capped:
                    notes.append(f"{capped} of {n} image(s) reached the {self.psnr_max:g} dB cap (exact or "
                                 f"near-exact reconstruction; per-image PSNR = min(PSNR, {self.psnr_max:g} dB))")
                    results = [{**r, "values": {**r["values"], name: min(v, self.psnr_max)}}
                               for r, v in zip(results, vals)]
            out[name], reason = mean_of_values(results, name)
            undefined = int(np.count_nonzero(np.isnan(vals)))
            if reason:
                notes.insert(0, reason)
            elif undefined:
                notes.append(f"{undefined} of {n} image(s) have no defined {name} (e.g. an empty hole) and are "
                             f"left out of the mean")
            if notes:
                self.reasons[name] = "; ".join(notes)
        out["constant_fill"], constant, scored = constant_fill_fraction(results)
        if scored == 0:
            self.reasons["constant_fill"] = "no image has a hole to measure (hole_std undefined for every image)"
        elif constant:
            self.reasons["constant_fill"] = (
                f"{constant} of {scored} image(s) have a constant output inside the hole (hole_std < "
                f"{CONSTANT_FILL_LEVELS:g} grey level where the ground truth varies): a flat fill, not a learned one")
        return out

    def describe(self) -> dict:
        d = super().describe()
        d.update(protocol=self.protocol.name, source=self.source, settings=asdict(self.protocol),
                 precision=self.precision, psnr_max=self.psnr_max,
                 psnr_rule=f"per-image PSNR = min(PSNR, {self.psnr_max:g} dB); images at the cap counted in reasons",
                 quantisation="round(clip((x+1)*127.5, 0, 255)) (uint8 levels, as a saved PNG)",
                 l1="mmagic MAE(mask_key='mask', scaling=100): sum|gt-pred|/255*mask/(sum(mask)*C)*100",
                 mae_rel="sum|a-b|/sum(a+b) (EdgeConnect/PEN-Net compare_mae)",
                 aggregation="mean of per-image values",
                 hole_std="per image: sqrt(mean over RGB channels of the variance over hole pixels), uint8 levels; "
                          "hole_std_gt: the same of the ground truth; not averaged",
                 constant_fill=f"fraction of images with hole_std < {CONSTANT_FILL_LEVELS:g} and "
                               f"hole_std_gt >= {CONSTANT_FILL_LEVELS:g} (a flat fill where the truth varies)")
        return d


__all__ = [
    "CONSTANT_FILL_LEVELS",
    "GRAY_WEIGHTS",
    "PSNR_MAX",
    "constant_fill_fraction",
    "differing_boxes",
    "hole_std",
    "squared_error",
    "PRECISIONS",
    "PROTOCOLS",
    "PixelMetric",
    "Protocol",
    "masked_l1",
    "pixel_values",
    "psnr",
    "psnr_ssim",
    "relative_mae",
    "rgb_to_gray",
    "ssim",
    "ssim_map",
]
