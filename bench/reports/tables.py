"""Tables 1-3 of the paper, reproduced, each cell beside the paper's value and the difference
(clean-fid-leaderboard style "paper | reproduced | Δ"), rendered as Markdown, LaTeX (booktabs), CSV, HTML.

Marks (each table's footnotes say which cells and why):

* ``†`` the row's runs differ from the paper's protocol (preset, evaluation protocol or number of images):
  the paper's value is shown for reference only.
* ``‡`` the metric is null in the results (the footnote gives the reason from ``metrics.json``).
* ``¶`` the metric is null in some of the row's runs (mean over the others).
* ``#`` the row's runs were scored on different mask sets (different sha256).
* ``§`` the paper does not state the mask set (Tables 2 and 3).
* ``!`` beside a row's reproduced numbers: its outputs are one flat colour inside the hole in more than half of
  the images (``constant_fill`` of ``PixelMetric``): the numbers score a flat fill, not a learned one.
* ``≡`` beside a row's reproduced numbers: its per-image PSNR/SSIM/L1 equal, image by image, those of another
  method's row (named in the footnote): both rows scored the same outputs.

The last two are the constant-output guard: a method that did not learn must not pass for one that did. They mark
the image-quality numbers of Tables 1 and 3; Table 2's mIoU scores the predicted segmentation, which neither
measure looks at.
"""
from __future__ import annotations

import html as _html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from bench.io import atomic_write_text
from bench.reports import paper_numbers as paper
from bench.reports.aggregate import aggregate, isnum
from bench.reports.runs import (CONSTANT_FILL_LEVELS, CONSTANT_ROW_FRACTION, DECIMALS, HIGHER_BETTER,
                                IDENTITY_COLUMNS, METRIC_LABELS, RunSet, arrow, collect_runs, dataset_label,
                                dataset_rank, mask_label, mask_rank, method_label, method_rank)

FORMATS = ("md", "tex", "csv", "html")
PAPER_DECIMALS = 2
MARK_OFF, MARK_NULL, MARK_PARTIAL, MARK_MASKS, MARK_UNSTATED = "†", "‡", "¶", "#", "§"
MARK_CONSTANT, MARK_IDENTICAL = "!", "≡"
MARK_ORDER = (MARK_OFF, MARK_NULL, MARK_PARTIAL, MARK_MASKS, MARK_UNSTATED, MARK_CONSTANT, MARK_IDENTICAL)
CONSTANT_NOTE = (f"outputs constant inside the hole (one flat colour, varying by less than {CONSTANT_FILL_LEVELS:g} "
                 f"grey level where the ground truth varies) in more than {CONSTANT_ROW_FRACTION:.0%} of the "
                 "images: these numbers score a flat fill, not a learned one")
IDENTICAL_NOTE = ("per-image results (" + "/".join(METRIC_LABELS[c] for c in IDENTITY_COLUMNS)
                  + " of every image) identical to another method's row: both rows scored the same outputs")
NOT_RUN = "not run"


# ----------------------------------------------------------------------------------------------- model
@dataclass
class Cell:
    text: str = "–"
    bold: bool = False
    marks: str = ""


@dataclass
class Column:
    key: str
    header: str
    group: str = ""  # spanning header (metric), '' for a stand-alone column
    align: str = "r"


@dataclass
class Group:
    title: str
    rows: list = field(default_factory=list)  # list[dict[column key -> Cell]]


@dataclass
class Table:
    name: str  # table1 | table2 | table3
    title: str
    caption: str
    columns: list
    groups: list
    footnotes: list = field(default_factory=list)  # [(mark, text)]
    records: list = field(default_factory=list)  # tidy rows for CSV

    @property
    def empty(self) -> bool:
        return not any(g.rows for g in self.groups)


