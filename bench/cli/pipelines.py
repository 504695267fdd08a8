"""`bench ablation`, `bench demo`, `bench study`: many runs, then their tables and report."""
from __future__ import annotations

from pathlib import Path

import click

from bench.cli.common import MASKS_HELP, _split, main


@main.command()
@click.option("--dataset", "-d", default="toy", show_default=True)
@click.option("--preset", type=click.Choice(["smoke", "demo", "cpu", "paper"]), default="smoke", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--masks", "mask_sets", default="center,irregular", show_default=True, help=MASKS_HELP)
@click.option("--data-root", type=click.Path(file_okay=False), default=None)
@click.option("--results", "results_root", type=click.Path(file_okay=False), default=None)
@click.option("--out", type=click.Path(file_okay=False), default="reports", show_default=True)
@click.option("--cfg-options", multiple=True, metavar="KEY=VALUE", help="override config values")
def ablation(dataset, preset, seed, mask_sets, data_root, results_root, out, cfg_options):
    """The SWAP ablation (Table 3): variants base, att, swap, full; finished runs are reused.

    \b
    Example:
      bench ablation --dataset toy --preset smoke
      bench ablation --dataset outdoor --preset paper
    """
    from bench import api
    from bench.runner import default_results_root, parse_cfg_options
    from bench.reports import write_tables

    api.run_ablation(dataset, preset, seed, _split(mask_sets), parse_cfg_options(cfg_options), data_root,
                     results_root, echo=click.echo)
    root = Path(results_root) if results_root else default_results_root()
    text, paths = write_tables(root, Path(out))
    click.echo(text)
    click.echo("wrote " + ", ".join(str(p) for p in paths))


@main.command()
@click.option("--methods", "method_names", default=None, help="comma-separated subset (default: every method)")
@click.option("--results", "results_root", type=click.Path(file_okay=False), default=None,
              help="results root [default: results/demo]")
@click.option("--out", type=click.Path(file_okay=False), default="reports", show_default=True)
@click.option("--data-root", type=click.Path(file_okay=False), default=None)
@click.option("--jobs", type=int, default=2, show_default=True, help="runs in parallel (processes, one thread each)")
@click.option("--cfg-options", multiple=True, metavar="KEY=VALUE", help="override config values")
def demo(method_names, results_root, out, data_root, jobs, cfg_options):
    """The whole pipeline on the embedded toy dataset: train every method (preset demo), evaluate, tables, and
    the check that each learned method fills better than the mean colour.

    \b
    Example:
      bench demo
    """
    from bench.demo import run_demo

    run_demo(_split(method_names) or None, results_root, out, data_root, jobs, cfg_options, echo=click.echo)


@main.command()
@click.option("--jobs", type=int, default=2, show_default=True, help="runs in parallel (processes, one thread each)")
@click.option("--seeds", default="0,1,2", show_default=True, help="comma-separated seeds of the learned methods")
@click.option("--methods", "method_names", default=None,
              help="comma-separated subset, e.g. gatedconv,swap-full (default: the whole study)")
@click.option("--results", "results_root", type=click.Path(file_okay=False), default="results/study",
              show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="reports/study", show_default=True)
@click.option("--data-root", type=click.Path(file_okay=False), default=None)
@click.option("--cfg-options", multiple=True, metavar="KEY=VALUE", help="override config values (a new study)")
@click.option("--reports-only", is_flag=True, help="only rewrite the tables, verdicts and report of the runs found")
@click.option("--snapshot", type=click.Path(file_okay=False), default=None,
              help="also write the small copy kept in the repository (e.g. docs/study)")
def study(jobs, seeds, method_names, results_root, out, data_root, cfg_options, reports_only, snapshot):
    """The CPU reproduction study on the toy dataset (preset cpu): every learned method and SWAP variant with
    3 seeds, Telea and mean fill; then tables, toy-proxy verdicts (PROXY.md) and REPORT.md. Resumable: run it
    again after a kill and it continues; finished runs are reused.

    \b
    Example:
      bench study --jobs 2                  # about 70-90 min on 2 CPU cores
      bench study --reports-only --snapshot docs/study
    """
    from bench.study import run_study, write_snapshot, write_study_reports

    if reports_only:
        click.echo(f"wrote {write_study_reports(results_root, out)}")
        if snapshot:
            click.echo(f"wrote {write_snapshot(results_root, out, snapshot)}")
        return
    try:
        seed_list = tuple(int(s) for s in _split(seeds))
    except ValueError as e:
        raise click.BadParameter(f"--seeds takes integers, e.g. 0,1,2 ({e})") from e
    run_study(results_root, out, jobs, seed_list, _split(method_names) or None, data_root, cfg_options, snapshot,
              echo=click.echo)
