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

In every protocol ``l1`` is mmagic's ``MAE(mask_key='mask', scaling=100)``: Σ|gt−pred|/255·mask /
(Σmask·C) × 100 on the uint8 levels (the hole only), and ``mae_rel`` is EdgeConnect/PEN-Net's
Σ|a−b| / Σ(a+b) in the protocol's colour space.

All functions take N×C×H×W torch tensors, run on the input's device and compute in float64 (float32 on devices
without float64), reproducing skimage to float rounding. SSIM filters its five moments with a separable window:
shifted multiply-adds for the Gaussian, running sums for the uniform window (a float64 grouped ``conv2d`` has no
vectorised CPU kernel: 4 img/s measured). On GPUs the whole batch goes through at once; on the CPU the images
and channels go one by one on one thread, which keeps each plane in cache (same numbers, tested).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from bench.registry import METRICS

from .base import InpaintMetric, mean_of_values, to_uint8_levels

# skimage.color.rgb2gray (ITU-R BT.709 luma, as skimage documents)
GRAY_WEIGHTS = (0.2125, 0.7154, 0.0721)


# --------------------------------------------------------------------------------------- pure functions
# CPU: image by image and plane by plane, on one thread (cache-resident); other devices: the whole batch at
# once. Tests set this False to run the batched (GPU) code path on the CPU.
CPU_PER_PLANE = True


def _per_plane(device: torch.device) -> bool:
    return device.type == "cpu" and CPU_PER_PLANE


def _compute_dtype(device: torch.device) -> torch.dtype:
    return torch.float32 if device.type == "mps" else torch.float64