class _Notes:
    """Footnotes keyed by (mark, reason), listing the cells they apply to."""

    def __init__(self):
        self._items: dict = {}

    def add(self, mark: str, reason: str, where: str = "") -> str:
        lst = self._items.setdefault((mark, reason), [])
        if where and where not in lst:
            lst.append(where)
        return mark

    def lines(self) -> list:
        order = MARK_ORDER
        items = sorted(self._items.items(), key=lambda kv: (order.index(kv[0][0]) if kv[0][0] in order else 9))
        out = []
        for (mark, reason), where in items:
            text = reason if not where else f"{reason} — {', '.join(where)}"
            out.append((mark, text))
        return out


def _fmt(v, metric: str, decimals: int | None = None) -> str:
    d = DECIMALS.get(metric, 3) if decimals is None else decimals
    return f"{v:.{d}f}"


def _fmt_delta(v, metric: str) -> str:
    d = DECIMALS.get(metric, 3)
    s = f"{v:+.{d}f}"
    return s.replace("-", "−") if s.startswith("-") else s


def _metric_cells(row, metric: str, paper_value, notes: _Notes, where: str, with_paper: bool = True,
                  paper_mark: str = "") -> tuple[dict, dict]:
    """Cells ``<metric>_paper``, ``<metric>_repr``, ``<metric>_delta`` for one row, and a tidy record."""
    cells, rec = {}, {"metric": metric, "paper": paper_value}
    if with_paper:
        cells[f"{metric}_paper"] = Cell(_fmt(paper_value, metric, PAPER_DECIMALS) if isnum(paper_value) else "–",
                                        marks=paper_mark if isnum(paper_value) else "")
    if row is None:
        cells[f"{metric}_repr"] = Cell(NOT_RUN)
        if with_paper:
            cells[f"{metric}_delta"] = Cell("–")
        rec.update(mean=None, std=None, runs_with_value=0, delta=None)
        return cells, rec
    mean, std = getattr(row, f"{metric}_mean"), getattr(row, f"{metric}_std")
    count = int(getattr(row, f"{metric}_count"))
    marks = ""
    if count == 0:
        reason = (row.reasons or {}).get(metric) or "null in metrics.json (no reason recorded)"
        marks += notes.add(MARK_NULL, f"{METRIC_LABELS.get(metric, metric)} null: {reason}", where)
        cells[f"{metric}_repr"] = Cell("–", marks=marks)
        if with_paper:
            cells[f"{metric}_delta"] = Cell("–")
        rec.update(mean=None, std=None, runs_with_value=0, delta=None, null_reason=reason)
        return cells, rec
    if count < int(row.runs):
        reason = (row.reasons or {}).get(metric, "")
        marks += notes.add(MARK_PARTIAL, f"{METRIC_LABELS.get(metric, metric)} null in some runs (mean over the "
                           f"others){': ' + reason if reason else ''}", f"{where} ({count}/{int(row.runs)} runs)")
    text = _fmt(mean, metric) + (f" ± {_fmt(std, metric)}" if count > 1 and isnum(std) else "")
    cells[f"{metric}_repr"] = Cell(text, marks=marks)
    delta = None
    if with_paper:
        if isnum(paper_value):
            delta = float(mean) - float(paper_value)
            cells[f"{metric}_delta"] = Cell(_fmt_delta(delta, metric))
        else:
            cells[f"{metric}_delta"] = Cell("–")
    rec.update(mean=float(mean), std=float(std) if isnum(std) else None, runs_with_value=count, delta=delta)
    return cells, rec


def _row_marks(row, notes: _Notes, where: str, has_paper: bool) -> str:
    marks = ""
    if row is None:
        return marks
    if has_paper and row.off_protocol:
        marks += notes.add(MARK_OFF, "differs from the paper's protocol (" + "; ".join(row.off_protocol)
                           + "): the paper's value is shown for reference, not as a like-for-like comparison", where)
    if int(row.mask_sha_count) > 1:
        marks += notes.add(MARK_MASKS, "the runs averaged here were scored on different mask sets (sha256 differ)",
                           where)
    return marks


