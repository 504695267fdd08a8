"""The results store: ``metrics.json`` (schema version 1) and ``per_image.csv`` beside it.

Every number carries where it came from: config hash, mask-set hash, dataset split, checkpoint and
package versions. Files are written atomically (``bench.io``).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

SCHEMA_VERSION = 1
PACKAGES = ("torch", "torchvision", "mmengine", "mmcv-lite", "mmsegmentation", "lpips", "torch-fidelity",
            "numpy", "opencv-python-headless", "scikit-image", "inpaint-bench")


class ResultsError(ValueError):
    """A metrics.json that is not a valid schema-1 document (the message names the file)."""


def package_versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_revision(cwd: str | Path | None = None) -> dict:
    cwd = Path(cwd) if cwd else Path(__file__).resolve().parent.parent
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5)
        if rev.returncode != 0:
            return {"revision": None, "dirty": None}
        return {"revision": rev.stdout.strip(), "dirty": bool(dirty.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"revision": None, "dirty": None}


def device_info() -> dict:
    import torch

    info = {"torch_threads": torch.get_num_threads(), "platform": platform.platform(),
            "cpu_count": os.cpu_count()}
    if torch.cuda.is_available():
        info["device"] = "cuda"
        info["device_name"] = torch.cuda.get_device_name(0)
        info["gpus"] = torch.cuda.device_count()
    else:
        info["device"] = "cpu"
        info["device_name"] = platform.processor() or platform.machine()
    return info


def build_metrics_document(*, method: str, variant: str, dataset: str, split: str, preset: str, seed: int,
                           protocol: str, mask_results: list, provenance: dict, display_name: str = "",
                           train: dict | None = None, notes: list | None = None) -> dict:
    """Assemble a schema-1 ``metrics.json`` from per-mask-set results (``bench.evaluation.MaskSetResult``)."""
    from bench.metrics.bins import hole_ratio_bins

    sets = {}
    bad: dict[str, str] = {}
    for r in mask_results:
        value_cols = [c for c in r.per_image.columns if c not in ("index", "mask_set", "file", "hole_ratio")]
        sets[r.name] = {
            "num_images": r.num_images,
            "mask_set": r.mask_set,
            "metrics": {k: _clean(v) for k, v in r.values.items()},
            "reasons": dict(r.reasons),
            "extra": _clean(r.extra),
            "hole_ratio_bins": hole_ratio_bins(r.per_image, value_cols) if len(r.per_image) else {},
            "metric_descriptions": r.metric_descriptions,
            "wall_time_s": round(r.wall_time_s, 3),
        }
        for path, reason in r.bad_files:
            bad[str(path)] = str(reason)
    return {
        "schema_version": SCHEMA_VERSION,
        "method": method,
        "variant": variant,
        "display_name": display_name or method,
        "dataset": dataset,
        "split": split,
        "num_images": max((r.num_images for r in mask_results), default=0),
        "preset": preset,
        "seed": seed,
        "protocol": protocol,
        "mask_sets": sets,
        "bad_files": {"count": len(bad), "files": bad},
        "train": train or {},
        "notes": list(notes or []),
        "provenance": {**provenance, "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")},
    }


def _clean(v):
    """NaN/inf -> None; numpy -> Python; recursive."""
    import math

    import numpy as np

    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.ndarray):
        return _clean(v.tolist())
    return v


REQUIRED = ("schema_version", "method", "variant", "dataset", "split", "preset", "mask_sets", "provenance")


def load_metrics(path: str | Path) -> dict:
    """Read and validate one ``metrics.json``; errors name the file and what is wrong."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ResultsError(f"{path}: not readable JSON ({e}); delete it and re-run `bench eval` for that run") from e
    missing = [k for k in REQUIRED if k not in doc]
    if missing:
        raise ResultsError(f"{path}: missing keys {missing}; it was not written by this version of bench")
    if doc["schema_version"] != SCHEMA_VERSION:
        raise ResultsError(f"{path}: schema_version {doc['schema_version']} (this bench reads {SCHEMA_VERSION})")
    return doc


def find_metrics(results_root: str | Path) -> list[Path]:
    root = Path(results_root)
    return sorted(p for p in root.rglob("metrics.json") if "eval_state" not in p.parts)
