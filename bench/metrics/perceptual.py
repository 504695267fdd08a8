"""LPIPS (Zhang et al. 2018) through the ``lpips`` 0.1.4 package: v0.1, AlexNet trunk by default.

The ``lpips`` wheel ships only the linear layers (``weights/v0.1/<net>.pth``); its trunk is torchvision's
ImageNet AlexNet/VGG16, which lpips would download. Here lpips is built with ``pnet_rand=True`` (no download) and
the trunk's weights are loaded by us from the file :func:`bench.metrics.weights.resolve_lpips_backbone` finds
(``torch.load(weights_only=True)``), mapping torchvision's ``features.<i>.*`` onto lpips' ``slice<k>.<i>.*``.
Without the file the value is None with a reason naming the file and where to put it — never a random trunk,
unless ``random_backbone=True`` is asked for explicitly (tests of the plumbing; ``describe()`` says so).

Values are per image on the same uint8-quantised [-1, 1] images as the pixel metrics; the dataset value is the
mean. Always report the backbone: alex and vgg values are not comparable (LaMa reports VGG).
"""
from __future__ import annotations

import threading

import torch

from bench.registry import METRICS

from . import weights as W
from .base import InpaintMetric, mean_of_values, to_uint8_levels

_LOCK = threading.Lock()
_MODELS: dict[tuple, torch.nn.Module] = {}


def load_trunk(model: torch.nn.Module, state_dict: dict) -> None:
    """Load a torchvision ``alexnet``/``vgg16`` state dict into an ``lpips.LPIPS`` model's trunk (strict).

    lpips' trunk (``model.net``) holds torchvision's ``features[i]`` as ``slice<k>.<i>``, so
    ``slice<k>.<i>.<param>`` ← ``features.<i>.<param>``.
    """
    mapped = {}
    for key in model.net.state_dict():
        _, index, param = key.split(".", 2)
        src = f"features.{index}.{param}"
        if src not in state_dict:
            raise KeyError(f"{src} missing: not a torchvision {type(model.net).__name__} state dict")
        mapped[key] = state_dict[src]
    model.net.load_state_dict(mapped, strict=True)


def build_lpips(net: str = "alex", trunk_state_dict: dict | None = None, random_seed: int | None = None):
    """An ``lpips.LPIPS`` v0.1 model (linear layers from the wheel) with the given trunk weights.

    ``trunk_state_dict=None`` requires ``random_seed``: the trunk stays randomly initialised (NOT LPIPS).
    """
    import lpips

    if trunk_state_dict is None and random_seed is None:
        raise ValueError("LPIPS needs trunk weights; a random trunk must be asked for with random_seed=")
    with torch.random.fork_rng(devices=[]):
        if random_seed is not None:
            torch.manual_seed(random_seed)
        model = lpips.LPIPS(pretrained=True, net=net, version="0.1", pnet_rand=True, verbose=False)
    if trunk_state_dict is not None:
        load_trunk(model, trunk_state_dict)
    return model.eval().requires_grad_(False)


def get_lpips(net: str, trunk_file: str | None, device, random_seed: int | None = None) -> torch.nn.Module:
    """The process-wide LPIPS model for (net, trunk file or random seed) on ``device``."""
    device = torch.device(device)
    key = (net, str(trunk_file), random_seed, str(device))
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            sd = W.load_state_dict_file(trunk_file) if trunk_file is not None else None
            model = build_lpips(net, sd, random_seed=None if sd is not None else random_seed).to(device)
            if device.type == "cpu":   # oneDNN's NHWC convolutions: ~1.15x faster on CPU, same values (1e-8)
                model = model.to(memory_format=torch.channels_last)
            _MODELS[key] = model
    return model


