"""``REPORT.md`` and ``REPORT.html``: what was run, Tables 1-3 with the paper's values and deltas, the figures,
and one line per claim of the paper (reproduced / not reproduced / not run), all computed from the results.

The report is built as a list of blocks rendered twice (Markdown, and a self-contained HTML page with the
figures embedded), so the two never disagree.
"""
from __future__ import annotations

import base64
import datetime as _dt
import html as _html
import os
from pathlib import Path

import pandas as pd

from bench.io import atomic_write_text
from bench.reports import paper_numbers as paper
from bench.reports.aggregate import aggregate
from bench.reports.claims import check_claims
from bench.reports.runs import (CONSTANT_FILL_LEVELS, CONSTANT_ROW_FRACTION, collect_runs, dataset_label,
                                dataset_rank, mask_label, mask_rank, method_rank)
from bench.reports.tables import (MARK_CONSTANT, MARK_IDENTICAL, Table, build_tables, html_page, to_html_fragment,
                                  to_markdown, write_tables)

STATUS_ICON = {"reproduced": "✅", "not reproduced": "❌", "not run": "⏳"}
#: Methods whose fill is one colour by design (references): still marked, with the reason said.
FLAT_BY_DESIGN = {"meanfill": "by construction: the reference the guard must flag"}


def _short(sha) -> str:
    return str(sha)[:12] if sha else "–"