def _guard_marks(row, notes: _Notes, where: str) -> str:
    """``!`` (constant outputs) and ``≡`` (per-image results identical to another row's) for a row's numbers."""
    if row is None:
        return ""
    marks = ""
    if getattr(row, "constant", False):
        marks += notes.add(MARK_CONSTANT, CONSTANT_NOTE, f"{where} ({row.constant_fill:.0%} of images)")
    others = list(getattr(row, "identical_to", None) or [])
    if others:
        marks += notes.add(MARK_IDENTICAL, IDENTICAL_NOTE, f"{where} ≡ {' and '.join(others)}")
    return marks


def _mark_numbers(cells: dict, marks: str) -> None:
    """Append the guard's marks to every reproduced number of a row (not to '–' or 'not run')."""
    if not marks:
        return
    for key, cell in cells.items():
        if key.endswith("_repr") and isinstance(cell, Cell) and cell.text not in ("–", NOT_RUN):
            cell.marks += marks


def _bold_best(group: Group, metrics, paper_too: bool = True) -> None:
    """Bold the best reproduced value (and the best paper value) per metric column in a group."""
    for metric in metrics:
        hi = HIGHER_BETTER.get(metric, True)
        for suffix, key in (("repr", "_mean"), ("paper", "_paper_value")):
            if suffix == "paper" and not paper_too:
                continue
            vals = [(r.get("_" + metric + key)) for r in group.rows]
            nums = [v for v in vals if isnum(v)]
            if len(nums) < 2:  # nothing to compare with
                continue
            best = max(nums) if hi else min(nums)
            col = f"{metric}_{suffix}"
            for r, v in zip(group.rows, vals):
                if isnum(v) and abs(v - best) < 1e-12 and col in r:
                    r[col].bold = True


def _config_columns(row) -> dict:
    if row is None:
        return {"n": Cell("–"), "runs": Cell("0")}
    seeds = ",".join(str(s) for s in row.seeds)
    return {"n": Cell(str(int(row.n))), "runs": Cell(f"{int(row.runs)}" + (f" (seeds {seeds})" if seeds else ""))}


def _tidy(table: str, dataset, mask_set, method, variant, label, row, rec) -> dict:
    base = {"table": table, "dataset": dataset, "mask_set": mask_set, "method": method, "variant": variant,
            "label": label}
    if row is not None:
        cf = getattr(row, "constant_fill", None)
        base.update(preset=row.preset, protocol=row.protocol, n=int(row.n), runs=int(row.runs),
                    seeds=" ".join(str(s) for s in row.seeds), comparable=not row.off_protocol,
                    off_protocol="; ".join(row.off_protocol), constant_fill=float(cf) if isnum(cf) else None,
                    constant_output=bool(getattr(row, "constant", False)),
                    identical_to="; ".join(getattr(row, "identical_to", None) or []))
    else:
        base.update(preset=None, protocol=None, n=None, runs=0, seeds="", comparable=None, off_protocol="",
                    constant_fill=None, constant_output=None, identical_to="")
    base.update(rec)
    return base


# ----------------------------------------------------------------------------------------------- tables
def _metric_columns(metrics_with_paper, metrics_plain) -> list:
    cols = []
    for m in metrics_with_paper:
        g = f"{METRIC_LABELS[m]}{arrow(m)}"
        cols += [Column(f"{m}_paper", "paper", g), Column(f"{m}_repr", "reproduced", g), Column(f"{m}_delta", "Δ", g)]
    for m in metrics_plain:
        cols.append(Column(f"{m}_repr", f"{METRIC_LABELS[m]}{arrow(m)}"))
    cols += [Column("n", "N"), Column("runs", "runs")]
    return cols


def _groups_index(agg: pd.DataFrame, extra_keys) -> list:
    keys = set(extra_keys)
    if agg is not None and not agg.empty:
        keys |= set(zip(agg.dataset, agg.mask_set))
    return sorted(keys, key=lambda k: (dataset_rank(k[0]), mask_rank(k[1])))


