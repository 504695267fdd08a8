"""Evaluation on fixed mask sets: predict -> composite -> metrics, streaming and resumable.

Evaluation never draws random masks: test image *i* gets mask *i mod N* of a named on-disk set.
Images are scored in fixed batches; after each batch every metric's new per-image results are written
atomically to ``eval_state/<mask set>/batch_NNNNN.pkl``. A killed evaluation restarted with the same
model, dataset and mask set loads those files and continues with the first unscored batch, so the final
numbers equal an uninterrupted run's.
"""
from __future__ import annotations

import hashlib
import json
import pickle
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from mmengine.config import Config, ConfigDict

from bench.datasets.collate import inpaint_collate
from bench.io import atomic_write_json, atomic_write_pickle, atomic_write_text
from bench.registry import DATASETS, METRICS, register_all_modules

STATE_VERSION = 1


@dataclass
class MaskSetResult:
    """Everything one mask set's evaluation produced."""

    name: str
    values: dict
    reasons: dict
    extra: dict
    per_image: pd.DataFrame
    mask_set: dict
    num_images: int
    metric_descriptions: dict = field(default_factory=dict)
    bad_files: list = field(default_factory=list)
    wall_time_s: float = 0.0


def mask_root(data_root: str | Path | None = None) -> Path:
    import os

    if os.environ.get("BENCH_MASK_ROOT"):
        return Path(os.environ["BENCH_MASK_ROOT"])
    return Path(data_root if data_root is not None else os.environ.get("BENCH_DATA_ROOT", "data")) / "masks"


def resolve_mask_set(name: str, cfg: Config):
    """A mask-set name from ``--masks`` -> a verified ``masks.MaskSet``.

    ``center`` and ``irregular`` are the default sets (made on first use, byte-identical everywhere);
    anything else is read as a path to a mask-set folder (``bench masks make``).
    """
    import masks

    size = int(cfg.img_size)
    root = mask_root(cfg.get("data_root"))
    if name == "center":
        hole = int(round(size * float(cfg.get("center_hole_ratio", 0.5))))
        return masks.default_mask_set("center", size, root, hole=hole)
    if name == "irregular":
        irr = cfg.get("irregular_masks", {})
        return masks.default_mask_set("irregular", size, root, count=irr.get("count"), seed=irr.get("seed"))
    path = Path(name)
    if not path.is_dir():
        raise FileNotFoundError(f"mask set {name!r} is neither 'center', 'irregular' nor a folder; make one with "
                                f"`bench masks make --out DIR ...`")
    ms = masks.MaskSet.load(path)
    if tuple(ms.size) != (size, size):
        raise ValueError(f"mask set {path} has masks of size {ms.size}, but the run's images are {size}x{size}; "
                         f"make a set with --size {size}")
    return ms


def build_test_dataset(cfg: Config, mask_set):
    register_all_modules()
    ds_cfg = cfg.test_dataset.to_dict() if isinstance(cfg.test_dataset, ConfigDict) else dict(cfg.test_dataset)
    ds_cfg["mask_set"] = mask_set
    ds_cfg.setdefault("skip_bad", bool(cfg.get("skip_bad", False)))
    if cfg.get("skip_bad"):
        ds_cfg["skip_bad"] = True
    return DATASETS.build(ds_cfg)


def build_metrics(cfg: Config, class_names=None) -> list:
    register_all_modules()
    metrics = []
    for m in cfg.evaluation.metrics:
        m = dict(m)
        if m["type"] == "SegmentationMetric" and class_names is not None:
            m.setdefault("class_names", list(class_names))
        if m["type"] == "PixelMetric" and cfg.evaluation.get("protocol"):
            m["protocol"] = cfg.evaluation.protocol
        metrics.append(METRICS.build(m))
    return metrics


def _state_key(model_id: str, mask_set, dataset, batch_size: int, metrics) -> dict:
    return {
        "version": STATE_VERSION,
        "model": model_id,
        "mask_set_sha256": mask_set.sha256,
        "num_images": len(dataset),
        "batch_size": int(batch_size),
        "metrics": [type(m).__name__ for m in metrics],
        "metric_config": [_describe(m) for m in metrics],
    }


def _describe(metric) -> dict:
    d = getattr(metric, "describe", None)
    return d() if callable(d) else {"type": type(metric).__name__}


def _load_state(state_dir: Path, key: dict) -> dict[int, list]:
    """Batches already scored under the same key; a state from another model/mask set is moved aside."""
    key_file = state_dir / "state.json"
    if not state_dir.is_dir():
        return {}
    if not key_file.is_file() or json.loads(key_file.read_text()) != json.loads(json.dumps(key, default=str)):
        stale = state_dir.with_name(state_dir.name + ".stale")
        shutil.rmtree(stale, ignore_errors=True)
        state_dir.rename(stale)
        return {}
    done = {}
    for f in sorted(state_dir.glob("batch_*.pkl")):
        with open(f, "rb") as fh:
            done[int(f.stem.split("_")[1])] = pickle.load(fh)
    return done


