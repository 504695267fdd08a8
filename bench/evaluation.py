"""Evaluation on fixed mask sets: predict -> composite -> metrics, streaming and resumable.

Evaluation never draws random masks: test image *i* gets mask *i mod N* of a named on-disk set, whose pixels
are checked against its manifest as they are read. Images are scored in fixed batches; after each batch every
metric's new per-image results are written atomically to ``eval_state/<mask-set key>/batch_NNNNN.npz``
(JSON + numpy arrays, read with ``allow_pickle=False``), each stamped with the evaluation's key: the model
(checkpoint sha256, or the predictions' file hashes), the test data's fingerprint, the mask set's hash, the
batch size and the metric configuration. A killed evaluation restarted with the same key continues with the
first unscored batch, so the final numbers equal an uninterrupted run's; any change of the key starts afresh.
Samples (``samples/<key>/``) are those of the first ``save_samples`` test images, written with their batch,
and the reported wall time is the sum of the batches' own times: neither depends on where a run was killed.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from mmengine.config import Config, ConfigDict

from bench.datasets.collate import inpaint_collate
from bench.io import StateFileError, atomic_write_json, atomic_write_state, atomic_write_text, file_sha256
from bench.registry import DATASETS, METRICS, register_all_modules

STATE_VERSION = 2


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
    """A mask-set name from ``--masks`` -> a checked ``masks.MaskSet``.

    ``center`` and ``irregular`` are the default sets (made on first use, byte-identical everywhere);
    anything else is read as a path to a mask-set folder (``bench masks make``). The whole-set hash is
    recomputed from the manifest once here (an edited manifest field is an error, never copied into
    ``metrics.json``); every mask's pixels are checked against the manifest as it is read.
    """
    import masks

    size = int(cfg.img_size)
    root = mask_root(cfg.get("data_root"))
    if name == "center":
        hole = int(round(size * float(cfg.get("center_hole_ratio", 0.5))))
        ms = masks.default_mask_set("center", size, root, hole=hole)
    elif name == "irregular":
        irr = cfg.get("irregular_masks", {})
        ms = masks.default_mask_set("irregular", size, root, count=irr.get("count"), seed=irr.get("seed"))
    else:
        path = Path(name)
        if not path.is_dir():
            raise FileNotFoundError(f"mask set {name!r} is neither 'center', 'irregular' nor a folder; make one "
                                    f"with `bench masks make --out DIR ...`")
        ms = masks.MaskSet.load(path)
        if tuple(ms.size) != (size, size):
            raise ValueError(f"mask set {path} has masks of size {ms.size}, but the run's images are "
                             f"{size}x{size}; make a set with --size {size}")
    ms.verify_set_hash()
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


def _state_key(model_id: str, mask_set, data: dict, batch_size: int, metrics, save_samples: int,
               predictions: dict | None = None) -> dict:
    return {
        "version": STATE_VERSION,
        "model": model_id,
        "predictions": predictions,
        "data_fingerprint": data["sha256"],
        "mask_set_sha256": mask_set.sha256,
        "num_images": int(data["num_items"]),
        "batch_size": int(batch_size),
        "save_samples": int(save_samples),
        "metrics": [type(m).__name__ for m in metrics],
        "metric_config": [_describe(m) for m in metrics],
    }


def _describe(metric) -> dict:
    d = getattr(metric, "describe", None)
    return d() if callable(d) else {"type": type(metric).__name__}


def _key_hash(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def _load_state(state_dir: Path, samples_dir: Path | None, key: dict) -> dict[int, dict]:
    """Batches already scored under exactly this key. A state of another key (model, data, masks, metrics)
    is removed with its samples: it describes something else and is never mixed into this evaluation."""
    key_file = state_dir / "state.json"
    kh = _key_hash(key)
    same = False
    if key_file.is_file():
        try:
            same = json.loads(key_file.read_text()).get("key_sha256") == kh
        except (OSError, ValueError, AttributeError):
            same = False
    if not same:
        for d in (state_dir, samples_dir):
            if d is not None and d.exists():
                shutil.rmtree(d)
        state_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(key_file, {"key_sha256": kh, "key": key})
        return {}
    done = {}
    for f in sorted(state_dir.glob("batch_*.npz")):
        try:
            done[int(f.stem.split("_")[1])] = _read_batch(f, kh)
        except (StateFileError, ValueError):
            f.unlink(missing_ok=True)  # damaged or foreign: scored again
    return done


def _read_batch(path: Path, key_hash: str) -> dict:
    from bench.io import read_state

    b = read_state(path, key_hash)
    if not isinstance(b, dict) or not isinstance(b.get("results"), list) or "seconds" not in b:
        raise StateFileError(f"{path}: not a batch of this evaluation")
    return b


def mask_set_folder(name: str, mask_set) -> str:
    """The folder name (and ``metrics.json`` key) of a mask set: the default name, or a safe key made from a
    custom set's folder name and hash, never the raw ``--masks`` argument (which may be an absolute path or
    contain ``..``)."""
    import masks

    return masks.mask_set_key(name, mask_set)


def evaluate_mask_set(model, cfg: Config, mask_set, name: str, run_dir: Path, model_id: str,
                      batch_size: int | None = None, progress: bool = True,
                      samples_dir: Path | None = None, save_samples: int = 0,
                      predictions_dir: Path | None = None) -> MaskSetResult:
    """Score one model (or a folder of external predictions) on one fixed mask set, resumably.

    ``name`` is the mask set's folder key (:func:`mask_set_folder`).
    """
    from tqdm import tqdm

    from bench.datasets.fingerprint import dataset_fingerprint

    t0 = time.time()
    dataset = build_test_dataset(cfg, mask_set)
    class_names = dataset.metainfo.get("classes") if hasattr(dataset, "metainfo") else None
    metrics = build_metrics(cfg, class_names)
    batch_size = int(batch_size or cfg.get("eval_batch_size", 8))
    n = len(dataset)
    num_batches = (n + batch_size - 1) // batch_size
    pred_fp = None
    if predictions_dir is not None:
        from bench.datasets.fingerprint import files_fingerprint
        from bench.predictions import check_predictions

        pred_fp = files_fingerprint(check_predictions(predictions_dir, dataset))
    save_samples = int(save_samples) if samples_dir is not None else 0
    key = _state_key(model_id, mask_set, dataset_fingerprint(dataset), batch_size, metrics, save_samples, pred_fp)
    kh = _key_hash(key)
    state_dir = Path(run_dir) / "eval_state" / name
    sample_dir = Path(samples_dir) / name if samples_dir is not None else None
    done = _load_state(state_dir, sample_dir, key)
    setup_s = time.time() - t0

    todo = [b for b in range(num_batches) if b not in done]
    bar = tqdm(total=num_batches, initial=num_batches - len(todo), desc=f"eval {name}", unit="batch",
               disable=not progress, leave=False)
    for b in todo:
        tb = time.time()
        idx = range(b * batch_size, min(n, (b + 1) * batch_size))
        batch = inpaint_collate([dataset[i] for i in idx])
        keep = sum(1 for i in idx if i < save_samples)  # the first save_samples images, whatever the resume point
        if predictions_dir is not None:
            from bench.predictions import load_predictions

            preds = load_predictions(predictions_dir, batch)
        else:
            with torch.no_grad():
                data = model.data_preprocessor(batch, False)
                preds = model(**data, mode="predict", return_attention=keep > 0)
        new = []
        for m in metrics:
            before = len(m.results)
            m.process(batch, preds)
            new.append(m.results[before:])
            del m.results[before:]
        if keep:
            _save_samples(sample_dir, batch, preds, keep)
        entry = {"results": new, "seconds": time.time() - tb}
        atomic_write_state(state_dir / f"batch_{b:05d}.npz", entry, kh)
        done[b] = entry
        bar.update(1)
    bar.close()

    tc = time.time()
    for mi, m in enumerate(metrics):
        m.results = [r for b in range(num_batches) for r in done[b]["results"][mi]]
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
    wall = setup_s + sum(float(done[b]["seconds"]) for b in range(num_batches)) + (time.time() - tc)
    summary = mask_set_summary(mask_set)
    summary.update(data_fingerprint=key["data_fingerprint"], model=model_id, predictions=pred_fp)
    return MaskSetResult(name=name, values=values, reasons=reasons, extra=extra, per_image=per_image,
                         mask_set=summary, num_images=n, metric_descriptions=descriptions,
                         bad_files=bad, wall_time_s=wall)


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


def write_per_image_csv(path: Path, frames: list[pd.DataFrame]) -> None:
    df = pd.concat([f for f in frames if len(f)], ignore_index=True) if any(len(f) for f in frames) else pd.DataFrame()
    atomic_write_text(path, df.to_csv(index=False))


__all__ = ["MaskSetResult", "build_metrics", "build_test_dataset", "evaluate_mask_set", "file_sha256",
           "mask_root", "mask_set_folder", "mask_set_summary", "resolve_mask_set", "write_per_image_csv"]