def _secs(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "–"
    v = float(v)
    return f"{v:.0f} s" if v < 600 else f"{v / 3600:.2f} h"


def runs_table(rs) -> tuple[list, list]:
    """(headers, rows) of every run: identity, N and mask-set hash per mask set, times, device."""
    headers = ["dataset", "method", "variant", "preset", "protocol", "seed", "mask sets (N, sha256)", "train iters",
               "train", "eval", "device", "config hash", "folder"]
    rows = []
    if rs.empty:
        return headers, rows
    f = rs.frame
    for path, g in sorted(f.groupby("path"), key=lambda kv: (dataset_rank(kv[1].dataset.iloc[0]),
                                                            method_rank(kv[1].method.iloc[0], kv[1].variant.iloc[0]),
                                                            str(kv[1].seed.iloc[0]))):
        r = g.iloc[0]
        sets = ", ".join(f"{ms} ({int(n)}, {_short(sha)})" for ms, n, sha in
                         sorted(zip(g.mask_set, g.n, g.mask_sha256), key=lambda t: mask_rank(t[0])))
        try:
            folder = os.path.relpath(r.run_dir, rs.root)
        except ValueError:
            folder = r.run_dir
        rows.append([r.dataset, r.label, r.variant, r.preset, r.protocol, str(r.seed), sets,
                     "–" if pd.isna(r.train_iters) else str(int(r.train_iters)), _secs(r.train_wall_s),
                     _secs(r.eval_wall_s), str(r.device or "–"), str(r.config_hash or "–")[:12], folder])
    return headers, rows


def environment(rs) -> dict:
    """Package versions, devices, git revisions and total wall time over all runs."""
    pk: dict = {}
    devices, gits, total = set(), set(), 0.0
    for doc in rs.documents.values():
        prov = doc.get("provenance") or {}
        for k, v in (prov.get("packages") or {}).items():
            pk.setdefault(k, set()).add(str(v))
        dev = prov.get("device_name") or prov.get("device")
        if dev:
            devices.add(f"{prov.get('device', '')}: {dev}".strip(": "))
        rev = (prov.get("git") or {}).get("revision")
        if rev:
            gits.add(rev[:12] + (" (dirty)" if (prov.get("git") or {}).get("dirty") else ""))
        for k in ("train", "eval"):
            v = (prov.get("wall_time_s") or {}).get(k)
            if isinstance(v, (int, float)):
                total += float(v)
    return {"packages": {k: ", ".join(sorted(v)) for k, v in sorted(pk.items())}, "devices": sorted(devices),
            "git": sorted(gits), "wall_time_s": total}


def guard_warnings(agg) -> tuple[list, list]:
    """The constant-output guard in words: ``(constant rows, identical pairs)``, one line each, from the
    aggregated configurations (``constant``, ``constant_fill``, ``identical_to``)."""
    constant, identical = [], []
    if agg is None or agg.empty or "constant" not in agg.columns:
        return constant, identical
    seen = set()
    for r in agg.itertuples():
        where = f"{dataset_label(r.dataset)}, {mask_label(r.mask_set)}"
        config = f"{r.preset}, protocol {r.protocol}, N={int(r.n)}"
        if r.constant:
            why = FLAT_BY_DESIGN.get(r.method)
            constant.append(f"{where}: **{r.label}** ({config}): {r.constant_fill:.0%} of the images"
                            + (f" ({why})" if why else ""))
        for other in r.identical_to or []:
            pair = (r.dataset, r.mask_set, frozenset((r.label, other)))
            if pair not in seen:
                seen.add(pair)
                identical.append(f"{where}: **{r.label}** ≡ **{other}**")
    return constant, identical


def build_blocks(results_root, out_dir, figures: bool = True) -> list:
    rs = collect_runs(results_root)
    agg = aggregate(rs.frame)
    tables = build_tables(rs)
    claims = check_claims(agg)
    fig_res = None
    if figures:
        from bench.reports.figures import make_figures

        fig_res = make_figures(rs, out_dir)
    b = []
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    b.append(("h1", "Reproducibility report: Image Inpainting Guided by Coherence Priors of Semantics and "
                    "Textures (Liao et al., CVPR 2021)"))
    b.append(("p", f"Generated {now} by `bench report` from {len(rs.documents)} metrics.json file(s) under "
                   f"`{rs.root}`. Every number, mark and claim status below is computed from those files and from "
                   f"the paper's values stored in `bench/reports/paper_numbers.py`."))
    counts = {s: sum(c.status == s for c in claims) for s in STATUS_ICON}
    off = sum(c.off_protocol and c.status != "not run" for c in claims)
    constant, identical = guard_warnings(agg)
    b.append(("h2", "Summary"))
    b.append(("ul", [f"claims checked: {len(claims)} — reproduced {counts['reproduced']}, not reproduced "
                     f"{counts['not reproduced']}, not run {counts['not run']}"
                     + (f" ({off} computed from runs outside the paper's protocol, marked †)" if off else ""),
                     f"runs: {len(rs.documents)}; configurations: {0 if agg.empty else len(agg)}; datasets: "
                     + (", ".join(dataset_label(d) for d in sorted(set(rs.frame.dataset), key=dataset_rank))
                        if not rs.empty else "none"),
                     "paper protocol: preset `paper`, protocol `paper`, Outdoor Scenes N=300, Cityscapes N=500; "
                     "other runs are marked † wherever they stand beside a paper value"]
              + ([f"⚠️ constant-output guard: {len(constant)} row(s) with outputs constant inside the hole "
                  f"({MARK_CONSTANT}), {len(identical)} pair(s) of rows with identical per-image results "
                  f"({MARK_IDENTICAL}); see Tables"] if constant or identical else [])))
    b.append(("h2", "Claims of the paper"))
    items = []
    for c in claims:
        mark = " †" if c.off_protocol and c.status != "not run" else ""
        mark += " ⚠️" if c.warnings and c.status != "not run" else ""
        items.append(f"{STATUS_ICON[c.status]} **{c.status}**{mark} — {c.text} [{c.source}]. {c.detail}")
    b.append(("ul", items))
    b.append(("p", "† computed from runs that differ from the paper's protocol (preset, protocol or N); "
                   "the comparison is between the reproduced methods, not with the paper's numbers."))

    b.append(("h2", "What was run"))
    headers, rows = runs_table(rs)
    if rows:
        b.append(("grid", headers, rows))
    else:
        b.append(("p", "Nothing: no metrics.json was found. Run `bench run` or `bench demo`."))
    env = environment(rs)
    if env["packages"]:
        b.append(("h3", "Software and hardware"))
        b.append(("grid", ["package", "version(s)"], [[k, v] for k, v in env["packages"].items()]))
        b.append(("ul", [f"devices: {', '.join(env['devices']) or 'unknown'}",
                         f"git revisions: {', '.join(env['git']) or 'unknown'}",
                         f"total wall time (train + eval, all runs): {_secs(env['wall_time_s'])}"]))
    if rs.problems:
        b.append(("h3", "Unreadable results (skipped)"))
        b.append(("ul", list(rs.problems)))

    b.append(("h2", "Tables"))
    if constant:
        b.append(("p", f"⚠️ **Warning: outputs constant inside the hole** (marked {MARK_CONSTANT} beside the "
                       f"numbers of Tables 1 and 3). In more than {CONSTANT_ROW_FRACTION:.0%} of their images these "
                       f"rows filled the hole with one flat colour (varying by less than {CONSTANT_FILL_LEVELS:g} "
                       "grey level where the ground truth varies): their numbers score a flat fill and do not show "
                       "that the method learned."))
        b.append(("ul", constant))
    if identical:
        b.append(("p", f"⚠️ **Warning: identical per-image results** (marked {MARK_IDENTICAL} beside the numbers "
                       "of Tables 1 and 3). These rows have the same PSNR, SSIM and L1 for every image: they scored "
                       "the same outputs, so at least one of them is not the method its name says."))
        b.append(("ul", identical))
    for t in tables:
        b.append(("table", t))
    b.append(("h3", "User study (Sec. 4.4): the paper's claim, not run"))
    us = paper.USER_STUDY
    b.append(("grid", ["method", "first places (paper)", "reproduced"],
              [[paper.PAPER_METHOD_NAMES[m], f"{v:.1f} %", "not run"]
               for m, v in us["first_place_percent"].items()]))
    b.append(("p", f"{us['subjects']} subjects ranked {us['images']} images: {us['rankings']:,} rankings."))

    b.append(("h2", "Figures"))
    if fig_res is None:
        b.append(("p", "Figures were not drawn (run `bench plot`)."))
    else:
        kinds = ("qualitative", "segmentation", "attention", "hole_ratio", "ablation", "training")
        pngs = sorted((p for p in fig_res.paths if p.suffix == ".png"),
                      key=lambda p: next((i for i, k in enumerate(kinds) if p.name.startswith(k)), len(kinds)))
        for p in pngs:
            b.append(("img", p, fig_res.captions.get(p, p.stem)))
        if not pngs:
            b.append(("p", "No figure could be drawn from these results."))
        if fig_res.notes:
            b.append(("h3", "Figure notes"))
            b.append(("ul", list(fig_res.notes)))

    b.append(("h2", "What is missing"))
    missing = []
    t1 = tables[0]
    not_run = sorted({(r["dataset"], r["mask_set"], r["label"]) for r in t1.records
                      if r.get("runs") == 0 and r.get("paper") is not None})
    if not_run:
        missing.append(f"Table 1 cells with a paper value but no run: {len(not_run)} — "
                       + "; ".join(f"{dataset_label(d)}/{m}/{lab}" for d, m, lab in not_run))
    off_rows = sorted({(r["dataset"], r["mask_set"], r["label"]) for t in tables for r in t.records
                       if r.get("comparable") is False and r.get("paper") is not None})
    if off_rows:
        missing.append("cells with a paper value but only runs outside the paper's protocol: "
                       + "; ".join(f"{dataset_label(d)}/{m}/{lab}" for d, m, lab in off_rows))
    nulls = sorted({(r["dataset"], r["mask_set"], r["label"], r["metric"], r.get("null_reason", ""))
                    for t in tables for r in t.records if r.get("null_reason")})
    if nulls:
        missing.append("null metrics: " + "; ".join(f"{dataset_label(d)}/{m}/{lab} {k} ({why})"
                                                     for d, m, lab, k, why in nulls))
    nr = [c.text for c in claims if c.status == "not run"]
    if nr:
        missing.append(f"claims not run: {len(nr)} — " + "; ".join(nr))
    b.append(("ul", missing or ["nothing: every paper cell and claim has a reproduced value"]))
    return b


# ----------------------------------------------------------------------------------------------- render
def _md_grid(headers, rows) -> str:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(esc(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def render_markdown(blocks, out_dir: Path) -> str:
    out = []
    for blk in blocks:
        kind = blk[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + blk[1])
        elif kind == "p":
            out.append(blk[1])
        elif kind == "ul":
            out.append("\n".join(f"- {x}" for x in blk[1]))
        elif kind == "grid":
            out.append(_md_grid(blk[1], blk[2]))
        elif kind == "table":
            out.append(to_markdown(blk[1], heading="###").rstrip())
        elif kind == "img":
            rel = os.path.relpath(blk[1], out_dir)
            pdf = Path(rel).with_suffix(".pdf")
            out.append(f"![{blk[2]}]({rel})\n\n*{blk[2]}* ([PDF]({pdf}))")
    return "\n\n".join(out) + "\n"


def _inline_md(s: str) -> str:
    """Escape, then turn **bold** and `code` into HTML."""
    import re

    s = _html.escape(s)
    s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", s)


def render_html(blocks) -> str:
    e = _html.escape
    out = []
    for blk in blocks:
        kind = blk[0]
        if kind in ("h1", "h2", "h3"):
            out.append(f"<{kind}>{e(blk[1])}</{kind}>")
        elif kind == "p":
            out.append(f"<p>{_inline_md(blk[1])}</p>")
        elif kind == "ul":
            out.append("<ul>" + "".join(f"<li>{_inline_md(x)}</li>" for x in blk[1]) + "</ul>")
        elif kind == "grid":
            head = "".join(f'<th class="l">{e(str(h))}</th>' for h in blk[1])
            body = "".join("<tr>" + "".join(f'<td class="l">{e(str(c))}</td>' for c in r) + "</tr>" for r in blk[2])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif kind == "table":
            out.append(to_html_fragment(blk[1]))
        elif kind == "img":
            data = base64.b64encode(Path(blk[1]).read_bytes()).decode("ascii")
            out.append(f'<figure><img alt="{e(blk[2])}" src="data:image/png;base64,{data}">'
                       f"<figcaption>{e(blk[2])}</figcaption></figure>")
    return html_page("inpaint-bench reproducibility report", "\n".join(out))


def write_report(results_root, out_dir, figures: bool = True) -> Path:
    """Write ``<out_dir>/REPORT.md`` and ``REPORT.html`` (plus the tables under ``tables/`` and, with
    ``figures=True``, the figures under ``figures/``); returns the Markdown path."""
    out_dir = Path(out_dir)
    write_tables(results_root, out_dir)
    blocks = build_blocks(results_root, out_dir, figures=figures)
    path = atomic_write_text(out_dir / "REPORT.md", render_markdown(blocks, out_dir))
    atomic_write_text(out_dir / "REPORT.html", render_html(blocks))
    return path


__all__ = ["Table", "build_blocks", "guard_warnings", "render_html", "render_markdown", "runs_table", "write_report"]
