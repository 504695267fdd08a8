"""Toy-proxy verdicts: the paper's Outdoor-Scenes claims checked on the CPU study's toy runs (``bench study``).

The toy scenes carry the 8 Outdoor-Scenes classes, so the study is a small proxy of the OST rows of Tables 1-3.
Each claim is split into pairwise comparisons (``best``: the subject against each other method; ``order``:
each neighbour pair). For a pair (A, B) and a per-image metric, the per-image paired difference
``d[s, i] = ±(A[s, i] - B[s, i])`` (sign: positive = the claim's direction) on the same test image *i* and fixed
mask, seed *s* of each method paired by rank, is summarised by its mean and a 95 % percentile bootstrap
interval that resamples seeds, then images within them (hierarchical, 10,000 draws, fixed seed). A method
without seeds (Telea, mean fill) enters with its one run for every seed. Set-level metrics (FID, mIoU) have
one value per run, so their interval resamples seeds only (with 3 seeds it is crude, and says so).

Verdict of a pair: ``supported`` (interval above 0), ``contradicted`` (below 0), else ``inconclusive``. A claim
is supported when all its pairs are, contradicted when any pair is, else inconclusive. These are toy-proxy
results, never mixed with the paper-protocol verdicts of ``bench.reports.claims``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bench.io import atomic_write_text
from bench.reports import paper_numbers as paper
from bench.reports.claims import CLAIMS
from bench.reports.runs import HIGHER_BETTER, METRIC_LABELS, collect_runs, mask_label, method_label, read_per_image

PROXY_DATASET = "toy"
PAPER_DATASET = "outdoor"
PER_IMAGE = ("psnr", "ssim", "l1", "lpips")
DRAWS = 10_000
SEED = 2021
#: the learned methods must beat a flat fill: not a paper claim, the study's evidence that each one learns
SANITY_METRIC = "l1"


@dataclass
class Pair:
    a: tuple
    b: tuple
    mask_set: str
    metric: str
    mean: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    n_seeds: int = 0
    n_images: int = 0
    level: str = "image"          # 'image' (paired per image) or 'set' (one value per run)
    verdict: str = "not run"


@dataclass
class ProxyClaim:
    id: str
    text: str
    pairs: list = field(default_factory=list)
    verdict: str = "not run"


def _direction(metric: str) -> float:
    return 1.0 if HIGHER_BETTER.get(metric, True) else -1.0


def bootstrap_mean(d: np.ndarray, draws: int = DRAWS, seed: int = SEED) -> tuple[float, float, float]:
    """Mean of ``d`` (seeds × images, or seeds × 1) and its 95 % hierarchical percentile bootstrap interval."""
    d = np.asarray(d, dtype=np.float64)
    rng = np.random.default_rng(seed)
    s, n = d.shape
    pick_s = rng.integers(0, s, size=(draws, s))
    pick_i = rng.integers(0, n, size=(draws, s, n))
    means = d[pick_s[:, :, None], pick_i].mean(axis=(1, 2))
    low, high = np.percentile(means, [2.5, 97.5])
    return float(d.mean()), float(low), float(high)


def verdict_of(low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not run"
    return "supported" if low > 0 else "contradicted" if high < 0 else "inconclusive"


def _runs(frame: pd.DataFrame, method, variant, mask_set, preset) -> pd.DataFrame:
    sel = frame[(frame.dataset == PROXY_DATASET) & (frame.method == method) & (frame.variant == variant)
                & (frame.mask_set == mask_set)]
    if preset is not None:
        sel = sel[sel.preset == preset]
    return sel.sort_values("seed")


def _per_image(runs: pd.DataFrame, mask_set: str, metric: str) -> list[pd.Series]:
    out = []
    for run_dir in runs.run_dir:
        t = read_per_image(run_dir)
        if t.empty or metric not in t.columns:
            return []
        t = t[t.mask_set.astype(str) == mask_set]
        out.append(t.set_index("index")[metric].astype(float))
    return out


def compare(frame: pd.DataFrame, a, b, mask_set: str, metric: str, preset: str | None = "cpu") -> Pair:
    """One pairwise comparison ``a`` better than ``b`` (see the module docstring)."""
    pair = Pair(a, b, mask_set, metric)
    ra, rb = _runs(frame, *a, mask_set, preset), _runs(frame, *b, mask_set, preset)
    if ra.empty or rb.empty:
        return pair
    sign = _direction(metric)
    if metric in PER_IMAGE:
        xa, xb = _per_image(ra, mask_set, metric), _per_image(rb, mask_set, metric)
        if not xa or not xb:
            return pair
        s = max(len(xa), len(xb))
        xa, xb = [xa[k % len(xa)] for k in range(s)], [xb[k % len(xb)] for k in range(s)]
        common = sorted(set.intersection(*(set(x.index) for x in xa + xb)))
        d = np.stack([sign * (pa.loc[common].to_numpy() - pb.loc[common].to_numpy()) for pa, pb in zip(xa, xb)])
        d = d[:, np.all(np.isfinite(d), axis=0)]
        if d.size == 0:
            return pair
        pair.level, pair.n_images = "image", d.shape[1]
    else:
        va, vb = ra[metric].to_numpy(float), rb[metric].to_numpy(float)
        if not (np.isfinite(va).all() and np.isfinite(vb).all()):
            return pair
        s = max(len(va), len(vb))
        d = np.array([[sign * (va[k % len(va)] - vb[k % len(vb)])] for k in range(s)])
        pair.level, pair.n_images = "set", int(ra.n.iloc[0])
    pair.n_seeds = d.shape[0]
    pair.mean, pair.low, pair.high = bootstrap_mean(d)   # in the claim's favour: positive = it holds
    pair.verdict = verdict_of(pair.low, pair.high)
    return pair


def _claim_pairs(claim: dict):
    order = [tuple(c) for c in claim["order"]]
    if claim["kind"] == "best":
        return [(order[0], o) for o in order[1:]]
    return list(zip(order, order[1:]))


def _combine(verdicts: list[str]) -> str:
    if not verdicts or "not run" in verdicts:
        return "not run"
    if "contradicted" in verdicts:
        return "contradicted"
    return "supported" if all(v == "supported" for v in verdicts) else "inconclusive"


def proxy_claims(results_root, preset: str | None = "cpu") -> list[ProxyClaim]:
    """Every Outdoor-Scenes claim of ``bench.reports.claims`` (and the flat-fill sanity check) on toy runs."""
    frame = collect_runs(results_root).frame
    out = []
    for c in CLAIMS:
        if c.get("dataset") != PAPER_DATASET or c["kind"] not in ("best", "order"):
            continue
        metric = "miou_hole" if c["metric"] == "miou" else c["metric"]  # same information for every method
        sets = [c["mask_set"]] if c.get("mask_set") else ["center", "irregular"]
        pc = ProxyClaim(c["id"], c["text"] + (" (toy: hole mIoU)" if metric != c["metric"] else ""))
        for ms in sets:
            pc.pairs += [compare(frame, a, b, ms, metric, preset) for a, b in _claim_pairs(c)]
        pc.verdict = _combine([p.verdict for p in pc.pairs])
        out.append(pc)
    if not frame.empty:
        learned = sorted({(m, v) for m, v in zip(frame.method, frame.variant) if m not in ("telea", "meanfill")})
        for ms in ("center", "irregular"):
            for cfg in learned:
                pc = ProxyClaim(f"sanity-{cfg[0]}-{cfg[1]}-{ms}",
                                f"{method_label(*cfg)} fills better than the mean colour of the known pixels "
                                f"(hole {METRIC_LABELS.get(SANITY_METRIC, SANITY_METRIC)}, {mask_label(ms)})")
                pc.pairs = [compare(frame, cfg, ("meanfill", "default"), ms, SANITY_METRIC, preset)]
                pc.verdict = pc.pairs[0].verdict
                out.append(pc)
    return out


def _fmt(v: float) -> str:
    return "–" if not np.isfinite(v) else f"{v:+.4g}"


def render_proxy_markdown(claims: list[ProxyClaim]) -> str:
    lines = ["# Toy-proxy verdicts (CPU study, not the paper's protocol)", "",
             "The paper's Outdoor-Scenes claims checked on the toy dataset (8 OST classes, 64², `cpu` preset: every "
             "method at its smoke width, the same number of training images). Paired difference A − B in the "
             "claim's favour (positive = the claim holds), mean and 95 % bootstrap interval over seeds and images "
             "(set-level metrics: over seeds only). See `bench/reports/proxy.py`.", "",
             "| claim | verdict | A vs B | holes | metric | mean diff | 95 % CI | seeds × images |",
             "|---|---|---|---|---|---|---|---|"]
    for c in claims:
        for k, p in enumerate(c.pairs or [Pair((), (), "", "")]):
            head = (f"{c.text} (`{c.id}`)", f"**{c.verdict}**") if k == 0 else ("", "")
            vs = f"{method_label(*p.a)} vs {method_label(*p.b)}" if p.a else "–"
            ci = f"[{_fmt(p.low)}, {_fmt(p.high)}]" if np.isfinite(p.low) else "–"
            size = f"{p.n_seeds} × {p.n_images}" + (" (set metric)" if p.level == "set" else "")
            lines.append(f"| {head[0]} | {head[1]} | {vs} ({p.verdict}) | {mask_label(p.mask_set) if p.mask_set else '–'}"
                         f" | {METRIC_LABELS.get(p.metric, p.metric)} | {_fmt(p.mean)} | {ci} | {size} |")
    counts = {v: sum(c.verdict == v for c in claims) for v in ("supported", "contradicted", "inconclusive", "not run")}
    lines += ["", "Verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items()), ""]
    return "\n".join(lines)


def write_proxy_claims(results_root, out_dir, preset: str | None = "cpu") -> Path:
    """``<out_dir>/PROXY.md`` (and ``proxy.csv``) from the toy runs under ``results_root``."""
    claims = proxy_claims(results_root, preset)
    out_dir = Path(out_dir)
    rows = [{"claim": c.id, "claim_verdict": c.verdict, "a": "/".join(p.a), "b": "/".join(p.b),
             "mask_set": p.mask_set, "metric": p.metric, "mean": p.mean, "ci_low": p.low, "ci_high": p.high,
             "seeds": p.n_seeds, "images": p.n_images, "level": p.level, "verdict": p.verdict}
            for c in claims for p in c.pairs]
    atomic_write_text(out_dir / "proxy.csv", pd.DataFrame(rows).to_csv(index=False))
    return atomic_write_text(out_dir / "PROXY.md", render_proxy_markdown(claims))


__all__ = ["Pair", "ProxyClaim", "bootstrap_mean", "compare", "proxy_claims", "render_proxy_markdown",
           "verdict_of", "write_proxy_claims"]
