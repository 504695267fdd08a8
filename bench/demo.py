"""``bench demo``: every demo method on the embedded toy dataset (preset ``demo``), the report, and a check that
each learned method fills the hole better than the mean colour of the known pixels.

The runs go through the study's runner (``bench.study.run_plan``): each is one ``bench run --resume`` process
with one torch thread, two at a time, so a second ``bench demo`` (or one after a kill) reuses what is finished.
"""
from __future__ import annotations

import time
from pathlib import Path

from bench.registry import METHODS, register_all_modules

DEMO_PRESET = "demo"
REFERENCE = "meanfill"
MARGIN = 0.05  # a learned method's hole L1 must be at least 5 % below the mean fill's


def demo_plan(methods=None) -> list:
    from bench.study import StudyRun

    register_all_modules()
    names = list(methods) if methods else [n for n in sorted(METHODS) if METHODS[n].in_demo]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise KeyError(f"unknown method(s) {unknown}; registered: {sorted(METHODS)}")
    if any(METHODS[n].trainable for n in names) and REFERENCE not in names:
        names.append(REFERENCE)  # the reference of the learned-fill check
    return [StudyRun(n, None, 0) for n in names]


def learned_fill_check(results_root, preset: str = DEMO_PRESET) -> list[dict]:
    """Per learned method and mask set: its hole L1, the mean fill's, their ratio, and whether it is at least
    ``MARGIN`` below (rows of the demo's own output)."""
    from bench.reports.runs import collect_runs

    register_all_modules()
    frame = collect_runs(results_root).frame
    if frame.empty:
        return []
    frame = frame[(frame.dataset == "toy") & (frame.preset == preset)]
    rows = []
    for ms in sorted(set(frame.mask_set)):
        ref = frame[(frame.method == REFERENCE) & (frame.mask_set == ms)].l1
        if ref.empty:
            continue
        for r in frame[frame.mask_set == ms].itertuples():
            if r.method in METHODS and METHODS[r.method].trainable:
                ratio = r.l1 / float(ref.iloc[0])
                rows.append({"method": r.label, "mask_set": ms, "l1": r.l1, "mean_fill_l1": float(ref.iloc[0]),
                             "ratio": ratio, "ok": bool(ratio <= 1 - MARGIN)})
    return rows


def run_demo(methods=None, results_root=None, out_dir="reports", data_root=None, jobs: int = 2, cfg_options=(),
             echo=print) -> list:
    """Train (preset ``demo``) and evaluate each method on ``toy`` with both fixed mask sets; write ``reports/``;
    print Table 1 and the learned-fill check. Returns the check's rows."""
    from bench.reports import write_report
    from bench.runner import default_results_root
    from bench.study import run_plan

    t0 = time.time()
    root = Path(results_root) if results_root else default_results_root() / "demo"  # its own tables and report
    state = run_plan(demo_plan(methods), root, jobs, DEMO_PRESET, data_root, cfg_options, echo)
    if state.get("failed"):
        raise RuntimeError(f"demo runs failed: {', '.join(state['failed'])} (logs under {root / 'logs'})")
    report = write_report(root, Path(out_dir))            # writes the tables too (tables/tables.md)
    echo((Path(out_dir) / "tables" / "tables.md").read_text())
    rows = learned_fill_check(root)
    if rows:
        echo(f"Learned fills (hole L1, 0-100; a learned method must be at least {MARGIN:.0%} below the mean fill):")
        for r in rows:
            echo(f"  {r['method']:<16s} {r['mask_set']:<10s} L1 {r['l1']:7.3f}  mean fill {r['mean_fill_l1']:7.3f}  "
                 f"ratio {r['ratio']:.3f}  {'ok' if r['ok'] else 'NOT below the mean fill'}")
    echo(f"wrote {report} (tables, figures and the claims of the paper checked against these runs)")
    echo(f"demo finished in {time.time() - t0:.1f}s")
    return rows
