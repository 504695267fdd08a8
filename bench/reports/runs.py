"""Every run under a results root as one pandas frame (one row per run x mask set), plus the per-image
values and the sample files the figures need.

A ``metrics.json`` that cannot be read is listed in ``RunSet.problems`` (and in the report), never fatal.

The constant-output guard reads two things per row: ``constant_fill`` (``PixelMetric``'s fraction of images whose
output is one flat colour inside the hole; NaN when not measured) and ``per_image_sig`` (a fingerprint of the
per-image PSNR/SSIM/L1 in ``per_image.csv``: two rows with the same one scored the same outputs).
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.reports import paper_numbers as paper
from bench.results import ResultsError, find_metrics, load_metrics

METRICS = ("psnr", "ssim", "l1", "mae_rel", "lpips", "fid", "kid_mean", "kid_std", "miou", "miou_hole")
# True = higher is better.
HIGHER_BETTER = {"psnr": True, "ssim": True, "l1": False, "mae_rel": False, "lpips": False, "fid": False,
                 "kid_mean": False, "kid_std": False, "miou": True, "miou_hole": True}
METRIC_LABELS = {"psnr": "PSNR", "ssim": "SSIM", "l1": "L1", "mae_rel": "MAE", "lpips": "LPIPS", "fid": "FID",
                 "kid_mean": "KID", "kid_std": "KID std", "miou": "mIoU", "miou_hole": "mIoU (hole)"}
DECIMALS = {"psnr": 2, "ssim": 3, "l1": 4, "mae_rel": 4, "lpips": 3, "fid": 2, "kid_mean": 4, "kid_std": 4,
            "miou": 3, "miou_hole": 3}
CONFIG_KEYS = ("dataset", "mask_set", "method", "variant", "preset", "protocol", "n")
#: = ``bench.metrics.pixel.CONSTANT_FILL_LEVELS`` (not imported: the reports load no torch): an output varying by
#: less than this many grey levels inside the hole is constant.
CONSTANT_FILL_LEVELS = 1.0
#: A row whose outputs are constant in more than this fraction of its images is marked constant.
CONSTANT_ROW_FRACTION = 0.5
#: The per-image columns whose values, image by image, decide whether two rows scored identical outputs.
IDENTITY_COLUMNS = ("psnr", "ssim", "l1")


def arrow(metric: str) -> str:
    return "↑" if HIGHER_BETTER.get(metric, True) else "↓"


def method_label(method: str, variant: str, display_name: str | None = None) -> str:
    """The name a method gets in tables and figures (the paper's name where the paper has the method)."""
    if method == "swap":
        return paper.PAPER_METHOD_NAMES["swap"] if variant == "full" else paper.SWAP_VARIANT_NAMES.get(
            variant, f"SWAP ({variant})")
    base = paper.PAPER_METHOD_NAMES.get(method) or display_name or method
    return base if variant in ("default", None, "") else f"{base} ({variant})"


def dataset_label(dataset: str) -> str:
    return paper.DATASET_NAMES.get(dataset, dataset)


def mask_label(mask_set: str) -> str:
    return paper.MASK_SET_NAMES.get(mask_set, Path(str(mask_set)).name or str(mask_set))


def dataset_rank(dataset: str) -> tuple:
    order = paper.DATASET_ORDER
    return (order.index(dataset), "") if dataset in order else (len(order), dataset)


def mask_rank(mask_set: str) -> tuple:
    order = paper.MASK_SET_ORDER
    return (order.index(mask_set), "") if mask_set in order else (len(order), str(mask_set))


def method_rank(method: str, variant: str) -> tuple:
    """Methods outside the paper first (alphabetically), then the paper's order, ours last."""
    key = (method, variant)
    if key in paper.PAPER_METHOD_ORDER:
        return (1, paper.PAPER_METHOD_ORDER.index(key), "")
    if method == "swap":
        v = paper.SWAP_VARIANTS
        return (1, -1, str(v.index(variant)) if variant in v else variant)
    return (0, 0, f"{method}/{variant}")


@dataclass
class RunSet:
    """All runs found: ``frame`` has one row per (run, mask set); ``problems`` lists unreadable files."""

    root: Path
    frame: pd.DataFrame
    documents: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.frame.empty


def collect_runs(results_root: str | Path) -> RunSet:
    root = Path(results_root)
    rows, docs, problems = [], {}, []
    per_image: dict = {}
    for path in find_metrics(root) if root.exists() else []:
        try:
            doc = load_metrics(path)
        except ResultsError as e:
            problems.append(str(e))
            continue
        docs[str(path)] = doc
        prov = doc.get("provenance") or {}
        wall = prov.get("wall_time_s") or {}
        train = doc.get("train") or {}
        for mask_name, s in (doc.get("mask_sets") or {}).items():
            metrics = s.get("metrics") or {}
            row = {
                "path": str(path), "run_dir": str(path.parent),
                "dataset": doc["dataset"], "method": doc["method"], "variant": doc.get("variant") or "default",
                "display_name": doc.get("display_name") or doc["method"],
                "preset": doc.get("preset"), "protocol": doc.get("protocol") or "paper",
                "seed": doc.get("seed"), "split": doc.get("split"), "mask_set": mask_name,
                "n": int(s.get("num_images") or 0),
                "mask_sha256": ((s.get("mask_set") or {}).get("sha256")),
                "reasons": dict(s.get("reasons") or {}),
                "extra": s.get("extra") or {},
                "train_iters": train.get("iterations"),
                "train_wall_s": wall.get("train", train.get("wall_time_s")),
                "eval_wall_s": wall.get("eval"), "mask_wall_s": s.get("wall_time_s"),
                "device": prov.get("device_name") or prov.get("device"),
                "config_hash": prov.get("config_hash"),
                "git": (prov.get("git") or {}).get("revision"),
            }
            row["label"] = method_label(row["method"], row["variant"], row["display_name"])
            for m in METRICS:
                v = metrics.get(m)
                row[m] = float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else float("nan")
            if row["miou"] == row["miou"] and row["miou"] > 1.0:  # written as a percentage
                row["miou"] /= 100.0
            if row["miou_hole"] == row["miou_hole"] and row["miou_hole"] > 1.0:
                row["miou_hole"] /= 100.0
            cf = metrics.get("constant_fill")
            row["constant_fill"] = float(cf) if isinstance(cf, (int, float)) and not isinstance(cf, bool) else math.nan
            if row["run_dir"] not in per_image:
                per_image[row["run_dir"]] = read_per_image(row["run_dir"])
            row["per_image_sig"] = per_image_signature(per_image[row["run_dir"]], mask_name)
            rows.append(row)
    frame = pd.DataFrame(rows)
    return RunSet(root=root, frame=frame, documents=docs, problems=problems)


def paper_comparable(dataset: str, preset, protocol, n) -> list[str]:
    """Why a run's cell differs from the paper's protocol ([] = same protocol, preset and N)."""
    why = []
    if preset != paper.PAPER_PROTOCOL["preset"]:
        why.append(f"preset {preset} (paper: paper)")
    if protocol != paper.PAPER_PROTOCOL["protocol"]:
        why.append(f"protocol {protocol} (paper: paper)")
    want = paper.PAPER_NUM_IMAGES.get(dataset)
    if want is not None and int(n) != want:
        why.append(f"N={int(n)} (paper: {want})")
    return why


def read_per_image(run_dir: str | Path) -> pd.DataFrame:
    p = Path(run_dir) / "per_image.csv"
    if not p.is_file() or p.stat().st_size == 0:
        return pd.DataFrame()
    try:
        return pd.read_csv(p)
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        return pd.DataFrame()


def per_image_signature(per_image: pd.DataFrame, mask_set: str) -> str | None:
    """Fingerprint of one mask set's per-image results: sha256 over every image (index, file name) and its
    :data:`IDENTITY_COLUMNS` (10 significant digits), so two runs that scored the same outputs of the same images
    share it and runs of other images never do. None without per-image values."""
    if per_image is None or per_image.empty or "index" not in per_image.columns:
        return None
    df = per_image[per_image["mask_set"].astype(str) == str(mask_set)] if "mask_set" in per_image.columns \
        else per_image
    cols = [c for c in IDENTITY_COLUMNS if c in df.columns]
    if df.empty or not cols:
        return None
    df = df.sort_values("index", kind="stable")
    files = (df["file"].astype(str).map(lambda f: Path(f).name) if "file" in df.columns
             else pd.Series([""] * len(df), index=df.index))
    h = hashlib.sha256(",".join(cols).encode())
    values = df[cols].apply(pd.to_numeric, errors="coerce")
    for idx, name, vals in zip(df["index"], files, values.itertuples(index=False)):
        h.update(f"\n{idx}|{name}|".encode() + "|".join(f"{float(v):.10g}" for v in vals).encode())
    return h.hexdigest()


def sample_indices(run_dir: str | Path, mask_set: str, suffix: str = "output.png") -> set[int]:
    """Image indices with a ``<index>_<suffix>`` file under ``samples/<mask_set>/``."""
    d = Path(run_dir) / "samples" / str(mask_set)
    out = set()
    if d.is_dir():
        for f in d.glob(f"*_{suffix}"):
            stem = f.name[: -len(suffix) - 1]
            if stem.isdigit():
                out.add(int(stem))
    return out


def sample_path(run_dir: str | Path, mask_set: str, index: int, kind: str) -> Path:
    """``kind``: input | output | gt | seg | seg_gt | attention (npz)."""
    ext = "npz" if kind == "attention" else "png"
    d = Path(run_dir) / "samples" / str(mask_set)
    p = d / f"{int(index):05d}_{kind}.{ext}"
    if not p.exists():  # tolerate unpadded names
        alt = d / f"{int(index)}_{kind}.{ext}"
        if alt.exists():
            return alt
    return p


def training_logs(run_dir: str | Path) -> pd.DataFrame:
    """Loss scalars per iteration from mmengine's ``checkpoints/<timestamp>/vis_data/scalars.json``
    (all timestamps of a resumed run, later files winning on repeated iterations)."""
    files = sorted(Path(run_dir).glob("checkpoints/*/vis_data/scalars.json"))
    recs = []
    for order, f in enumerate(files):
        for line in f.read_text(errors="replace").splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and "iter" in rec:
                rec["_file"] = order
                recs.append(rec)
    if not recs:
        return pd.DataFrame()
    df = pd.DataFrame(recs).sort_values(["iter", "_file"])
    df = df.drop_duplicates("iter", keep="last").drop(columns="_file")
    keep = ["iter"] + [c for c in df.columns if "loss" in c.lower() and pd.api.types.is_numeric_dtype(df[c])]
    return df[keep].dropna(how="all", subset=keep[1:] or None).reset_index(drop=True)