def build_table1(agg: pd.DataFrame, include_unrun: bool = True) -> Table:
    metrics_p, metrics_plain = ("psnr", "ssim", "fid"), ("lpips", "kid_mean")
    cols = [Column("method", "Method", align="l")] + _metric_columns(metrics_p, metrics_plain)
    notes, groups, records = _Notes(), [], []
    for ds, ms in _groups_index(agg, paper.TABLE1.keys() if include_unrun else ()):
        gtitle = f"{dataset_label(ds)}, {mask_label(ms)}"
        grp = Group(gtitle)
        sel = agg[(agg.dataset == ds) & (agg.mask_set == ms)] if not agg.empty else agg
        sel = sel[~((sel.method == "swap") & (sel.variant != "full"))] if not sel.empty else sel
        entries = [(r.method, r.variant, r) for r in sel.itertuples()] if not sel.empty else []
        have = {(m, v) for m, v, _ in entries}
        for (m, v) in paper.PAPER_METHOD_ORDER:
            if (m, v) not in have and paper.TABLE1.get((ds, ms), {}).get(m):
                entries.append((m, v, None))
        entries.sort(key=lambda e: (method_rank(e[0], e[1]), e[2] is not None and bool(e[2].off_protocol)))
        for m, v, row in entries:
            label = row.label if row is not None else method_label(m, v)
            where = f"{gtitle}: {label}"
            has_paper = any(isnum(paper.table1_value(ds, ms, m, v, k)) for k in metrics_p)
            cells = {}
            for k in metrics_p:
                pv = paper.table1_value(ds, ms, m, v, k)
                c, rec = _metric_cells(row, k, pv, notes, where)
                cells.update(c)
                cells[f"_{k}_mean"] = rec["mean"]
                cells[f"_{k}_paper_value"] = pv
                records.append(_tidy("table1", ds, ms, m, v, label, row, rec))
            for k in metrics_plain:
                c, rec = _metric_cells(row, k, None, notes, where, with_paper=False)
                cells.update(c)
                cells[f"_{k}_mean"] = rec["mean"]
                records.append(_tidy("table1", ds, ms, m, v, label, row, rec))
            _mark_numbers(cells, _guard_marks(row, notes, where))
            cells["method"] = Cell(label, marks=_row_marks(row, notes, where, has_paper))
            cells.update(_config_columns(row))
            grp.rows.append(cells)
        _bold_best(grp, metrics_p + metrics_plain)
        groups.append(grp)
    return Table("table1", "Table 1: Inpainting quality (PSNR↑ SSIM↑ FID↓; LPIPS↓ KID↓ reproduced only)",
                 "Mean ± std over runs (seeds); Δ = reproduced − paper; best per column and group in bold.",
                 cols, groups, notes.lines(), records)


def _predicts_segmentation(method: str) -> bool:
    """From the method registry when it is already loaded (tables never import mmengine themselves)."""
    import sys

    reg = sys.modules.get("bench.registry")
    spec = getattr(reg, "METHODS", {}).get(method) if reg is not None else None
    return bool(spec and spec.predicts_segmentation)


