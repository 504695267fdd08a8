"""mIoU of the segmentation that semantic-guided methods predict alongside the inpainted image (paper Table 2).

For methods whose predictions carry ``seg_logits`` (k×H×W) on datasets with labels (``seg``, 255 = ignore):
argmax of the logits against the labels, over the whole image (``miou``) and over the hole only
(``miou_hole``). Per image, a k×k confusion matrix (rows = label, columns = prediction, int64) is kept in the
results; the dataset values sum them and use mmsegmentation 1.2.2's ``IoUMetric.total_area_to_metrics``
(IoU = intersect / union per class; classes with an empty union are NaN and left out of the mean, as
``IoUMetric`` does). Values are fractions in [0, 1] (mmsegmentation prints percentages).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from bench.registry import METRICS

from .base import InpaintMetric

NO_LABELS = "dataset has no labels"
NO_LOGITS = "method does not predict segmentation"


def confusion_matrices(pred: torch.Tensor, label: torch.Tensor, num_classes: int, ignore_index: int = 255,
                       region: torch.Tensor | None = None) -> torch.Tensor:
    """Per-image confusion matrices B×k×k (int64; [i, j] = pixels labelled i predicted j).

    Args:
        pred: B×H×W predicted class ids.
        label: B×H×W ground-truth ids; ``ignore_index`` and ids outside [0, k) are not counted.
        region: optional B×H×W (or B×1×H×W) bool/0-1 map of the pixels to count (e.g. the hole).
    """
    b = pred.shape[0]
    k = int(num_classes)
    label = label.long()
    pred = pred.long()
    valid = (label != ignore_index) & (label >= 0) & (label < k)
    if region is not None:
        valid &= region.reshape(label.shape).bool()
    img = torch.arange(b, device=pred.device).view(b, 1, 1).expand_as(label)
    idx = (img * k * k + label.clamp(0, k - 1) * k + pred.clamp(0, k - 1))[valid]
    return torch.bincount(idx, minlength=b * k * k).view(b, k, k)


def iou_from_confusion(conf: np.ndarray) -> dict:
    """``{'IoU': per-class array, 'aAcc': float}`` from a summed k×k confusion matrix, by mmseg's IoUMetric."""
    from mmseg.evaluation.metrics import IoUMetric

    conf = torch.as_tensor(np.asarray(conf, dtype=np.float64))
    intersect = torch.diagonal(conf)
    area_label = conf.sum(dim=1)
    area_pred = conf.sum(dim=0)
    union = area_label + area_pred - intersect
    with np.errstate(divide="ignore", invalid="ignore"):
        m = IoUMetric.total_area_to_metrics(intersect, union, area_pred, area_label, metrics=["mIoU"])
    return {"IoU": np.asarray(m["IoU"], dtype=np.float64), "aAcc": float(m["aAcc"])}


def _nanmean(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return float(np.nanmean(x)) if np.isfinite(x).any() else float("nan")


@METRICS.register_module()
class SegmentationMetric(InpaintMetric):
    """mIoU of predicted segmentations (whole image and hole).

    Args:
        class_names (sequence of str, optional): class names (their number = k); else ``class_0..`` from the logits.
        num_classes (int, optional): k when no names are given (else taken from the logits).
        ignore_index (int): label value not counted (255).

    Values: ``miou``, ``miou_hole``, ``aacc`` (pixel accuracy, whole image); extra outputs
    ``miou_per_class`` and ``miou_hole_per_class`` ({class name: IoU or None}). Per image: ``miou`` and
    ``miou_hole`` over the classes present in that image (for hole-ratio bins) and the confusion matrices
    ``confusion`` / ``confusion_hole`` (k×k int64). Nothing is recorded (values None, with the reason) when the
    batch has no ``seg`` or the predictions no ``seg_logits``.
    """

    names = ("miou", "miou_hole", "aacc")
    default_prefix = "seg"

    def __init__(self, class_names=None, num_classes: int | None = None, ignore_index: int = 255,
                 collect_device: str = "cpu", prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.class_names = list(class_names) if class_names is not None else None
        if self.class_names is not None and num_classes is not None and num_classes != len(self.class_names):
            raise ValueError(f"num_classes={num_classes} but {len(self.class_names)} class names")
        self.num_classes = len(self.class_names) if self.class_names is not None else num_classes
        self.ignore_index = ignore_index

    def process(self, data_batch: dict, data_samples) -> None:
        label = data_batch.get("seg") if isinstance(data_batch, dict) else None
        missing = NO_LABELS if label is None else (
            NO_LOGITS if any(not isinstance(s, dict) or s.get("seg_logits") is None for s in data_samples) else None)
        if missing:   # kept per image, so a resumed evaluation gives the same reason
            for meta in self._metas(data_batch, data_samples):
                self.results.append(self._entry(meta, seg_missing=missing))
            return
        logits = self._stack(data_samples, "seg_logits")
        k = self.num_classes or logits.shape[1]
        if logits.shape[1] != k:
            raise ValueError(f"seg_logits have {logits.shape[1]} channels, the metric expects {k} classes")
        label = label.to(logits.device)
        if logits.shape[-2:] != label.shape[-2:]:
            logits = F.interpolate(logits.float(), size=label.shape[-2:], mode="bilinear", align_corners=False)
        pred = logits.argmax(dim=1)
        hole = data_batch["mask"].to(logits.device)[:, 0] > 0.5
        conf = confusion_matrices(pred, label, k, self.ignore_index).cpu().numpy()
        conf_hole = confusion_matrices(pred, label, k, self.ignore_index, region=hole).cpu().numpy()
        for meta, c, ch in zip(self._metas(data_batch, data_samples), conf, conf_hole):
            values = {"miou": _image_miou(c), "miou_hole": _image_miou(ch)}
            self.results.append(self._entry(meta, values, confusion=c.astype(np.int64),
                                            confusion_hole=ch.astype(np.int64)))

    def compute_metrics(self, results: list) -> dict:
        self.reasons = {}
        out = dict.fromkeys(self.names)
        have = [r for r in results if "confusion" in r]
        if not have:
            reason = next((r["seg_missing"] for r in results if r.get("seg_missing")), None) or (
                "no images were evaluated")
            for name in self.names:
                self.reasons[name] = reason
            return out
        k = have[0]["confusion"].shape[0]
        names = self.class_names or [f"class_{i}" for i in range(k)]
        for key, name in (("confusion", "miou"), ("confusion_hole", "miou_hole")):
            total = np.sum([r[key] for r in have], axis=0)
            if total.sum() == 0:
                self.reasons[name] = "no labelled pixels" + (" in the holes" if key == "confusion_hole" else "")
                continue
            m = iou_from_confusion(total)
            out[name] = _nanmean(m["IoU"])
            out[f"{name}_per_class"] = {n: (None if np.isnan(v) else float(v)) for n, v in zip(names, m["IoU"])}
            if key == "confusion":
                out["aacc"] = m["aAcc"]
        for name in ("miou", "aacc"):
            if out.get(name) is None and name not in self.reasons:
                self.reasons[name] = "no labelled pixels"
        return out

    def describe(self) -> dict:
        d = super().describe()
        d.update(implementation="argmax(seg_logits) vs seg; mmsegmentation 1.2.2 IoUMetric.total_area_to_metrics "
                                "on summed confusion matrices; mean over classes with non-empty union",
                 class_names=self.class_names, num_classes=self.num_classes, ignore_index=self.ignore_index,
                 units="fraction")
        return d


def _image_miou(conf: np.ndarray) -> float:
    conf = conf.astype(np.float64)
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        return _nanmean(np.where(union > 0, inter / union, np.nan))
