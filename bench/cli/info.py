"""`bench methods`, `bench datasets`, `bench weights`: what the harness has and where it looks."""
from __future__ import annotations

from pathlib import Path

import click

from bench.cli.common import main


@main.command()
@click.option("--counts/--no-counts", default=True, show_default=True,
              help="build each paper-size model to count parameters (a few seconds)")
def methods(counts):
    """Registered methods, variants, parameter counts and where each comes from.

    \b
    Example:
      bench methods
    """
    from bench.catalog import describe_methods

    for row in describe_methods(counts=counts):
        click.echo(f"{row['name']}  ({row['display_name']})")
        click.echo(f"    variants: {', '.join(row['variants'])}   trainable: {row['trainable']}   "
                   f"segmentation: {row['predicts_segmentation']}")
        click.echo(f"    origin: {row['origin']}")
        if row.get("parameters"):
            parts = ", ".join(f"{k} {v:,}" for k, v in row["parameters"].items())
            click.echo(f"    parameters (paper size): {parts}")
        elif row.get("parameters_error"):
            click.echo(f"    parameters: not available ({row['parameters_error']})")


@main.command()
@click.option("--data-root", type=click.Path(file_okay=False), default=None,
              help="datasets root [env BENCH_DATA_ROOT, default data/]")
def datasets(data_root):
    """Each dataset, its expected layout, and whether it was found under the data root.

    \b
    Example:
      bench datasets --data-root /data
    """
    from bench.datasets import describe_datasets
    from bench.runner import default_data_root

    root = Path(data_root) if data_root else default_data_root()
    for d in describe_datasets(root):
        state = "found" if d["found"] else "not found"
        counts = ""
        if d.get("n_train") is not None or d.get("n_test") is not None:
            counts = f" (train {d.get('n_train')}, test {d.get('n_test')})"
        click.echo(f"{d['name']}: {state} at {d['path']}{counts}")
        if not d["found"]:
            click.echo("    expected layout:\n" + "\n".join("      " + line for line in d["expected_tree"].splitlines()))


@main.command()
def weights():
    """Each weight file the harness can use, where it looks, and whether it is there.

    \b
    Example:
      TORCH_HOME=/models bench weights
    """
    from bench.metrics.weights import describe_weights

    for w in describe_weights():
        state = f"found: {w['found']}" if w.get("found") else "missing"
        click.echo(f"{w['name']} ({w['purpose']}): {state}")
        for p in w.get("looked_at", []):
            click.echo(f"    looked at {p}")
