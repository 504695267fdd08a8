"""Figures from the results tree (matplotlib, Agg): qualitative grid (paper Fig. 4), segmentation maps
(Fig. 6), attention matches (Fig. 5), metric vs hole ratio (LaMa-style bins), ablation bars (Table 3) and
training curves. Each is written as PNG and PDF under ``<out>/figures/``.

Every figure that cannot be drawn (no samples, no attention maps, no logs) is skipped with a note saying why.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bench.reports import paper_numbers as paper
from bench.reports.aggregate import aggregate, best_config, isnum
from bench.reports.runs import (HIGHER_BETTER, METRIC_LABELS, RunSet, arrow, collect_runs, dataset_label,
                                dataset_rank, mask_label, mask_rank, method_label, method_rank, read_per_image,
                                sample_indices, sample_path, training_logs)
from bench.reports.style import DOUBLE, OKABE_ITO, SINGLE, SWAP_VARIANT_COLORS, ColorMap, save, style

# Official palettes (RGB). OST: 8 classes + void; Cityscapes: mmseg's 19 train ids + void (black) for id 19.
OST_CLASSES = ("background", "sky", "water", "grass", "mountain", "building", "plant", "animal")
OST_PALETTE = ((153, 153, 153), (0, 255, 255), (109, 158, 235), (183, 225, 205), (153, 0, 255), (17, 85, 204),
               (106, 168, 79), (224, 102, 102))
OST_VOID = (255, 255, 255)
CITYSCAPES_CLASSES = ("road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
                      "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train",
                      "motorcycle", "bicycle")
CITYSCAPES_PALETTE = ((128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156), (190, 153, 153),
                      (153, 153, 153), (250, 170, 30), (220, 220, 0), (107, 142, 35), (152, 251, 152),
                      (70, 130, 180), (220, 20, 60), (255, 0, 0), (0, 0, 142), (0, 0, 70), (0, 60, 100),
                      (0, 80, 100), (0, 0, 230), (119, 11, 32))
CITYSCAPES_VOID = (0, 0, 0)
MAX_ROWS = 3


@dataclass
class FigureResult:
    paths: list = field(default_factory=list)
    notes: list = field(default_factory=list)  # why a figure was skipped or limited
    captions: dict = field(default_factory=dict)  # png path -> caption


def palette_for(dataset: str):
    """(class names, colours, void colour) of a dataset; toy and others use the OST palette."""
    if dataset == "cityscapes":
        return CITYSCAPES_CLASSES, CITYSCAPES_PALETTE, CITYSCAPES_VOID
    return OST_CLASSES, OST_PALETTE, OST_VOID


def colorize(ids: np.ndarray, dataset: str) -> np.ndarray:
    """Class-id map (H×W, 255 = ignore) -> RGB uint8 in the dataset's official palette (void elsewhere)."""
    _, pal, void = palette_for(dataset)
    lut = np.tile(np.array(void, np.uint8), (256, 1))
    lut[: len(pal)] = np.array(pal, np.uint8)
    return lut[np.asarray(ids, dtype=np.uint8)]