def build_table2(agg: pd.DataFrame, include_unrun: bool = True) -> Table:
    cols = [Column("method", "Method", align="l")] + _metric_columns(("miou",), ("miou_hole",))
    notes, groups, records = _Notes(), [], []
    unstated = ("the paper does not state which holes Table 2 used: its value is shown beside every mask set")
    seg_sel = agg
    if not agg.empty:
        keep = [(r.miou_count > 0 or r.miou_hole_count > 0 or _predicts_segmentation(r.method)
                 or paper.table2_value(r.dataset, r.method, r.variant) is not None) for r in agg.itertuples()]
        seg_sel = agg[keep]
    keys = set(zip(seg_sel.dataset, seg_sel.mask_set)) if not seg_sel.empty else set()
    run_ds = {d for d, _ in keys}
    if include_unrun:
        keys |= {(ds, "(mask set not stated)") for ds in paper.TABLE2 if ds not in run_ds}
    for ds, ms in sorted(keys, key=lambda k: (dataset_rank(k[0]), mask_rank(k[1]))):
        gtitle = f"{dataset_label(ds)}, {mask_label(ms)}"
        grp = Group(gtitle)
        sel = seg_sel[(seg_sel.dataset == ds) & (seg_sel.mask_set == ms)] if not seg_sel.empty else seg_sel
        entries = [(r.method, r.variant, r) for r in sel.itertuples()] if not sel.empty else []
        have = {(m, v) for m, v, _ in entries}
        for m, v in paper.PAPER_METHOD_ORDER:
            if (m, v) not in have and paper.table2_value(ds, m, v) is not None:
                entries.append((m, v, None))
        entries.sort(key=lambda e: (method_rank(e[0], e[1]), e[2] is not None and bool(e[2].off_protocol)))
        for m, v, row in entries:
            label = row.label if row is not None else method_label(m, v)
            where = f"{gtitle}: {label}"
            pv = paper.table2_value(ds, m, v)
            pmark = notes.add(MARK_UNSTATED, unstated) if isnum(pv) else ""
            cells = {}
            c, rec = _metric_cells(row, "miou", pv, notes, where, paper_mark=pmark)
            cells.update(c)
            cells["_miou_mean"], cells["_miou_paper_value"] = rec["mean"], pv
            records.append(_tidy("table2", ds, ms, m, v, label, row, rec))
            c, rec = _metric_cells(row, "miou_hole", None, notes, where, with_paper=False)
            cells.update(c)
            cells["_miou_hole_mean"] = rec["mean"]
            records.append(_tidy("table2", ds, ms, m, v, label, row, rec))
            cells["method"] = Cell(label, marks=_row_marks(row, notes, where, isnum(pv)))
            cells.update(_config_columns(row))
            grp.rows.append(cells)
        _bold_best(grp, ("miou", "miou_hole"))
        groups.append(grp)
    return Table("table2", "Table 2: Segmentation accuracy (mIoU↑, fraction) of methods that predict segmentation",
                 "Mean ± std over runs; mIoU (hole): inside the hole only (not in the paper).", cols, groups,
                 notes.lines(), records)


def build_table3(agg: pd.DataFrame, include_unrun: bool = True) -> Table:
    metrics_p, metrics_plain = ("psnr", "ssim", "fid"), ("lpips",)
    cols = ([Column("method", "Variant", align="l"), Column("swap_on", "SWAP", align="c"),
             Column("coloss_on", "Co-Loss", align="c")] + _metric_columns(metrics_p, metrics_plain))
    notes, groups, records = _Notes(), [], []
    sw = agg[agg.method == "swap"] if not agg.empty else agg
    keys = set(zip(sw.dataset, sw.mask_set)) if not sw.empty else set()
    if include_unrun:
        keys |= {(ds, paper.TABLE3_MASK_SET) for ds in paper.TABLE3}
    assumed = ("the paper does not state Table 3's mask set; Ours (Full) equals Table 1's Outdoor Scenes "
               "centre-hole row, so the paper's values are compared with centre holes")
    for ds, ms in sorted(keys, key=lambda k: (dataset_rank(k[0]), mask_rank(k[1]))):
        gtitle = f"{dataset_label(ds)}, {mask_label(ms)}"
        grp = Group(gtitle)
        sel = sw[(sw.dataset == ds) & (sw.mask_set == ms)] if not sw.empty else sw
        entries = [(r.variant, r) for r in sel.itertuples()] if not sel.empty else []
        have = {v for v, _ in entries}
        for v in paper.SWAP_VARIANTS:
            if v not in have and (paper.table3_value(ds, ms, v, "psnr") is not None):
                entries.append((v, None))
        rank = {v: i for i, v in enumerate(paper.SWAP_VARIANTS)}
        entries.sort(key=lambda e: (rank.get(e[0], 9), e[0], e[1] is not None and bool(e[1].off_protocol)))
        for v, row in entries:
            label = paper.SWAP_VARIANT_NAMES.get(v, f"Ours ({v})")
            where = f"{gtitle}: {label}"
            has_paper = any(isnum(paper.table3_value(ds, ms, v, k)) for k in metrics_p)
            pmark = notes.add(MARK_UNSTATED, assumed) if has_paper else ""
            sw_on, co_on = paper.SWAP_VARIANT_SWITCHES.get(v, (None, None))
            cells = {"swap_on": Cell({True: "✓", False: "✗"}.get(sw_on, "?")),
                     "coloss_on": Cell({True: "✓", False: "✗"}.get(co_on, "?"))}
            for k in metrics_p:
                pv = paper.table3_value(ds, ms, v, k)
                c, rec = _metric_cells(row, k, pv, notes, where, paper_mark=pmark)
                cells.update(c)
                cells[f"_{k}_mean"], cells[f"_{k}_paper_value"] = rec["mean"], pv
                records.append(_tidy("table3", ds, ms, "swap", v, label, row, rec))
            for k in metrics_plain:
                c, rec = _metric_cells(row, k, None, notes, where, with_paper=False)
                cells.update(c)
                cells[f"_{k}_mean"] = rec["mean"]
                records.append(_tidy("table3", ds, ms, "swap", v, label, row, rec))
            _mark_numbers(cells, _guard_marks(row, notes, where))
            cells["method"] = Cell(label, marks=_row_marks(row, notes, where, has_paper))
            cells.update(_config_columns(row))
            grp.rows.append(cells)
        _bold_best(grp, metrics_p + metrics_plain)
        groups.append(grp)
    return Table("table3", "Table 3: SWAP ablation (Base, Att, SWAP, Full)",
                 "Mean ± std over runs; Δ = reproduced − paper; best per column and group in bold.", cols, groups,
                 notes.lines(), records)