def evaluate_mask_set(model, cfg: Config, mask_set, name: str, run_dir: Path, model_id: str,
                      batch_size: int | None = None, progress: bool = True,
                      samples_dir: Path | None = None, save_samples: int = 0,
                      predictions_dir: Path | None = None) -> MaskSetResult:
    """Score one model (or a folder of external predictions) on one fixed mask set, resumably."""
    import time

    from tqdm import tqdm

    t0 = time.time()
    dataset = build_test_dataset(cfg, mask_set)
    class_names = dataset.metainfo.get("classes") if hasattr(dataset, "metainfo") else None
    metrics = build_metrics(cfg, class_names)
    batch_size = int(batch_size or cfg.get("eval_batch_size", 8))
    n = len(dataset)
    num_batches = (n + batch_size - 1) // batch_size
    state_dir = Path(run_dir) / "eval_state" / name
    key = _state_key(model_id, mask_set, dataset, batch_size, metrics)
    done = _load_state(state_dir, key)
    state_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(state_dir / "state.json", key)

    if predictions_dir is not None:
        from bench.predictions import check_predictions

        check_predictions(predictions_dir, dataset)
    todo = [b for b in range(num_batches) if b not in done]
    bar = tqdm(total=num_batches, initial=num_batches - len(todo), desc=f"eval {name}", unit="batch",
               disable=not progress, leave=False)
    saved = 0
    for b in todo:
        idx = range(b * batch_size, min(n, (b + 1) * batch_size))
        batch = inpaint_collate([dataset[i] for i in idx])
        if predictions_dir is not None:
            from bench.predictions import load_predictions

            preds = load_predictions(predictions_dir, batch)
        else:
            want_attention = samples_dir is not None and saved < save_samples
            with torch.no_grad():
                data = model.data_preprocessor(batch, False)
                preds = model(**data, mode="predict", return_attention=want_attention)
        new = []
        for m in metrics:
            before = len(m.results)
            m.process(batch, preds)
            new.append(m.results[before:])
            del m.results[before:]
        atomic_write_pickle(state_dir / f"batch_{b:05d}.pkl", new)
        done[b] = new
        if samples_dir is not None and saved < save_samples:
            saved += _save_samples(samples_dir / name, batch, preds, save_samples - saved)
        bar.update(1)
    bar.close()

    for mi, m in enumerate(metrics):
        m.results = [r for b in range(num_batches) for r in done[b][mi]]
    values, reasons, extra, descriptions = {}, {}, {}, {}
    rows: dict[int, dict] = {}
    for m in metrics:
        out = m.compute_metrics(m.results)
        for k, v in out.items():
            (extra if isinstance(v, dict) else values)[k] = v
        reasons.update(getattr(m, "reasons", {}) or {})
        descriptions[type(m).__name__] = _describe(m)
        for r in m.results:
            row = rows.setdefault(int(r["index"]), {"index": int(r["index"]), "file": r.get("file"),
                                                    "hole_ratio": r.get("hole_ratio")})
            row.update(r.get("values", {}))
    per_image = pd.DataFrame(sorted(rows.values(), key=lambda r: r["index"]))
    if len(per_image):
        per_image.insert(1, "mask_set", name)
    bad = list(getattr(dataset, "bad_files", []) or [])
    return MaskSetResult(name=name, values=values, reasons=reasons, extra=extra, per_image=per_image,
                         mask_set=mask_set_summary(mask_set), num_images=n, metric_descriptions=descriptions,
                         bad_files=bad, wall_time_s=time.time() - t0)


def mask_set_summary(mask_set) -> dict:
    man = getattr(mask_set, "manifest", {}) or {}
    return {
        "sha256": mask_set.sha256,
        "path": str(getattr(mask_set, "root", getattr(mask_set, "path", ""))),
        "num_masks": len(mask_set),
        "generator": man.get("generator"),
        "params": man.get("params"),
        "seed": man.get("seed"),
    }


def _save_samples(out_dir: Path, batch: dict, preds: list[dict], limit: int) -> int:
    """Per image ``<index>_{input,output,gt}.png`` (input: hole white), and where the method predicts them
    ``<index>_seg.png`` (class ids, uint8) and ``<index>_attention.npz``; ``bench plot`` draws figures from these."""
    from PIL import Image

    from bench.io import atomic_write_bytes

    out_dir.mkdir(parents=True, exist_ok=True)
    k = min(limit, len(preds))
    for i in range(k):
        gt = batch["img"][i]
        m = batch["mask"][i]
        stem = f"{int(batch['meta'][i]['index']):05d}"
        images = {"input": gt * (1 - m) + m, "output": preds[i]["composite"].detach().cpu(), "gt": gt}
        for kind, t in images.items():
            arr = ((t.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()
            atomic_write_bytes(out_dir / f"{stem}_{kind}.png", _png_bytes(Image.fromarray(arr)))
        if preds[i].get("seg_logits") is not None:
            ids = preds[i]["seg_logits"].argmax(0).byte().cpu().numpy()
            atomic_write_bytes(out_dir / f"{stem}_seg.png", _png_bytes(Image.fromarray(ids)))
        if "seg" in batch and batch["seg"] is not None:
            seg = batch["seg"][i].clamp(0, 255).byte().cpu().numpy()
            atomic_write_bytes(out_dir / f"{stem}_seg_gt.png", _png_bytes(Image.fromarray(seg)))
        if preds[i].get("attention"):
            import io

            buf = io.BytesIO()
            np.savez_compressed(buf, **{k: v.detach().cpu().numpy() for k, v in preds[i]["attention"].items()})
            atomic_write_bytes(out_dir / f"{stem}_attention.npz", buf.getvalue())
    return k


def _png_bytes(img) -> bytes:
    import io

    b = io.BytesIO()
    img.save(b, format="PNG")
    return b.getvalue()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_per_image_csv(path: Path, frames: list[pd.DataFrame]) -> None:
    df = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else pd.DataFrame()
    atomic_write_text(path, df.to_csv(index=False))


__all__ = ["MaskSetResult", "build_metrics", "build_test_dataset", "evaluate_mask_set", "file_sha256",
           "mask_root", "mask_set_summary", "resolve_mask_set", "write_per_image_csv"]