def _load_rgb(p: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(p) as im:
        return np.asarray(im.convert("RGB"))


def _load_ids(p: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(p) as im:
        a = np.asarray(im)
    return a[..., 0] if a.ndim == 3 else a


def hole_mask(inp: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Hole pixels of a saved sample: white in the input (the evaluation paints holes white) but not in the GT."""
    white = np.all(inp >= 255, axis=-1)
    return white & np.any(gt != inp, axis=-1)


def _slug(*parts) -> str:
    s = "_".join(str(p) for p in parts)
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in s)


# ----------------------------------------------------------------------------------------------- selection
def _cells(rs: RunSet):
    if rs.empty:
        return []
    keys = set(zip(rs.frame.dataset, rs.frame.mask_set))
    return sorted(keys, key=lambda k: (dataset_rank(k[0]), mask_rank(k[1])))


def _method_runs(agg, frame, dataset, mask_set, table1_only=True, need=None):
    """[(method, variant, label, run_dir)] for a cell: the representative configuration of each method and,
    within it, the first run (by seed) that has ``need`` samples (``need``: suffix or None)."""
    sel = frame[(frame.dataset == dataset) & (frame.mask_set == mask_set)]
    pairs = sorted({(m, v) for m, v in zip(sel.method, sel.variant)}, key=lambda p: method_rank(*p))
    out = []
    for m, v in pairs:
        if table1_only and m == "swap" and v != "full":
            continue
        cfg = best_config(agg, dataset, mask_set, m, v)
        if cfg is None:
            continue
        runs = frame[(frame.path.isin([str(Path(d) / "metrics.json") for d in cfg.run_dirs]))
                     & (frame.mask_set == mask_set)].sort_values("seed")
        chosen = None
        for d in runs.run_dir:
            if need is None or sample_indices(d, mask_set, need):
                chosen = d
                break
        if chosen is not None:
            out.append((m, v, cfg.label, chosen))
    return out


def _per_image_psnr(run_dir, mask_set) -> pd.Series:
    df = read_per_image(run_dir)
    if df.empty or "psnr" not in df.columns or "index" not in df.columns:
        return pd.Series(dtype=float)
    if "mask_set" in df.columns:
        df = df[df.mask_set.astype(str) == str(mask_set)]
    return df.set_index("index")["psnr"].astype(float)


def choose_rows(methods, mask_set, common: set, images=None):
    """Rows of a qualitative figure: the ids asked for, or median / best / worst of SWAP minus the best baseline
    in PSNR (from per_image.csv). Returns ([(index, row label)], notes)."""
    notes = []
    if images:
        rows = [(int(i), f"#{int(i)}") for i in images if int(i) in common]
        missing = [int(i) for i in images if int(i) not in common]
        if missing:
            notes.append(f"images {missing} are not in every method's samples/ (available: {sorted(common)[:20]})")
        return rows, notes
    ours = [r for r in methods if (r[0], r[1]) == paper.OURS]
    base = [r for r in methods if (r[0], r[1]) != paper.OURS]
    if ours and base:
        o = _per_image_psnr(ours[0][3], mask_set)
        best_b, best_mean = None, -math.inf
        for r in base:
            s = _per_image_psnr(r[3], mask_set)
            if len(s) and s.mean() > best_mean:
                best_b, best_mean = (r, s), s.mean()
        if len(o) and best_b is not None:
            diff = (o - best_b[1]).dropna()
            diff = diff[diff.index.isin(common)]
            if len(diff):
                diff = diff.sort_values(kind="stable")
                picks = [("median", diff.index[len(diff) // 2]), ("best", diff.index[-1]), ("worst", diff.index[0])]
                rows, seen = [], set()
                for name, idx in picks:
                    if idx not in seen:
                        seen.add(idx)
                        rows.append((int(idx), f"{name} #{int(idx)}\nΔ{diff[idx]:+.1f} dB"))
                return rows, [f"rows: median/best/worst PSNR difference of {ours[0][2]} vs the best baseline "
                              f"({best_b[0][2]}) among images present in every method's samples/"]
    if common:
        notes.append("rows: the first images present in every method's samples/ (no SWAP (ours) or no "
                     "per_image.csv to rank by)")
    return [(i, f"#{i}") for i in sorted(common)[:MAX_ROWS]], notes


# ----------------------------------------------------------------------------------------------- image grids
def _grid(ncols: int, nrows: int, width: float | None = None, top: float = 0.22, left: float = 0.3,
          bottom: float = 0.05):
    import matplotlib.pyplot as plt

    width = width or (SINGLE if ncols <= 4 else DOUBLE)
    gap = 0.03
    cell = (width - left - 0.03 - gap * (ncols - 1)) / ncols
    height = top + nrows * cell + gap * (nrows - 1) + bottom
    fig = plt.figure(figsize=(width, height))
    axes = []
    for r in range(nrows):
        row = []
        for c in range(ncols):
            x = (left + c * (cell + gap)) / width
            y = 1 - (top + (r + 1) * cell + r * gap) / height
            ax = fig.add_axes((x, y, cell / width, cell / height))
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            for s in ax.spines.values():
                s.set_visible(True)
                s.set_linewidth(0.4)
            row.append(ax)
        axes.append(row)
    return fig, axes


def _show(ax, img, title=None, ylabel=None):
    ax.imshow(img, interpolation="nearest")
    if title is not None:
        ax.set_title(title, fontsize=6, pad=2)
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=5.5, labelpad=2)


def _show_input(ax, inp, gt, **kw):
    _show(ax, inp, **kw)
    h = hole_mask(inp, gt)
    if h.any():
        ax.contour(h.astype(float), levels=[0.5], colors=[OKABE_ITO["vermillion"]], linewidths=0.5)
    ax.set_xlim(-0.5, inp.shape[1] - 0.5)
    ax.set_ylim(inp.shape[0] - 0.5, -0.5)


def qualitative_figure(rs, agg, dataset, mask_set, out_dir, images, res: FigureResult):
    methods = _method_runs(agg, rs.frame, dataset, mask_set, need="output.png")
    where = f"{dataset_label(dataset)}, {mask_label(mask_set)}"
    if not methods:
        res.notes.append(f"qualitative grid ({where}): no method saved samples/ (set evaluation.save_samples)")
        return
    all_methods = _method_runs(agg, rs.frame, dataset, mask_set, need=None)
    lacking = [lab for m, v, lab, _ in all_methods if (m, v) not in {(x[0], x[1]) for x in methods}]
    if lacking:
        res.notes.append(f"qualitative grid ({where}): no samples for {', '.join(lacking)}")
    common = set.intersection(*[sample_indices(d, mask_set, "output.png") & sample_indices(d, mask_set, "input.png")
                                & sample_indices(d, mask_set, "gt.png") for _, _, _, d in methods])
    if not common:
        res.notes.append(f"qualitative grid ({where}): no image is present in every method's samples/")
        return
    rows, notes = choose_rows(methods, mask_set, common, images)
    res.notes += [f"qualitative grid ({where}): {n}" for n in notes]
    if not rows:
        return
    ref = methods[0][3]
    ncols = len(methods) + 2
    with style():
        fig, axes = _grid(ncols, len(rows), left=0.32)
        for r, (idx, rlabel) in enumerate(rows):
            inp = _load_rgb(sample_path(ref, mask_set, idx, "input"))
            gt = _load_rgb(sample_path(ref, mask_set, idx, "gt"))
            top = r == 0
            _show_input(axes[r][0], inp, gt, title="Input" if top else None, ylabel=rlabel)
            for c, (_, _, lab, d) in enumerate(methods, start=1):
                _show(axes[r][c], _load_rgb(sample_path(d, mask_set, idx, "output")), title=lab if top else None)
            _show(axes[r][-1], gt, title="Ground truth" if top else None)
        paths = save(fig, Path(out_dir) / f"qualitative_{_slug(dataset, mask_set)}")
    res.paths += paths
    res.captions[paths[0]] = (f"Qualitative comparison (paper Fig. 4 style), {where}: input (hole outlined), "
                              f"each method's output, ground truth. Only images present in every method's "
                              f"samples/ can be shown.")
    return [i for i, _ in rows]


def segmentation_figure(rs, agg, dataset, mask_set, out_dir, images, res: FigureResult, preferred=None):
    where = f"{dataset_label(dataset)}, {mask_label(mask_set)}"
    methods = _method_runs(agg, rs.frame, dataset, mask_set, table1_only=False, need="seg.png")
    if not methods:
        return
    common = set.intersection(*[sample_indices(d, mask_set, "seg.png") & sample_indices(d, mask_set, "output.png")
                                for _, _, _, d in methods])
    common &= sample_indices(methods[0][3], mask_set, "input.png")
    if not common:
        res.notes.append(f"segmentation figure ({where}): no image has a predicted segmentation from every method")
        return
    if images:
        rows, notes = choose_rows(methods, mask_set, common, images)
        res.notes += [f"segmentation figure ({where}): {n}" for n in notes]
    else:
        pick = [i for i in (preferred or []) if i in common] or sorted(common)
        rows = [(i, f"#{i}") for i in pick[:MAX_ROWS]]
    if not rows:
        return
    ref = methods[0][3]
    has_gt = all(sample_path(ref, mask_set, i, "seg_gt").is_file() for i, _ in rows)
    ncols = 1 + 2 * len(methods) + (2 if has_gt else 1)
    names, pal, void = palette_for(dataset)
    present = set()
    with style():
        import matplotlib.patches as mpatches

        fig, axes = _grid(ncols, len(rows), left=0.3, bottom=0.42 if ncols <= 4 else 0.3)
        for r, (idx, rlabel) in enumerate(rows):
            top = r == 0
            inp = _load_rgb(sample_path(ref, mask_set, idx, "input"))
            gt = _load_rgb(sample_path(ref, mask_set, idx, "gt"))
            _show_input(axes[r][0], inp, gt, title="Input" if top else None, ylabel=rlabel)
            c = 1
            for _, _, lab, d in methods:
                ids = _load_ids(sample_path(d, mask_set, idx, "seg"))
                present |= set(np.unique(ids).tolist())
                _show(axes[r][c], colorize(ids, dataset), title=f"{lab}\nsegmentation" if top else None)
                _show(axes[r][c + 1], _load_rgb(sample_path(d, mask_set, idx, "output")),
                      title=f"{lab}\noutput" if top else None)
                c += 2
            if has_gt:
                ids = _load_ids(sample_path(ref, mask_set, idx, "seg_gt"))
                present |= set(np.unique(ids).tolist())
                _show(axes[r][c], colorize(ids, dataset), title="GT\nsegmentation" if top else None)
                c += 1
            _show(axes[r][c], gt, title="Ground truth" if top else None)
        handles = [mpatches.Patch(facecolor=np.array(pal[k]) / 255, edgecolor="#555555", linewidth=0.3,
                                  label=names[k]) for k in sorted(present) if k < len(pal)]
        if any(k >= len(pal) for k in present):
            handles.append(mpatches.Patch(facecolor=np.array(void) / 255, edgecolor="#555555", linewidth=0.3,
                                          label="void / ignore"))
        fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5 if ncols <= 4 else 8),
                   fontsize=5.5, handlelength=1.0, columnspacing=0.8, borderaxespad=0.2)
        paths = save(fig, Path(out_dir) / f"segmentation_{_slug(dataset, mask_set)}")
    res.paths += paths
    palette_name = "Cityscapes (mmseg)" if dataset == "cityscapes" else "Outdoor Scenes"
    res.captions[paths[0]] = (f"Predicted segmentation maps (paper Fig. 6 style), {where}, in the "
                              f"{palette_name} palette, beside each method's output.")


def _load_match(p: Path):
    if not p.is_file():
        return None, "no attention file"
    with np.load(p) as z:
        key = "swap_match" if "swap_match" in z.files else ("match" if "match" in z.files else None)
        if key is None:
            return None, f"{p.name} has no 'swap_match' or 'match' key (keys: {', '.join(z.files) or 'none'})"
        a = np.asarray(z[key])
    a = np.squeeze(a)
    if a.ndim != 2:
        return None, f"{p.name}: '{key}' has shape {a.shape}, expected Hq×Wq"
    return a.astype(np.int64), ""


def _query_points(hole: np.ndarray, grid_shape, k=3):
    """Up to ``k`` pixel positions (y, x) at the centres of grid cells inside the hole, spread out."""
    H, W = hole.shape
    hq, wq = grid_shape
    cells = []
    for i in range(hq):
        for j in range(wq):
            y, x = int((i + 0.5) * H / hq), int((j + 0.5) * W / wq)
            if hole[min(y, H - 1), min(x, W - 1)]:
                cells.append((y, x))
    if not cells:
        return [(H // 2, W // 2)]
    pos = [cells[int(len(cells) * (n + 1) / (k + 1))] for n in range(k)] if len(cells) > k else cells
    return list(dict.fromkeys(pos))


def attention_figure(rs, agg, dataset, mask_set, out_dir, images, res: FigureResult):
    import matplotlib.patches as mpatches

    where = f"{dataset_label(dataset)}, {mask_label(mask_set)}"
    frame = rs.frame
    sel = frame[(frame.dataset == dataset) & (frame.mask_set == mask_set) & (frame.method == "swap")]
    if sel.empty:
        return
    variants = []
    for title, options in (("contextual attention (Att)", ("att",)), ("SWAP", ("full", "swap"))):
        for v in options:
            runs = _method_runs(agg, frame[frame.variant == v], dataset, mask_set, table1_only=False,
                                need="attention.npz")
            if runs:
                variants.append((f"{title}\n[{paper.SWAP_VARIANT_NAMES.get(v, v)}]", v, runs[0][3]))
                break
    if not variants:
        res.notes.append(f"attention figure ({where}): no <index>_attention.npz in any SWAP variant's samples/")
        return
    have = {v for _, v, _ in variants}
    if "att" not in have or not (have & {"swap", "full"}):
        res.notes.append(f"attention figure ({where}): only {', '.join(sorted(have))} has attention maps; "
                         f"the other side of the comparison is missing")
    common = set.intersection(*[sample_indices(d, mask_set, "attention.npz") & sample_indices(d, mask_set, "output.png")
                                for _, _, d in variants])
    common &= sample_indices(variants[0][2], mask_set, "input.png")
    if images:
        rows = [int(i) for i in images if int(i) in common]
        missing = [int(i) for i in images if int(i) not in common]
        if missing:
            res.notes.append(f"attention figure ({where}): images {missing} have no attention maps from every "
                             f"variant shown")
    else:
        rows = sorted(common)[:MAX_ROWS]
    if not rows:
        res.notes.append(f"attention figure ({where}): no image has attention maps from every variant shown")
        return
    loaded, skipped = {}, []
    for idx in rows:
        for _, v, d in variants:
            m, why = _load_match(sample_path(d, mask_set, idx, "attention"))
            if m is None:
                skipped.append(f"#{idx} {v}: {why}")
            loaded[(idx, v)] = m
    rows = [i for i in rows if all(loaded[(i, v)] is not None for _, v, _ in variants)]
    if skipped:
        res.notes.append(f"attention figure ({where}): skipped " + "; ".join(skipped))
    if not rows:
        return
    ncols = 1 + 2 * len(variants)
    colors = [OKABE_ITO["vermillion"], OKABE_ITO["blue"], OKABE_ITO["purple"]]
    with style():
        fig, axes = _grid(ncols, len(rows), width=SINGLE if ncols <= 3 else DOUBLE, top=0.3)
        for r, idx in enumerate(rows):
            ref = variants[0][2]
            inp = _load_rgb(sample_path(ref, mask_set, idx, "input"))
            gt = _load_rgb(sample_path(ref, mask_set, idx, "gt"))
            hole = hole_mask(inp, gt)
            H, W = hole.shape
            top = r == 0
            _show_input(axes[r][0], inp, gt, title="Input" if top else None, ylabel=f"#{idx}")
            first = loaded[(idx, variants[0][1])]
            queries = _query_points(hole, first.shape)
            for c, (title, v, d) in enumerate(variants):
                match = loaded[(idx, v)]
                hq, wq = match.shape
                ax = axes[r][1 + 2 * c]
                out = _load_rgb(sample_path(d, mask_set, idx, "output"))
                _show_input(ax, inp, gt, title=f"{title}: best match" if top else None)
                for qi, (y, x) in enumerate(queries):
                    i, j = min(int(y * hq / H), hq - 1), min(int(x * wq / W), wq - 1)
                    flat = int(match[i, j])
                    if not 0 <= flat < hq * wq:  # -1: no known patch of that class (SWAP keeps the feature)
                        ax.plot([x], [y], marker="x", markersize=3, color=colors[qi % len(colors)])
                        continue
                    mi, mj = divmod(flat, wq)
                    sy, sx = (mi + 0.5) * H / hq, (mj + 0.5) * W / wq
                    col = colors[qi % len(colors)]
                    ax.add_patch(mpatches.Rectangle(
                        (mj * W / wq - 0.5, mi * H / hq - 0.5), W / wq, H / hq, fill=False, edgecolor=col,
                        linewidth=0.8))
                    ax.annotate("", xy=(x, y), xytext=(sx, sy),
                                arrowprops=dict(arrowstyle="->", color=col, lw=0.9, shrinkA=0, shrinkB=0))
                    ax.plot([x], [y], marker="o", markersize=2, color=col)
                _show(axes[r][2 + 2 * c], out, title=f"{title}: result" if top else None)
        paths = save(fig, Path(out_dir) / f"attention_{_slug(dataset, mask_set)}")
    res.paths += paths
    res.captions[paths[0]] = (f"Best-matching known patch (box, arrow to the hole patch) under contextual attention "
                              f"and under SWAP (paper Fig. 5 style), {where}.")


# ----------------------------------------------------------------------------------------------- plots
def _ci95(values: np.ndarray) -> float:
    n = len(values)
    if n < 2:
        return float("nan")
    try:
        from scipy.special import stdtrit  # Student t quantile; much lighter to import than scipy.stats

        q = float(stdtrit(n - 1, 0.975))
    except ImportError:  # pragma: no cover
        q = 1.96
    return q * float(np.std(values, ddof=1)) / math.sqrt(n)


def hole_bins(per_image: pd.DataFrame, metrics=("psnr", "ssim", "lpips")) -> pd.DataFrame:
    """Per 10 % hole-area bin: mean, 95 % CI half-width (t) and count of each metric."""
    df = per_image.dropna(subset=["hole_ratio"]).copy()
    r = df["hole_ratio"].astype(float)
    if r.max() > 1.0:  # stored as a percentage
        r = r / 100.0
    df["bin"] = np.clip(np.floor(r * 10).astype(int), 0, 9)
    rows = []
    for b, g in df.groupby("bin"):
        row = {"bin": int(b), "label": f"{10 * b}–{10 * b + 10}%"}
        for m in metrics:
            if m in g.columns:
                v = g[m].dropna().astype(float).to_numpy()
                row[f"{m}_mean"] = float(v.mean()) if len(v) else float("nan")
                row[f"{m}_ci"] = _ci95(v)
                row[f"{m}_n"] = len(v)
        rows.append(row)
    return pd.DataFrame(rows)


def hole_ratio_figure(rs, agg, dataset, mask_set, out_dir, res: FigureResult, cmap: ColorMap):
    where = f"{dataset_label(dataset)}, {mask_label(mask_set)}"
    frame = rs.frame
    sel = frame[(frame.dataset == dataset) & (frame.mask_set == mask_set)]
    pairs = sorted({(m, v) for m, v in zip(sel.method, sel.variant) if not (m == "swap" and v != "full")},
                   key=lambda p: method_rank(*p))
    curves = []
    for m, v in pairs:
        cfg = best_config(agg, dataset, mask_set, m, v)
        frames = []
        for d in cfg.run_dirs:
            pi = read_per_image(d)
            if not pi.empty and "hole_ratio" in pi.columns:
                if "mask_set" in pi.columns:
                    pi = pi[pi.mask_set.astype(str) == str(mask_set)]
                frames.append(pi)
        if frames:
            curves.append((m, v, cfg.label, hole_bins(pd.concat(frames, ignore_index=True))))
    if not curves:
        res.notes.append(f"metric vs hole ratio ({where}): no per_image.csv")
        return
    nbins = len(set().union(*[set(c[3]["bin"]) for c in curves]))
    if nbins < 2:
        res.notes.append(f"metric vs hole ratio ({where}): every hole falls in one 10 % bin; no curve to draw")
        return
    metrics = [m for m in ("psnr", "ssim", "lpips") if any(f"{m}_mean" in c[3].columns for c in curves)]
    import matplotlib.pyplot as plt

    with style():
        fig, axes = plt.subplots(len(metrics), 1, figsize=(SINGLE, 1.15 * len(metrics) + 0.55), sharex=True,
                                 squeeze=False)
        height = 1.15 * len(metrics) + 0.55
        fig.subplots_adjust(left=0.16, right=0.97, top=1 - 0.34 / height, bottom=0.12, hspace=0.15)
        top_bin = 0
        for ax, metric in zip(axes[:, 0], metrics):
            for m, v, lab, b in curves:
                if f"{metric}_mean" not in b.columns:
                    continue
                st = cmap(m, v)
                x = b["bin"] * 10 + 5
                y, ci = b[f"{metric}_mean"], b[f"{metric}_ci"]
                ax.plot(x, y, color=st["color"], marker=st["marker"], linestyle=st["linestyle"], label=lab)
                lo, hi = y - ci, y + ci
                if metric in ("ssim", "lpips"):  # bounded metrics: a band from 2-3 images must not leave [0, 1]
                    lo, hi = lo.clip(0, 1), hi.clip(0, 1)
                ax.fill_between(x, lo, hi, color=st["color"], alpha=0.18, linewidth=0)
                top_bin = max(top_bin, int(b["bin"].max()))
            ax.set_ylabel(f"{METRIC_LABELS[metric]} {arrow(metric)}")
            means = [c[3][f"{metric}_mean"] for c in curves if f"{metric}_mean" in c[3].columns]
            if means:  # the y range follows the means, not the widest confidence band
                lo_m, hi_m = min(float(m.min()) for m in means), max(float(m.max()) for m in means)
                pad = max(0.25 * (hi_m - lo_m), 0.02 * max(abs(hi_m), 1e-6))
                ax.set_ylim(lo_m - pad, hi_m + pad)
        right = min(100, 10 * (top_bin + 1))
        axes[-1, 0].set_xlabel("hole area (% of image), 10 % bins")
        axes[-1, 0].set_xticks(range(0, right + 1, 10))
        axes[-1, 0].set_xlim(0, right)
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=min(3, len(labels)), bbox_to_anchor=(0.55, 1.0))
        paths = save(fig, Path(out_dir) / f"hole_ratio_{_slug(dataset, mask_set)}")
    res.paths += paths
    res.captions[paths[0]] = (f"PSNR/SSIM/LPIPS per 10 % hole-area bin, {where} (per-image values pooled over "
                              f"seeds; bands: 95 % CI of the mean).")


def ablation_figure(rs, agg, dataset, mask_set, out_dir, res: FigureResult):
    where = f"{dataset_label(dataset)}, {mask_label(mask_set)}"
    rows = []
    for v in paper.SWAP_VARIANTS:
        cfg = best_config(agg, dataset, mask_set, "swap", v)
        if cfg is not None:
            rows.append((v, cfg))
    if len(rows) < 2:  # one variant: nothing to compare
        return
    import matplotlib.pyplot as plt

    metrics = ("psnr", "ssim", "fid")
    has_paper = any(isnum(paper.table3_value(dataset, mask_set, v, "psnr")) for v, _ in rows)
    off = has_paper and any(cfg.off_protocol for _, cfg in rows)
    with style():
        fig, axes = plt.subplots(1, 3, figsize=(SINGLE, 1.7), squeeze=False)
        fig.subplots_adjust(left=0.14, right=0.98, top=0.78, bottom=0.2, wspace=0.75)
        for ax, metric in zip(axes[0], metrics):
            x = np.arange(len(rows))
            means = [getattr(cfg, f"{metric}_mean") for _, cfg in rows]
            stds = [getattr(cfg, f"{metric}_std") for _, cfg in rows]
            ax.bar(x, [m if isnum(m) else 0 for m in means], width=0.7,
                   color=[SWAP_VARIANT_COLORS.get(v, "#777777") for v, _ in rows],
                   yerr=[s if isnum(s) else np.nan for s in stds], capsize=1.5, error_kw={"linewidth": 0.6})
            for xi, mval in zip(x, means):
                if not isnum(mval):
                    ax.text(xi, 0, "null", ha="center", va="bottom", fontsize=5, rotation=90)
            pv = [paper.table3_value(dataset, mask_set, v, metric) for v, _ in rows]
            if any(isnum(p) for p in pv):
                ax.scatter([xi for xi, p in zip(x, pv) if isnum(p)], [p for p in pv if isnum(p)], marker="D",
                           s=9, color=OKABE_ITO["black"], zorder=3, label="paper")
            ax.set_xticks(x)
            ax.set_xticklabels([{"swap": "SWAP"}.get(v, v.capitalize()) for v, _ in rows], rotation=45, fontsize=5.5)
            ax.set_title(f"{METRIC_LABELS[metric]} {arrow(metric)}")
            ax.grid(axis="x", visible=False)
            vals = [m for m in means if isnum(m)] + [p for p in pv if isnum(p)]
            if vals and metric != "fid":
                lo, hi = min(vals), max(vals)
                pad = (hi - lo) * 0.3 + 1e-3 * max(abs(hi), 1)
                ax.set_ylim(max(0, lo - pad), hi + pad)
        fig.suptitle(f"SWAP ablation, {where}" + (" †" if off else ""), fontsize=7, x=0.02, ha="left")
        if has_paper:
            fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper right", fontsize=5.5, handletextpad=0.2)
        paths = save(fig, Path(out_dir) / f"ablation_{_slug(dataset, mask_set)}")
    res.paths += paths
    res.captions[paths[0]] = (f"Table 3 as bars, {where}: mean ± std over seeds"
                              + ("; diamonds: the paper's values" if has_paper else "")
                              + ("; † not the paper's protocol (preset/protocol/N)" if off else "") + ".")


def training_figure(rs, dataset, out_dir, res: FigureResult):
    frame = rs.frame[rs.frame.dataset == dataset]
    panels = []
    for (m, v), g in sorted(frame.groupby(["method", "variant"]), key=lambda kv: method_rank(*kv[0])):
        logs = []
        for d, seed in dict(zip(g.run_dir, g.seed)).items():
            df = training_logs(d)
            if len(df) and len(df.columns) > 1:
                logs.append((seed, df))
        if logs:
            panels.append((method_label(m, v, g.display_name.iloc[0]), logs))
    if not panels:
        return
    import matplotlib.pyplot as plt

    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    width = SINGLE if ncols == 1 else DOUBLE
    colors = [OKABE_ITO[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky", "black")]
    with style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, 1.5 * nrows + 0.3), squeeze=False)
        fig.subplots_adjust(left=0.08 if ncols > 1 else 0.16, right=0.98, top=1 - 0.42 / (1.5 * nrows + 0.3),
                            bottom=0.35 / (1.5 * nrows + 0.3) + 0.02, wspace=0.3, hspace=0.6)
        for ax, (label, logs) in zip(axes.flat, panels):
            keys = []
            for _, df in logs:
                keys += [k for k in df.columns if k != "iter" and k not in keys]
            keys = keys[:7]
            positive = True
            for si, (seed, df) in enumerate(logs):
                for ki, k in enumerate(keys):
                    if k not in df.columns:
                        continue
                    s = df[["iter", k]].dropna()
                    positive &= bool((s[k] > 0).all())
                    ax.plot(s["iter"], s[k], color=colors[ki % len(colors)], linewidth=0.8,
                            alpha=1.0 if si == 0 else 0.45, label=k if si == 0 else None)
            if positive:
                ax.set_yscale("log")
            ax.set_title(label + (f" ({len(logs)} seeds)" if len(logs) > 1 else ""))
            ax.set_xlabel("iteration")
            ax.legend(fontsize=5, ncol=1 if len(keys) < 4 else 2, handlelength=1.2)
        for ax in list(axes.flat)[len(panels):]:
            ax.set_visible(False)
        fig.suptitle(f"Training losses, {dataset_label(dataset)}", fontsize=7)
        paths = save(fig, Path(out_dir) / f"training_{_slug(dataset)}")
    res.paths += paths
    res.captions[paths[0]] = (f"Training losses per iteration, {dataset_label(dataset)} (from mmengine "
                              f"vis_data/scalars.json; later seeds lighter).")


# ----------------------------------------------------------------------------------------------- entry points
def make_figures(results, out_dir, images=None) -> FigureResult:
    """Every figure the results allow; ``out_dir`` is the reports folder (figures go to ``<out_dir>/figures``)."""
    rs = results if isinstance(results, RunSet) else collect_runs(results)
    res = FigureResult()
    fig_dir = Path(out_dir) / "figures"
    if rs.empty:
        res.notes.append("no metrics.json found: no figures")
        return res
    agg = aggregate(rs.frame)
    images = [int(i) for i in images] if images else None
    cmap = ColorMap()
    for ds, ms in _cells(rs):
        rows = qualitative_figure(rs, agg, ds, ms, fig_dir, images, res)
        segmentation_figure(rs, agg, ds, ms, fig_dir, images, res, preferred=rows)
        attention_figure(rs, agg, ds, ms, fig_dir, images, res)
        hole_ratio_figure(rs, agg, ds, ms, fig_dir, res, cmap)
        ablation_figure(rs, agg, ds, ms, fig_dir, res)
    for ds in sorted(set(rs.frame.dataset), key=dataset_rank):
        training_figure(rs, ds, fig_dir, res)
    if not any(p.name.startswith("training_") for p in res.paths):
        res.notes.append("training curves: no checkpoints/*/vis_data/scalars.json with loss values in any run")
    return res


def write_figures(results_root, out_dir, images=None, echo=None) -> list[Path]:
    """Write every figure as PNG and PDF under ``<out_dir>/figures/``; notes go to ``echo`` (e.g. click.echo)."""
    res = make_figures(results_root, out_dir, images)
    if echo is not None:
        for n in res.notes:
            echo(f"note: {n}")
    return res.paths


__all__ = ["FigureResult", "colorize", "hole_bins", "make_figures", "palette_for", "write_figures",
           "HIGHER_BETTER"]