def build_tables(results, include_unrun: bool = True) -> list:
    """``results``: a results root or a :class:`RunSet` -> [Table 1, Table 2, Table 3]."""
    rs = results if isinstance(results, RunSet) else collect_runs(results)
    agg = aggregate(rs.frame)
    return [build_table1(agg, include_unrun), build_table2(agg, include_unrun), build_table3(agg, include_unrun)]


# ----------------------------------------------------------------------------------------------- render
def _plain(cell: Cell) -> str:
    return cell.text + cell.marks


def to_markdown(table: Table, heading: str = "##") -> str:
    lines = [f"{heading} {table.title}", "", table.caption, ""]
    if table.empty:
        return "\n".join(lines + ["No runs and no paper values for this table.", ""])
    headers = [(f"{c.group} {c.header}" if c.group else c.header) for c in table.columns]
    for grp in table.groups:
        lines += [f"**{grp.title}**", "", "| " + " | ".join(headers) + " |",
                  "|" + "|".join(":--" if c.align == "l" else ("--:" if c.align == "r" else ":-:")
                                 for c in table.columns) + "|"]
        for r in grp.rows:
            out = []
            for c in table.columns:
                cell = r.get(c.key, Cell())
                t = cell.text.replace("|", "\\|")
                out.append((f"**{t}**" if cell.bold else t) + cell.marks)
            lines.append("| " + " | ".join(out) + " |")
        lines.append("")
    for mark, text in table.footnotes:
        lines.append(f"{mark} {text}  ")
    return "\n".join(lines) + "\n"


_TEX = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}", "\\": r"\textbackslash{}", "±": r"$\pm$", "Δ": r"$\Delta$", "−": r"$-$",
        "↑": r"$\uparrow$", "↓": r"$\downarrow$", "†": r"\textsuperscript{\dag}",
        "‡": r"\textsuperscript{\ddag}",
        "§": r"\textsuperscript{\S}", "¶": r"\textsuperscript{\P}", "–": "--", "—": "---", "✓": r"\checkmark{}",
        "✗": r"$\times$", "×": r"$\times$", "≠": r"$\neq$", "≡": r"$\equiv$"}


def tex_escape(s: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in str(s))


def _tex_mark(mark: str) -> str:
    if mark == MARK_MASKS:
        return r"\textsuperscript{\#}"
    if mark == MARK_CONSTANT:
        return r"\textsuperscript{!}"
    if mark == MARK_IDENTICAL:
        return r"\textsuperscript{$\equiv$}"
    return tex_escape(mark)


