"""Tables, figures and the reproducibility report, from every ``metrics.json`` under a results root.

Library API (the CLI and ``bench demo`` call these):

* :func:`write_tables` ``(results_root, out_dir, formats=("md","tex","csv","html")) -> (markdown_text, paths)``
* :func:`write_figures` ``(results_root, out_dir, images=None) -> paths`` (``<out_dir>/figures/*.{png,pdf}``)
* :func:`write_report` ``(results_root, out_dir) -> path`` (``<out_dir>/REPORT.md`` and ``REPORT.html``;
  writes the tables and figures too)

The paper's numbers live in :mod:`bench.reports.paper_numbers`; the paper's claims in :mod:`bench.reports.claims`.
"""
from __future__ import annotations


def write_tables(results_root, out_dir, formats=("md", "tex", "csv", "html")):
    from bench.reports.tables import write_tables as _w

    return _w(results_root, out_dir, formats)


def write_figures(results_root, out_dir, images=None, echo=None):
    from bench.reports.figures import write_figures as _w

    return _w(results_root, out_dir, images=images, echo=echo)


def write_report(results_root, out_dir, figures: bool = True):
    from bench.reports.report import write_report as _w

    return _w(results_root, out_dir, figures=figures)


__all__ = ["write_figures", "write_report", "write_tables"]
