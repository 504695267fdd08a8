"""Per-image metrics binned by hole ratio, as LaMa's evaluator does (10 bins of 10 %, ``np.linspace(0, 1, 11)``)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def bin_label(lo: float, hi: float) -> str:
    """``'10-20%'`` style label of a bin."""
    return f"{round(lo * 100):d}-{round(hi * 100):d}%"


def hole_ratio_bins(per_image: pd.DataFrame, columns: Sequence[str], edges=None,
                    ratio_column: str = "hole_ratio") -> dict:
    """n, mean and std of per-image metrics in hole-ratio bins.

    Bins are half-open ``[lo, hi)`` except the last, which includes its upper edge (ratio 1.0); ratios outside
    the edges or NaN are left out. ``std`` is the population standard deviation (numpy's ``ddof=0``); NaN
    metric values are skipped per column (``n`` counts the images in the bin).

    Args:
        per_image: one row per image with ``ratio_column`` and the metric columns.
        columns: metric columns to summarise (e.g. ``['psnr', 'ssim', 'lpips']``).
        edges: increasing bin edges (default ``np.linspace(0, 1, 11)``).
        ratio_column: the hole-ratio column.

    Returns:
        ``{label: {'range': [lo, hi], 'n': int, 'mean': {col: float|None}, 'std': {col: float|None}}}``
        in bin order, labels like ``'0-10%'``.
    """
    edges = np.linspace(0.0, 1.0, 11) if edges is None else np.asarray(edges, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be an increasing 1-D sequence of at least two values")
    missing = [c for c in [ratio_column, *columns] if c not in per_image.columns]
    if missing:
        raise KeyError(f"per-image table lacks columns {missing}")
    ratio = per_image[ratio_column].to_numpy(dtype=np.float64)
    idx = np.searchsorted(edges, ratio, side="right") - 1
    idx[ratio == edges[-1]] = len(edges) - 2
    idx[(ratio < edges[0]) | (ratio > edges[-1]) | np.isnan(ratio)] = -1
    out = {}
    for b in range(len(edges) - 1):
        rows = per_image[idx == b]
        entry = {"range": [float(edges[b]), float(edges[b + 1])], "n": len(rows), "mean": {}, "std": {}}
        for col in columns:
            vals = rows[col].to_numpy(dtype=np.float64)
            vals = vals[~np.isnan(vals)]
            entry["mean"][col] = float(vals.mean()) if vals.size else None
            entry["std"][col] = float(vals.std()) if vals.size else None
        out[bin_label(edges[b], edges[b + 1])] = entry
    return out


def per_image_table(results: list[dict]) -> pd.DataFrame:
    """A DataFrame (index, file, hole_ratio, one column per value) from metric results (``metric.results``).

    Results of several metrics for the same images merge on ``index``.
    """
    rows: dict[int, dict] = {}
    for r in results:
        row = rows.setdefault(r["index"], {"index": r["index"], "file": r["file"], "hole_ratio": r["hole_ratio"]})
        row.update(r.get("values", {}))
    return pd.DataFrame(list(rows.values()))
