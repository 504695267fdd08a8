"""Seeds -> one cell: mean, std (ddof=1) and counts per configuration, with pandas."""
from __future__ import annotations

import math

import pandas as pd

from bench.reports.runs import (CONFIG_KEYS, CONSTANT_ROW_FRACTION, METRICS, dataset_rank, mask_rank, method_rank,
                                paper_comparable)


def aggregate(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per configuration (dataset, mask set, method, variant, preset, protocol, N).

    Per metric ``<m>_mean``, ``<m>_std`` (NaN for one run), ``<m>_count`` (runs where it is not null);
    ``runs`` (metrics.json files), ``seeds``, ``mask_sha_count`` (distinct mask-set hashes: more than one
    means the seeds were scored on different masks), ``reasons`` (metric -> why it is null),
    ``off_protocol`` (why the configuration differs from the paper's; empty = same).

    The constant-output guard: ``constant_fill`` (mean over runs of the fraction of images with a flat fill in
    the hole; NaN = not measured), ``constant`` (it exceeds ``CONSTANT_ROW_FRACTION``) and ``identical_to``
    (labels of the other methods/variants, same dataset and mask set, with a run whose per-image results equal
    one of this configuration's: :func:`identical_configs`).
    """
    if frame.empty:
        return pd.DataFrame()
    frame = frame.copy()
    for col, empty in (("constant_fill", math.nan), ("per_image_sig", None)):
        if col not in frame.columns:   # frames built by hand, without the guard's columns
            frame[col] = empty
    keys = list(CONFIG_KEYS)
    g = frame.groupby(keys, dropna=False, sort=False)
    agg = g[list(METRICS)].agg(["mean", "std", "count"])
    agg.columns = [f"{m}_{s}" for m, s in agg.columns]
    agg["runs"] = g.size()
    agg["label"] = g["label"].first()
    agg["seeds"] = g["seed"].agg(lambda s: tuple(sorted(x for x in s if x is not None)))
    agg["mask_sha_count"] = g["mask_sha256"].nunique()
    agg["run_dirs"] = g["run_dir"].agg(list)
    agg["constant_fill"] = g["constant_fill"].mean()
    agg["per_image_sigs"] = g["per_image_sig"].agg(lambda s: tuple(sorted({x for x in s if isinstance(x, str)})))

    def _reasons(df):
        out = {}
        for rs in df["reasons"]:
            for k, v in (rs or {}).items():
                out.setdefault(k, [])
                if v not in out[k]:
                    out[k].append(str(v))
        return {k: "; ".join(v) for k, v in out.items()}

    agg["reasons"] = pd.Series({k: _reasons(df) for k, df in g}, dtype=object)
    agg = agg.reset_index()
    agg["off_protocol"] = [paper_comparable(r.dataset, r.preset, r.protocol, r.n) for r in agg.itertuples()]
    agg["_sort"] = [(dataset_rank(r.dataset), mask_rank(r.mask_set), method_rank(r.method, r.variant),
                     len(r.off_protocol) > 0, str(r.preset), str(r.protocol), -int(r.n)) for r in agg.itertuples()]
    agg = agg.sort_values("_sort", kind="stable").drop(columns="_sort").reset_index(drop=True)
    agg["constant"] = [isnum(v) and v > CONSTANT_ROW_FRACTION for v in agg["constant_fill"]]
    agg["identical_to"] = identical_configs(agg)
    return agg


def identical_configs(agg: pd.DataFrame) -> list:
    """Per configuration, the labels of the other methods (or variants) on the same dataset and mask set that
    have a run with the same per-image results (``per_image_sigs``): two rows that score the same outputs.
    Configurations of the same method and variant (other preset, protocol, N) are not compared."""
    out = []
    rows = list(agg.itertuples())
    for r in rows:
        mine = set(r.per_image_sigs)
        out.append(sorted({o.label for o in rows if mine and o.Index != r.Index and o.dataset == r.dataset
                           and o.mask_set == r.mask_set and (o.method, o.variant) != (r.method, r.variant)
                           and mine & set(o.per_image_sigs)}))
    return out


def best_config(agg: pd.DataFrame, dataset: str, mask_set: str, method: str, variant: str):
    """The configuration that stands for one cell: the paper's protocol first, then most images, most runs."""
    if agg is None or agg.empty:
        return None
    sel = agg[(agg.dataset == dataset) & (agg.mask_set == mask_set) & (agg.method == method)
              & (agg.variant == variant)]
    if sel.empty:
        return None
    order = sorted(sel.itertuples(), key=lambda r: (len(r.off_protocol) > 0, -int(r.n), -int(r.runs)))
    return order[0]


def isnum(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)