def rgb_to_gray(x: torch.Tensor) -> torch.Tensor:
    """N×3×H×W → N×1×H×W with skimage's ``rgb2gray`` weights (0.2125, 0.7154, 0.0721)."""
    w = torch.tensor(GRAY_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Per-image PSNR in dB of N×C×H×W tensors: ``10·log10(data_range² / MSE)``.

    Args:
        a, b: images (any float or integer dtype; computed in float64).
        data_range: the value range of the images (255 for uint8 levels, 1 for [0, 1]).
        mask: optional N×1×H×W (or N×C×H×W) weights, 1 = pixel counted; the MSE is then
            Σ diff²·mask / (Σmask · C) (all channels of a masked pixel count). NaN where the mask is empty.

    Returns:
        float64 tensor of shape (N,); ``inf`` where the images are identical.
    """
    dtype = _compute_dtype(a.device)
    diff2 = (a.to(dtype) - b.to(dtype)).pow(2)
    if mask is None:
        mse = diff2.flatten(1).mean(dim=1)
    else:
        m = mask.to(dtype).expand_as(diff2)
        mse = (diff2 * m).flatten(1).sum(dim=1) / m.flatten(1).sum(dim=1)
    return 10.0 * torch.log10(float(data_range) ** 2 / mse)


def _window_1d(window: str, win_size: int, sigma: float, dtype, device) -> torch.Tensor:
    if win_size % 2 != 1 or win_size < 1:
        raise ValueError(f"SSIM window size must be odd and positive, got {win_size}")
    if window == "gaussian":
        r = win_size // 2
        x = torch.arange(-r, r + 1, dtype=dtype, device=device)
        w = torch.exp(-0.5 * (x / sigma) ** 2)
        return w / w.sum()
    if window == "uniform":
        return torch.full((win_size,), 1.0 / win_size, dtype=dtype, device=device)
    raise ValueError(f"unknown SSIM window {window!r}; choose 'gaussian' or 'uniform'")


def _filter_valid(x: torch.Tensor, window: str, w1d: torch.Tensor) -> torch.Tensor:
    """Separable 2-D filter of every channel of N×C×H×W with the 1-D window ``w1d``, valid region only.

    Uniform windows use running sums (``cumsum``); other windows a sum of shifted slices (one
    multiply-add over the batch per tap). On CPU both are several times faster than a float64 grouped
    ``conv2d`` (which has no vectorised kernel) and exact to float64 rounding.
    """
    k = w1d.numel()
    if window == "uniform":
        cs = F.pad(x, (0, 0, 1, 0)).cumsum(dim=-2)
        y = cs[..., k:, :] - cs[..., :-k, :]
        cs = F.pad(y, (1, 0)).cumsum(dim=-1)
        return (cs[..., k:] - cs[..., :-k]) * (1.0 / (k * k))
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


def _ssim_settings(a, b, data_range, window, win_size, sigma, K1, K2, use_sample_covariance):
    if win_size is None:
        win_size = 2 * int(3.5 * sigma + 0.5) + 1 if window == "gaussian" else 7
    if a.shape != b.shape or a.dim() != 4:
        raise ValueError(f"ssim needs two N×C×H×W tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if min(a.shape[-2:]) < win_size:
        raise ValueError(f"SSIM window {win_size} exceeds the image size {tuple(a.shape[-2:])}")
    dtype = _compute_dtype(a.device)
    w1d = _window_1d(window, win_size, sigma, dtype, a.device)
    np_ = win_size**2
    cov_norm = np_ / (np_ - 1) if use_sample_covariance else 1.0
    return dtype, w1d, (K1 * data_range) ** 2, (K2 * data_range) ** 2, cov_norm


def _ssim_of(x, y, window, w1d, c1, c2, cov_norm):
    """SSIM map of same-shaped ``…×H×W`` tensors (valid region)."""
    ux = _filter_valid(x, window, w1d)
    uy = _filter_valid(y, window, w1d)
    uxx = _filter_valid(x * x, window, w1d)
    uyy = _filter_valid(y * y, window, w1d)
    uxy = _filter_valid(x * y, window, w1d)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    num = (2 * ux * uy + c1) * (2 * vxy + c2)
    den = (ux * ux + uy * uy + c1) * (vx + vy + c2)
    return num / den


def _planes(a: torch.Tensor):
    """On CPU, (image, channel) planes one at a time (a 256² float64 plane fits the L2 cache: ~1.5× faster
    than filtering the whole batch at once on one thread, measured). Elsewhere: the whole batch at once."""
    if not _per_plane(a.device):
        yield slice(None), slice(None)
        return
    for n in range(a.shape[0]):
        for c in range(a.shape[1]):
            yield slice(n, n + 1), slice(c, c + 1)


@contextmanager
def _one_thread_on_cpu(device: torch.device):
    """Run the per-plane CPU loop on one intra-op thread (restored afterwards).

    Each op of the loop touches one 256² plane (~50 µs); splitting it over threads costs more in
    synchronisation than it saves, and on a busy machine a descheduled worker stalls every op (measured on
    2 shared cores: 1.0 img/s with 2 threads vs 48 img/s with 1). Affects only this process' torch ops
    issued while the loop runs.
    """
    if not _per_plane(device) or torch.get_num_threads() == 1:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
) -> torch.Tensor:
    """SSIM map of N×C×H×W images over the valid region: N×C×(H−win+1)×(W−win+1).

    ``window='gaussian'`` uses taps exp(−x²/2σ²) for x in −r..r (r = win_size // 2; default win_size 11 =
    scipy's radius ``int(3.5σ + 0.5)`` for σ = 1.5, as skimage with ``gaussian_weights=True``);
    ``window='uniform'`` a box of ``win_size`` (default 7, skimage's default). With
    ``use_sample_covariance`` the (co)variances are scaled by NP/(NP−1), NP = win_size² (skimage's default);
    without it they are population (co)variances (Wang et al.). The valid region equals skimage's crop of
    (win_size−1)//2 pixels at each border.
    """
    dtype, w1d, c1, c2, cov_norm = _ssim_settings(a, b, data_range, window, win_size, sigma, K1, K2,
                                                  use_sample_covariance)
    x, y = a.to(dtype), b.to(dtype)
    if not _per_plane(a.device):
        return _ssim_of(x, y, window, w1d, c1, c2, cov_norm)
    with _one_thread_on_cpu(x.device):
        rows = [torch.cat([_ssim_of(x[n, c], y[n, c], window, w1d, c1, c2, cov_norm)[None, None]
                           for c in range(x.shape[1])], dim=1) for n in range(x.shape[0])]
    return torch.cat(rows, dim=0)


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
) -> torch.Tensor:
    """Per-image SSIM (N,) of N×C×H×W tensors: mean of :func:`ssim_map` over channels and the valid region.

    With ``mask`` (N×1×H×W, 1 = counted) the map is averaged over the masked pixels of the valid region only
    (NaN where none). Defaults are Wang et al. 2004; see :func:`ssim_map` for the options.
    """
    dtype, w1d, c1, c2, cov_norm = _ssim_settings(a, b, data_range, window, win_size, sigma, K1, K2,
                                                  use_sample_covariance)
    x, y = a.to(dtype), b.to(dtype)
    n_img, n_ch = x.shape[:2]
    k = w1d.numel()
    pad = (k - 1) // 2
    hv, wv = x.shape[-2] - k + 1, x.shape[-1] - k + 1
    m = None
    if mask is not None:
        m = mask.to(device=x.device, dtype=dtype)[:, :1, pad:pad + hv, pad:pad + wv]
    total = torch.zeros(n_img, dtype=dtype, device=x.device)
    with _one_thread_on_cpu(x.device):
        for i, c in _planes(x):
            s = _ssim_of(x[i, c], y[i, c], window, w1d, c1, c2, cov_norm)     # n×c×hv×wv (views keep dims)
            if m is not None:
                s = s * m[i]
            total[i] += s.sum(dim=(1, 2, 3))
    count = (m.sum(dim=(1, 2, 3)) * n_ch) if m is not None else torch.full_like(total, n_ch * hv * wv)
    return total / count


def masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor, scaling: float = 100.0,
              data_range: float = 255.0) -> torch.Tensor:
    """mmagic ``MAE(mask_key='mask', scaling=100)`` per image: Σ|a−b|/range·mask / (Σmask·C + 1e-12) × scaling."""
    dtype = _compute_dtype(a.device)
    diff = (a.to(dtype) - b.to(dtype)).abs() / data_range
    m = mask.to(dtype)
    scale = diff.shape[1] / m.shape[1]
    return (diff * m).flatten(1).sum(dim=1) / (m.flatten(1).sum(dim=1) * scale + 1e-12) * scaling


def relative_mae(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """EdgeConnect / PEN-Net ``compare_mae`` per image: Σ|a−b| / Σ(a+b) (over ``mask`` pixels if given)."""
    dtype = _compute_dtype(a.device)
    x, y = a.to(dtype), b.to(dtype)
    num, den = (x - y).abs(), x + y
    if mask is not None:
        m = mask.to(dtype).expand_as(num)
        num, den = num * m, den * m
    return num.flatten(1).sum(dim=1) / den.flatten(1).sum(dim=1)


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
                 protocol: str | Protocol = "paper") -> dict[str, torch.Tensor]:
    """All pixel metrics of a batch under a protocol.

    Args:
        pred, gt: N×3×H×W in [-1, 1] (quantised here to uint8 levels, as saved PNGs).
        mask: N×1×H×W, 1 = hole.
        protocol: a name of :data:`PROTOCOLS` or a :class:`Protocol`.

    Returns:
        ``{'psnr', 'ssim', 'l1', 'mae_rel'}`` → float64 tensors of shape (N,).
    """
    p = PROTOCOLS[protocol] if isinstance(protocol, str) else protocol
    if _per_plane(pred.device) and pred.shape[0] > 1:
        # image by image, on one thread: cache-resident planes (see _one_thread_on_cpu), ~2× faster on CPU
        with _one_thread_on_cpu(pred.device):
            parts = [pixel_values(pred[i:i + 1], gt[i:i + 1], mask[i:i + 1], p) for i in range(pred.shape[0])]
        return {k: torch.cat([part[k] for part in parts]) for k in parts[0]}
    dtype = _compute_dtype(pred.device)
    a = to_uint8_levels(pred.detach().to(dtype))
    b = to_uint8_levels(gt.detach().to(device=pred.device, dtype=dtype))
    mask = mask.detach().to(device=pred.device, dtype=dtype)
    l1 = masked_l1(a, b, mask)
    if p.unit_range:
        a, b = a / 255.0, b / 255.0
    if p.gray:
        a, b = rgb_to_gray(a), rgb_to_gray(b)
    region = mask if p.hole_only else None
    return {
        "psnr": psnr(a, b, p.data_range, mask=region),
        "ssim": ssim(a, b, p.data_range, window=p.window, win_size=p.win_size, sigma=p.sigma,
                     use_sample_covariance=p.sample_covariance, mask=region),
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
        collect_device, prefix: see :class:`bench.metrics.base.InpaintMetric`.

    Values: ``psnr`` (dB), ``ssim``, ``l1`` (mmagic masked MAE ×100), ``mae_rel`` (Σ|a−b|/Σ(a+b)).
    Per-image values are kept in each result's ``values``; the dataset value is their mean (PSNR: mean of
    per-image PSNR, not PSNR of the pooled MSE). A perfect reconstruction has PSNR ``inf``.
    """

    names = ("psnr", "ssim", "l1", "mae_rel")
    default_prefix = "pixel"

    def __init__(self, protocol: str = "paper", source: str = "composite", collect_device: str = "cpu",
                 prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if protocol not in PROTOCOLS:
            raise KeyError(f"unknown pixel-metric protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
        if source not in ("composite", "raw"):
            raise ValueError(f"source must be 'composite' or 'raw', got {source!r}")
        self.protocol = PROTOCOLS[protocol]
        self.source = source

    def process(self, data_batch: dict, data_samples) -> None:
        pred = self._stack(data_samples, self.source)
        device = pred.device
        gt = data_batch["img"].to(device)
        mask = data_batch["mask"].to(device)
        vals = pixel_values(pred, gt, mask, self.protocol)
        table = torch.stack([vals[n] for n in self.names], dim=1).cpu().tolist()
        for meta, row in zip(self._metas(data_batch, data_samples), table):
            self.results.append(self._entry(meta, dict(zip(self.names, map(float, row)))))

    def compute_metrics(self, results: list) -> dict:
        self.reasons = {}
        out = {}
        for name in self.names:
            out[name], reason = mean_of_values(results, name)
            if reason:
                self.reasons[name] = reason
        return out

    def describe(self) -> dict:
        d = super().describe()
        d.update(protocol=self.protocol.name, source=self.source, settings=asdict(self.protocol),
                 quantisation="round(clip((x+1)*127.5, 0, 255)) (uint8 levels, as a saved PNG)",
                 l1="mmagic MAE(mask_key='mask', scaling=100): sum|gt-pred|/255*mask/(sum(mask)*C)*100",
                 mae_rel="sum|a-b|/sum(a+b) (EdgeConnect/PEN-Net compare_mae)",
                 aggregation="mean of per-image values")
        return d


__all__ = [
    "GRAY_WEIGHTS",
    "PROTOCOLS",
    "PixelMetric",
    "Protocol",
    "masked_l1",
    "pixel_values",
    "psnr",
    "relative_mae",
    "rgb_to_gray",
    "ssim",
    "ssim_map",
]
