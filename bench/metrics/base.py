"""What every inpaint-bench metric shares: the batch plumbing of the evaluation contract.

The evaluation loop (``bench/evaluation.py``) calls ``process(data_batch, data_samples)`` once per batch and
``compute_metrics(results)`` once per mask set. ``data_batch`` is the collated batch (``img`` B×3×H×W in [-1, 1],
``mask`` B×1×H×W with 1 = hole, optional ``seg`` B×H×W int64 with 255 = ignore, ``meta`` list of dicts);
``data_samples`` is the model's predict output (one dict per sample: ``raw``, ``composite``, optional
``seg_logits``, ``meta``). Every entry appended to ``self.results`` is a small picklable dict
``{'index', 'file', 'hole_ratio', 'values': {name: float}, ...}`` so an interrupted evaluation can be resumed
from the pickled per-batch results.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from mmengine.evaluator import BaseMetric


def to_uint8_levels(x: torch.Tensor) -> torch.Tensor:
    """Map [-1, 1] images to the integer levels 0..255 a saved PNG would hold (still a float tensor).

    ``round(clip((x + 1) * 127.5, 0, 255))``; ``torch.round`` rounds half to even, as numpy does.
    """
    return ((x + 1.0) * 127.5).clamp_(0.0, 255.0).round_()


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float images → ``torch.uint8`` (see :func:`to_uint8_levels`)."""
    return to_uint8_levels(x.detach().float()).to(torch.uint8)


class InpaintMetric(BaseMetric):
    """Base class of the streaming metrics of inpaint-bench.

    Subclasses set ``names`` (the dataset-level values they produce) and implement ``process`` /
    ``compute_metrics``; values that cannot be computed are returned as ``None`` with the reason in
    ``self.reasons[name]``.

    Args:
        collect_device (str): mmengine's device for collecting results across ranks ('cpu' or 'gpu').
        prefix (str, optional): prefix mmengine's ``evaluate`` adds to the names (``prefix/name``);
            defaults to the class' ``default_prefix``. ``compute_metrics`` itself never prefixes.
    """

    names: tuple = ()

    def __init__(self, collect_device: str = "cpu", prefix: str | None = None, **kwargs) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, **kwargs)
        self.reasons: dict[str, str] = {}

    # ----------------------------------------------------------------------------------------- helpers
    @staticmethod
    def _metas(data_batch: dict, data_samples: Sequence[dict]) -> list[dict]:
        """One meta dict per sample: the prediction's ``meta`` when it has one, else the batch's."""
        batch_meta = data_batch.get("meta") if isinstance(data_batch, dict) else None
        metas = []
        for i, sample in enumerate(data_samples):
            meta = sample.get("meta") if isinstance(sample, dict) else None
            if meta is None and batch_meta is not None:
                meta = batch_meta[i]
            metas.append(meta or {})
        return metas

    @staticmethod
    def _stack(data_samples: Sequence[dict], key: str, device: torch.device | None = None) -> torch.Tensor:
        """Stack ``sample[key]`` of every prediction into one batch tensor (on ``device`` if given)."""
        tensors = [torch.as_tensor(s[key]) for s in data_samples]
        out = torch.stack(tensors) if len(tensors) > 1 else tensors[0].unsqueeze(0)
        return out if device is None else out.to(device)

    @staticmethod
    def _entry(meta: dict, values: dict | None = None, **extra: Any) -> dict:
        """The per-sample result dict of the evaluation contract."""
        hole_ratio = meta.get("hole_ratio")
        entry = {
            "index": int(meta.get("index", -1)),
            "file": str(meta.get("file", "")),
            "hole_ratio": float(hole_ratio) if hole_ratio is not None else float("nan"),
            "values": dict(values or {}),
        }
        entry.update(extra)
        return entry

    def describe(self) -> dict:
        """What produced the values (goes into metrics.json); subclasses extend it."""
        return {"metric": type(self).__name__, "names": list(self.names)}


def mean_of_values(results: list[dict], name: str) -> tuple[float | None, str | None]:
    """Mean of a per-image value over the results, NaNs (undefined for an image) left out.

    Returns ``(value, reason)``; ``value`` is None (with a reason) when no image has a defined value.
    An infinite per-image value (e.g. PSNR of an exact reconstruction) makes the mean infinite.
    """
    vals = np.asarray([r["values"].get(name, np.nan) for r in results], dtype=np.float64)
    if vals.size == 0:
        return None, "no images were evaluated"
    ok = ~np.isnan(vals)
    if not ok.any():
        return None, f"{name} is undefined for every image (e.g. empty hole)"
    return float(vals[ok].mean()), None