@torch.inference_mode()
def lpips_distance(model: torch.nn.Module, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image LPIPS (N,) of N×3×H×W images in [-1, 1]."""
    device = next(model.parameters()).device
    return model(a.to(device).float(), b.to(device).float()).flatten()


@METRICS.register_module()
class LPIPSMetric(InpaintMetric):
    """LPIPS v0.1 between outputs and ground truth (lower is better).

    Args:
        net (str): ``alex`` (default; lpips' recommended forward metric) or ``vgg``.
        backbone_weights (str, optional): torchvision state dict of the trunk; else env ``BENCH_LPIPS_BACKBONE``,
            ``$TORCH_HOME/hub/checkpoints/<torchvision file>``, download.
        allow_download (bool): let the resolution download torchvision's file as a last resort.
        random_backbone (bool): use a randomly initialised trunk (seeded) — NOT LPIPS; only for tests of the
            plumbing. Recorded in ``describe()``.
        seed (int): seed of the random trunk.
        source (str): ``composite`` (default) or ``raw``.

    Value: ``lpips`` (mean of per-image values).
    """

    names = ("lpips",)
    default_prefix = "lpips"

    def __init__(self, net: str = "alex", backbone_weights: str | None = None, allow_download: bool = True,
                 random_backbone: bool = False, seed: int = 0, source: str = "composite",
                 collect_device: str = "cpu", prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if net not in W.LPIPS_BACKBONES:
            raise KeyError(f"LPIPS net must be one of {', '.join(W.LPIPS_BACKBONES)}, got {net!r}")
        if source not in ("composite", "raw"):
            raise ValueError(f"source must be 'composite' or 'raw', got {source!r}")
        self.net = net
        self.backbone_weights = backbone_weights
        self.allow_download = allow_download
        self.random_backbone = random_backbone
        self.seed = seed
        self.source = source
        self._resolution: W.Resolution | None = None
        self._error: str | None = None

    def resolve(self) -> W.Resolution | None:
        if self.random_backbone:
            return None
        if self._resolution is None:
            self._resolution = W.resolve_lpips_backbone(self.net, self.backbone_weights, self.allow_download)
        return self._resolution

    def _model(self, device):
        if self.random_backbone:
            return get_lpips(self.net, None, device, random_seed=self.seed), None
        res = self.resolve()
        if res.found is None:
            return None, res.reason
        if self._error:
            return None, self._error
        try:
            return get_lpips(self.net, res.found, device), None
        except Exception as exc:   # noqa: BLE001 - a wrong file becomes the reason, not a crash
            self._error = f"could not load the LPIPS {self.net} trunk from {res.found}: {type(exc).__name__}: {exc}"
            return None, self._error

    def process(self, data_batch: dict, data_samples) -> None:
        metas = self._metas(data_batch, data_samples)
        pred = self._stack(data_samples, self.source)
        model, reason = self._model(pred.device)
        if model is None:
            for meta in metas:
                self.results.append(self._entry(meta, lpips_missing=reason))
            return
        a = to_uint8_levels(pred.detach().float()) / 127.5 - 1.0
        b = to_uint8_levels(data_batch["img"].detach().to(pred.device).float()) / 127.5 - 1.0
        values = lpips_distance(model, a, b).cpu().tolist()
        for meta, v in zip(metas, values):
            self.results.append(self._entry(meta, {"lpips": float(v)}))

    def compute_metrics(self, results: list) -> dict:
        self.reasons = {}
        missing = next((r.get("lpips_missing") for r in results if r.get("lpips_missing")), None)
        if missing:
            self.reasons["lpips"] = missing
            return {"lpips": None}
        value, reason = mean_of_values(results, "lpips")
        if reason:
            self.reasons["lpips"] = reason
        return {"lpips": value}

    def describe(self) -> dict:
        d = super().describe()
        backbone = {"alex": "AlexNet", "vgg": "VGG16"}[self.net]
        if self.random_backbone:
            d.update(backbone=f"{backbone} RANDOM trunk (seed {self.seed}) - NOT LPIPS, plumbing test only",
                     weights=None)
        else:
            res = self.resolve()   # resolves now, so describe() is the same before and after the first batch
            d.update(backbone=f"{backbone} (torchvision ImageNet)", weights=res.found, weights_source=res.source)
        d.update(net=self.net, version="0.1", package="lpips 0.1.4", linear_weights=str(W.lpips_linear_file(self.net)),
                 source=self.source, input="uint8-quantised images mapped to [-1, 1]")
        return d
