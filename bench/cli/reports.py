"""`bench table`, `bench plot`, `bench report`: tables, figures and the report from what was measured."""
from __future__ import annotations

from pathlib import Path

import click

from bench.cli.common import _split, main


@main.command()
@click.option("--results", "results_root", type=click.Path(file_okay=False), default=None)
@click.option("--out", type=click.Path(file_okay=False), default="reports", show_default=True)
@click.option("--format", "formats", default="md,tex,csv,html", show_default=True,
              help="comma-separated: md (Markdown), tex (LaTeX booktabs), csv (tidy), html (one page)")
def table(results_root, out, formats):
    """Tables 1-3 (quality, mIoU, SWAP ablation) beside the paper's values, from every metrics.json.

    \b
    Example:
      bench table --results results --out reports --format md,tex
    """
    from bench.reports import write_tables
    from bench.runner import default_results_root

    root = Path(results_root) if results_root else default_results_root()
    text, paths = write_tables(root, Path(out), _split(formats))
    click.echo(text)
    click.echo("wrote " + ", ".join(str(p) for p in paths))


@main.command()
@click.option("--results", "results_root", type=click.Path(file_okay=False), default=None)
@click.option("--out", type=click.Path(file_okay=False), default="reports", show_default=True,
              help="reports folder; figures go to <out>/figures/")
@click.option("--images", default=None, help="comma-separated image ids for the image grids (default: median, "
              "best and worst of SWAP vs the best baseline)")
def plot(results_root, out, images):
    """Figures (PNG + PDF): qualitative grid, segmentation, attention, metric vs hole ratio, ablation, training.

    \b
    Example:
      bench plot --results results --out reports --images 3,17,42
    """
    from bench.reports import write_figures
    from bench.runner import default_results_root

    root = Path(results_root) if results_root else default_results_root()
    try:
        ids = [int(i) for i in _split(images)]
    except ValueError as e:
        raise click.BadParameter(f"--images takes integer ids, e.g. 3,17,42 ({e})") from e
    paths = write_figures(root, Path(out), images=ids or None, echo=click.echo)
    click.echo(f"wrote {len(paths)} files" + (":\n  " + "\n  ".join(str(p) for p in paths) if paths else ""))


@main.command()
@click.option("--results", "results_root", type=click.Path(file_okay=False), default=None)
@click.option("--out", type=click.Path(file_okay=False), default="reports", show_default=True)
def report(results_root, out):
    """Reproducibility report (REPORT.md + REPORT.html): runs, tables, figures, the paper's claims checked.

    \b
    Example:
      bench report --results results --out reports
    """
    from bench.reports import write_report
    from bench.runner import default_results_root

    root = Path(results_root) if results_root else default_results_root()
    path = write_report(root, Path(out))
    click.echo(f"wrote {path} and {path.with_suffix('.html')}")