def to_latex(table: Table) -> str:
    ncol = len(table.columns)
    spec = "".join(c.align for c in table.columns)
    out = [r"% requires \usepackage{booktabs} (and amssymb for \checkmark)", r"\begin{table*}[t]", r"\centering",
           r"\footnotesize", rf"\caption{{{tex_escape(table.title.split(': ', 1)[-1])}. {tex_escape(table.caption)}}}",
           rf"\label{{tab:{table.name}}}", rf"\begin{{tabular}}{{{spec}}}", r"\toprule"]
    # two header rows: spanning metric groups, then sub-headers
    top, cmid, sub = [], [], []
    i = 0
    cols = table.columns
    while i < ncol:
        c = cols[i]
        if c.group:
            j = i
            while j < ncol and cols[j].group == c.group:
                j += 1
            top.append(rf"\multicolumn{{{j - i}}}{{c}}{{{tex_escape(c.group)}}}")
            cmid.append(rf"\cmidrule(lr){{{i + 1}-{j}}}")
            sub += [tex_escape(cols[k].header) for k in range(i, j)]
            i = j
        else:
            top.append(tex_escape(c.header))
            sub.append("")
            i += 1
    if any(c.group for c in cols):
        out += [" & ".join(top) + r" \\", " ".join(cmid), " & ".join(sub) + r" \\"]
    else:
        out.append(" & ".join(tex_escape(c.header) for c in cols) + r" \\")
    for grp in table.groups:
        out += [r"\midrule", rf"\multicolumn{{{ncol}}}{{l}}{{\textit{{{tex_escape(grp.title)}}}}} \\"]
        for r in grp.rows:
            cells = []
            for c in cols:
                cell = r.get(c.key, Cell())
                t = tex_escape(cell.text)
                t = rf"\textbf{{{t}}}" if cell.bold else t
                cells.append(t + "".join(_tex_mark(m) for m in cell.marks))
            out.append(" & ".join(cells) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    if table.footnotes:
        out.append(r"\par\smallskip\raggedright\scriptsize")
        out += [_tex_mark(m) + " " + tex_escape(t) + r"\\" for m, t in table.footnotes]
    out.append(r"\end{table*}")
    return "\n".join(out) + "\n"


def to_csv(table: Table) -> str:
    if not table.records:
        return "table,dataset,mask_set,method,variant,label,metric,paper,mean,std,delta\n"
    df = pd.DataFrame(table.records)
    for c in ("n", "runs", "runs_with_value"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype("Int64")
    for c in ("mean", "std", "delta"):
        if c in df.columns:
            df[c] = pd.to_numeric(df[c], errors="coerce").round(6)
    front = ["table", "dataset", "mask_set", "method", "variant", "label", "metric", "paper", "mean", "std",
             "delta", "runs_with_value", "runs", "seeds", "n", "preset", "protocol", "comparable", "off_protocol"]
    cols = [c for c in front if c in df.columns] + [c for c in df.columns if c not in front]
    return df[cols].to_csv(index=False)


HTML_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;max-width:75em;color:#222}
table{border-collapse:collapse;margin:0.5em 0 1.5em 0;font-size:0.9em}
th,td{padding:0.25em 0.6em;text-align:right;white-space:nowrap}
th{border-bottom:1px solid #444} thead tr:first-child th{border-top:2px solid #222}
tbody tr:last-child td{border-bottom:2px solid #222} td.l,th.l{text-align:left} td.c,th.c{text-align:center}
tr.group td{text-align:left;font-style:italic;border-top:1px solid #444;padding-top:0.5em}
td.paper{color:#555} .notes{font-size:0.85em;color:#333} caption{text-align:left;font-weight:600;padding:0.3em 0}
img{max-width:100%} code{background:#f3f3f3;padding:0 0.2em}
"""


def to_html_fragment(table: Table) -> str:
    e = _html.escape
    cols = table.columns
    out = [f'<table id="{table.name}"><caption>{e(table.title)}</caption><thead>']
    if any(c.group for c in cols):
        top, sub, i = [], [], 0
        while i < len(cols):
            c = cols[i]
            if c.group:
                j = i
                while j < len(cols) and cols[j].group == c.group:
                    j += 1
                top.append(f'<th colspan="{j - i}" class="c">{e(c.group)}</th>')
                sub += [f"<th>{e(cols[k].header)}</th>" for k in range(i, j)]
                i = j
            else:
                top.append(f'<th rowspan="2" class="{c.align}">{e(c.header)}</th>')
                i += 1
        out += ["<tr>" + "".join(top) + "</tr>", "<tr>" + "".join(sub) + "</tr>"]
    else:
        out.append("<tr>" + "".join(f'<th class="{c.align}">{e(c.header)}</th>' for c in cols) + "</tr>")
    out.append("</thead><tbody>")
    for grp in table.groups:
        out.append(f'<tr class="group"><td colspan="{len(cols)}">{e(grp.title)}</td></tr>')
        for r in grp.rows:
            tds = []
            for c in cols:
                cell = r.get(c.key, Cell())
                t = e(cell.text)
                t = f"<b>{t}</b>" if cell.bold else t
                if cell.marks:
                    t += f"<sup>{e(cell.marks)}</sup>"
                cls = c.align + (" paper" if c.key.endswith("_paper") else "")
                tds.append(f'<td class="{cls}">{t}</td>')
            out.append("<tr>" + "".join(tds) + "</tr>")
    out.append("</tbody></table>")
    out.append(f'<p class="notes">{e(table.caption)}</p>')
    if table.footnotes:
        out.append('<p class="notes">' + "<br>".join(f"{e(m)} {e(t)}" for m, t in table.footnotes) + "</p>")
    return "\n".join(out)


def html_page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_html.escape(title)}</title>'
            f"<style>{HTML_STYLE}</style></head><body>\n{body}\n</body></html>\n")


def render_markdown(tables) -> str:
    return "\n".join(to_markdown(t) for t in tables)


def write_tables(results_root, out_dir, formats=FORMATS, include_unrun: bool = True):
    """Tables 1-3 from every ``metrics.json`` under ``results_root`` -> ``(markdown_text, paths)``.

    Writes ``<out_dir>/tables/table{1,2,3}.{md,tex,csv}``, ``tables.md`` (all three) and ``tables.html``
    (one self-contained page), for the formats asked for.
    """
    formats = tuple(f.strip().lower().lstrip(".") for f in (formats.split(",") if isinstance(formats, str)
                                                           else formats) if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown table format(s) {bad}; choose from {', '.join(FORMATS)}")
    rs = collect_runs(results_root)
    tables = build_tables(rs, include_unrun)
    text = render_markdown(tables)
    if rs.empty:
        text = (f"No metrics.json under {results_root}: run `bench run` or `bench demo` first "
                f"(the paper's values are shown as 'not run').\n\n") + text
    if rs.problems:
        text += "\nSkipped unreadable results:\n" + "\n".join(f"- {p}" for p in rs.problems) + "\n"
    d = Path(out_dir) / "tables"
    paths = []
    for t in tables:
        if "md" in formats:
            paths.append(atomic_write_text(d / f"{t.name}.md", to_markdown(t)))
        if "tex" in formats:
            paths.append(atomic_write_text(d / f"{t.name}.tex", to_latex(t)))
        if "csv" in formats:
            paths.append(atomic_write_text(d / f"{t.name}.csv", to_csv(t)))
    if "md" in formats:
        paths.append(atomic_write_text(d / "tables.md", text))
    if "html" in formats:
        body = "<h1>inpaint-bench: the paper's tables, reproduced</h1>\n" + "\n".join(
            to_html_fragment(t) for t in tables)
        paths.append(atomic_write_text(d / "tables.html", html_page("inpaint-bench tables", body)))
    return text, paths
