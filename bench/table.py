"""Kept for callers of ``bench.table.write_tables(root, out_dir)`` (``bench demo``); the tables live in
:mod:`bench.reports.tables` (Tables 1-3 with the paper's values, Markdown / LaTeX / CSV / HTML)."""
from __future__ import annotations

from pathlib import Path

from bench.reports.tables import FORMATS, build_tables, render_markdown
from bench.reports.tables import write_tables as _write_tables


def write_tables(results_root: str | Path, out_dir: str | Path, formats=FORMATS) -> tuple[str, list[Path]]:
    """Tables 1-3 -> ``(markdown_text, paths)``; same as :func:`bench.reports.write_tables`."""
    return _write_tables(results_root, out_dir, formats)


__all__ = ["build_tables", "render_markdown", "write_tables"]
