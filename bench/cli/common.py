"""The ``bench`` group, its error handling and the options and helpers its commands share."""
from __future__ import annotations

import click

MASKS_HELP = "comma-separated mask sets: 'center', 'irregular' or paths made by `bench masks make`"


def _split(value: str | None):
    return tuple(s.strip() for s in value.split(",") if s.strip()) if value else ()


class BenchGroup(click.Group):
    """Turns the harness's own error types into one clear line instead of a traceback."""

    def invoke(self, ctx):
        from bench.runlock import RunLockedError
        from bench.runner import RunError

        expected = (RunError, RunLockedError, OSError, ValueError, KeyError)
        try:
            return super().invoke(ctx)
        except expected as e:  # noqa: PERF203
            if isinstance(e, click.ClickException):
                raise
            raise click.ClickException(error_line(e)) from None


def error_line(e: BaseException) -> str:
    """One line for a user or environment error: what failed, on which file, and the fix."""
    import errno

    if isinstance(e, OSError) and not isinstance(e, FileNotFoundError) and e.errno is not None:
        where = f" {e.filename}" if e.filename else ""
        fix = {errno.ENOSPC: "free disk space, or write results elsewhere (--results / BENCH_RESULTS_ROOT)",
               errno.EDQUOT: "free disk space, or write results elsewhere (--results / BENCH_RESULTS_ROOT)",
               errno.EROFS: "the file system is read-only: choose a writable --results / --data-root",
               errno.EACCES: "no permission: choose a folder you can write (--results / --data-root)",
               errno.EPERM: "no permission: choose a folder you can write (--results / --data-root)"}.get(
                   e.errno, "check the path and the disk")
        return f"{type(e).__name__}: cannot access{where}: {e.strerror}; {fix}"
    msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
    return f"{type(e).__name__}: {msg}"


@click.group(cls=BenchGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
def main():
    """inpaint-bench: train and evaluate SWAP (CVPR 2021) and its baselines under one protocol.

    \b
    Examples:
      bench demo                                   # whole pipeline on the embedded toy dataset
      bench run --method swap --dataset outdoor --preset paper
      bench table
    """


def _run_options(f):
    opts = [
        click.option("--method", "-m", required=True, help="registered method (see `bench methods`)"),
        click.option("--dataset", "-d", default="toy", show_default=True, help="dataset (see `bench datasets`)"),
        click.option("--variant", default=None, help="method variant (e.g. swap: base|att|swap|full)"),
        click.option("--preset", type=click.Choice(["smoke", "demo", "cpu", "paper"]), default="smoke", show_default=True),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option("--data-root", type=click.Path(file_okay=False), default=None,
                     help="datasets root [env BENCH_DATA_ROOT, default data/]"),
        click.option("--results", "results_root", type=click.Path(file_okay=False), default=None,
                     help="results root [env BENCH_RESULTS_ROOT, default results/]"),
        click.option("--work-dir", type=click.Path(file_okay=False), default=None,
                     help="run folder (default results/<dataset>/<method>[-<variant>]/<preset>-seed<N>-<hash>)"),
        click.option("--cfg-options", multiple=True, metavar="KEY=VALUE", help="override config values"),
        click.option("--skip-bad", is_flag=True,
                     help="skip corrupt/mislabelled dataset files (counted and named in metrics.json)"),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _given(names) -> set:
    """Which of ``names`` the user typed (not left at their defaults)."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    return {n for n in names if ctx.get_parameter_source(n) not in (ParameterSource.DEFAULT, None)}


def _options(cfg_options, skip_bad: bool) -> dict:
    from bench.runner import parse_cfg_options

    opts = parse_cfg_options(cfg_options)
    if skip_bad:
        opts["skip_bad"] = True
    return opts


def _print_summary(doc: dict, path) -> None:
    click.echo(f"wrote {path}")
    for name, s in doc["mask_sets"].items():
        vals = ", ".join(f"{k}={v:.4g}" if isinstance(v, (int, float)) else f"{k}=null"
                         for k, v in s["metrics"].items())
        click.echo(f"  {name:10s} N={s['num_images']:<5d} {vals}")
        for k, why in s["reasons"].items():
            state = "null" if s["metrics"].get(k) is None else "note"
            click.echo(f"  {'':10s} {k}: {state} ({why})")
