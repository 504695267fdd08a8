"""``bench demo``: every demo method on the embedded toy dataset with the smoke preset, then the tables."""
from __future__ import annotations

import time
from pathlib import Path

from bench.registry import METHODS, register_all_modules


def run_demo(methods=None, results_root=None, out_dir="reports", data_root=None, echo=print) -> list:
    """Train (smoke) and evaluate each method on ``toy`` with both fixed mask sets; write ``reports/``.

    Finished runs are reused (the same config maps to the same run folder and resumes), so a second
    ``bench demo`` only redoes what is missing.
    """
    from bench import api

    register_all_modules()
    names = list(methods) if methods else [n for n in sorted(METHODS) if METHODS[n].in_demo]
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise KeyError(f"unknown method(s) {unknown}; registered: {sorted(METHODS)}")
    outcomes = []
    t0 = time.time()
    for name in names:
        echo(f"== {name}: train (smoke) + evaluate on toy ==")
        t = time.time()
        outcomes.append(api.run(name, "toy", "smoke", data_root=data_root, results_root=results_root,
                                resume=True))
        echo(f"   done in {time.time() - t:.1f}s -> {outcomes[-1].metrics_path}")
    from bench.reports import write_report
    from bench.runner import default_results_root

    root = Path(results_root) if results_root else default_results_root()
    report = write_report(root, Path(out_dir))            # writes the tables too (tables/tables.md)
    echo((Path(out_dir) / "tables" / "tables.md").read_text())
    echo(f"wrote {report} (tables, figures and the claims of the paper checked against these runs)")
    echo(f"demo finished in {time.time() - t0:.1f}s")
    return outcomes
