"""The ``bench`` command line. Thin: every command parses its options and calls library functions."""
from __future__ import annotations

import sys
from pathlib import Path

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


@main.command()
@_run_options
@click.option("--masks", "mask_sets", default="center,irregular", show_default=True, help=MASKS_HELP)
@click.option("--resume", is_flag=True, help="continue an interrupted run from its last checkpoint / scored images")
@click.option("--launcher", type=click.Choice(["none", "pytorch", "slurm"]), default="none", show_default=True,
              help="multi-GPU: run under torchrun / srun with --launcher pytorch / slurm")
def run(method, dataset, variant, preset, seed, data_root, results_root, work_dir, cfg_options, skip_bad, mask_sets,
        resume, launcher):
    """Train, then evaluate on each fixed mask set, then write metrics.json.

    \b
    Example:
      bench run --method telea --dataset toy --preset smoke
      torchrun --nproc_per_node 4 -m bench.cli run -m swap -d outdoor --preset paper --launcher pytorch
    """
    from bench import api

    out = api.run(method, dataset, preset, variant, seed, _split(mask_sets), _options(cfg_options, skip_bad),
                  data_root, results_root, work_dir, resume, launcher)
    if out.document is not None:
        _print_summary(out.document, out.metrics_path)


@main.command()
@_run_options
@click.option("--resume", is_flag=True, help="continue from the last checkpoint")
@click.option("--launcher", type=click.Choice(["none", "pytorch", "slurm"]), default="none", show_default=True)
def train(method, dataset, variant, preset, seed, data_root, results_root, work_dir, cfg_options, skip_bad, resume,
          launcher):
    """Train only (checkpoints under <run>/checkpoints/).

    \b
    Example:
      bench train --method swap --variant full --dataset toy --preset smoke
    """
    from bench import api

    cfg, run_dir = api.prepare_run(method, dataset, preset, variant, seed, _options(cfg_options, skip_bad),
                                   data_root, results_root, work_dir)
    res, wall = api.run_train(cfg, run_dir, launcher, resume)
    click.echo(f"trained {res.iterations} iterations in {wall:.1f}s; checkpoint: {res.checkpoint}")


@main.command("eval")
@_run_options
@click.option("--checkpoint", type=click.Path(dir_okay=False), default=None,
              help="checkpoint to evaluate (default: the run folder's last one)")
@click.option("--predictions", type=click.Path(file_okay=False), default=None,
              help="score a folder of external predictions (see `bench masks export`) instead of a model")
@click.option("--method-name", default=None, help="name of external predictions in tables (required with "
              "--predictions; not a registered method's name)")
@click.option("--manifest", type=click.Path(dir_okay=False), default=None,
              help="the export's manifest.json for --predictions [default: PREDICTIONS/manifest.json]")
@click.option("--masks", "mask_sets", default="center,irregular", show_default=True,
              help=MASKS_HELP + "; with --predictions: the manifest's set")
def eval_(method, dataset, variant, preset, seed, data_root, results_root, work_dir, cfg_options, skip_bad, checkpoint,
          predictions, method_name, manifest, mask_sets):
    """Evaluate a checkpoint on fixed mask sets; an interrupted evaluation continues where it stopped.

    \b
    Example:
      bench eval --method swap --dataset toy --checkpoint results/toy/swap/.../checkpoints/iter_20.pth
      bench eval -m telea --predictions preds/ --method-name mine   # dataset, preset, masks: preds/manifest.json
    """
    from bench import api

    if predictions is not None:
        given = _given(("dataset", "preset", "mask_sets"))
        out = api.predictions_run(predictions, method_name, dataset if "dataset" in given else None,
                                  preset if "preset" in given else None,
                                  _split(mask_sets) if "mask_sets" in given else None, manifest,
                                  _options(cfg_options, skip_bad), data_root, results_root, work_dir)
        _print_summary(out.document, out.metrics_path)
        return
    if method_name or manifest:
        raise click.UsageError("--method-name and --manifest belong to --predictions (a checkpoint is scored "
                               "under its method's own name)")
    cfg, run_dir = api.prepare_run(method, dataset, preset, variant, seed, _options(cfg_options, skip_bad),
                                   data_root, results_root, work_dir)
    if checkpoint is None:
        checkpoint = api.find_run_checkpoint(run_dir)
    out = api.run_eval(cfg, run_dir, checkpoint, _split(mask_sets))
    _print_summary(out.document, out.metrics_path)


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


@main.group()
def masks():
    """Fixed mask sets: make, verify, show, export.

    \b
    Examples:
      bench masks make --generator freeform --count 1000 --size 256 --seed 2021 --out data/masks/my-set
      bench masks verify data/masks/my-set
    """


@masks.command("make")
@click.option("--generator", "-g", required=True,
              help="registered generator: center | freeform | box_freeform | bucketed_freeform")
@click.option("--count", type=int, default=1000, show_default=True)
@click.option("--size", type=int, default=256, show_default=True)
@click.option("--seed", type=int, default=2021, show_default=True)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="generator parameter, e.g. --param hole=128 or --param ratio_range=[0.1,0.2]")
@click.option("--out", required=True, type=click.Path(file_okay=False))
def masks_make(generator, count, size, seed, params, out):
    """Generate a fixed mask set (PNGs + manifest.json with every sha256).

    \b
    Examples:
      bench masks make -g freeform --count 1000 --size 256 --seed 2021 --out data/masks/strokes
      bench masks make -g bucketed_freeform --param ratio_range=[0.3,0.4] --count 500 --out data/masks/30-40
    """
    import masks as masks_lib
    from bench.runner import parse_cfg_options

    cfg = {"type": generator, **parse_cfg_options(params)}
    ms = masks_lib.make_mask_set(out, cfg, count=count, seed=seed, size=size)
    click.echo(f"wrote {len(ms)} masks to {out}; set sha256 {ms.sha256}")


@masks.command("verify")
@click.argument("directory", type=click.Path(file_okay=False))
def masks_verify(directory):
    """Recompute every hash of a mask set; fail on any difference.

    \b
    Example:
      bench masks verify data/masks/irregular-256x256-n1000-s2021
    """
    import masks as masks_lib

    ms = masks_lib.MaskSet.load(directory)
    problems = ms.verify()
    if problems:
        for p in problems:
            click.echo(f"  {p}", err=True)
        raise click.ClickException(f"mask set {directory} failed verification ({len(problems)} problems)")
    click.echo(f"ok: {len(ms)} masks, sha256 {ms.sha256}")


@masks.command("show")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="contact sheet PNG path")
def masks_show(directory, out):
    """Write a contact sheet PNG and a hole-ratio histogram of a mask set.

    \b
    Example:
      bench masks show data/masks/irregular-256x256-n1000-s2021 --out sheet.png
    """
    import masks as masks_lib

    out = out or str(Path(directory) / "contact_sheet.png")
    sheet, hist = masks_lib.show_mask_set(directory, out)
    click.echo(f"wrote {sheet} and {hist}")


@masks.command("export")
@click.option("--dataset", "-d", default="toy", show_default=True)
@click.option("--masks", "mask_set", default="center", show_default=True, help="one mask set")
@click.option("--preset", type=click.Choice(["smoke", "demo", "cpu", "paper"]), default="paper", show_default=True)
@click.option("--data-root", type=click.Path(file_okay=False), default=None)
@click.option("--out", required=True, type=click.Path(file_okay=False))
def masks_export(dataset, mask_set, preset, data_root, out):
    """Write every test image with its hole and its mask, for filling by external code.

    \b
    Example:
      bench masks export --dataset outdoor --masks center --out exported/
      (fill exported/images/*.png with your method into preds/, same file names;
       cp exported/manifest.json preds/)
      bench eval --predictions preds/ --method-name mine -m telea
    """
    from bench.predictions import export_masked

    n = export_masked(dataset, mask_set, out, preset=preset, data_root=data_root)
    click.echo(f"wrote {n} images and masks to {out}")


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


@main.command()
@click.option("--methods", "method_names", default=None, help="comma-separated subset (default: every method)")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None,
              help="device (default: cuda when available, else cpu)")
@click.option("--size", "sizes", default=None,
              help="comma-separated image sizes; 64 = the smoke preset's model, others the paper's [default 64,256]")
@click.option("--batch", type=int, default=None, help="images per forward / train step [default 1]")
@click.option("--reps", type=int, default=None, help="repetitions per measurement (min and max; default 3..5)")
@click.option("--threads", type=int, default=None,
              help="torch CPU threads [default: 1 with --device cpu (per-core numbers, steady on a shared machine; "
                   "the matmul peak is measured with the same count), torch's default with cuda]")
@click.option("--out", type=click.Path(file_okay=False), default="results/perf", show_default=True,
              help="folder of <device>-<date>[-quick].json and .md")
@click.option("--quick", is_flag=True, help="small selection: size 64, 1 repetition, gatedconv+telea, attention at "
              "16/32, metrics on 8 images (what the tests run)")
def perf(method_names, device, sizes, batch, reps, threads, out, quick):
    """Parameters, FLOPs, inference / train-step time, peak memory and roofline of every method; SWAP vs
    contextual attention; metric throughput. Writes results/perf/<device>-<date>.json and .md.

    \b
    Example:
      bench perf --device cpu                       # default selection, 1 thread (< 10 min on 2 CPU cores)
      bench perf --methods swap,gatedconv --size 256 --batch 4 --device cuda
      bench perf --quick --out /tmp/perf
    """
    import dataclasses

    import torch

    from bench.perf import PerfSettings, quick_settings, run_perf

    s = quick_settings() if quick else PerfSettings()
    over = {"device": device or ("cuda" if torch.cuda.is_available() else "cpu")}
    if method_names:
        over["methods"] = _split(method_names)
    if sizes:
        over["sizes"] = tuple(int(x) for x in _split(sizes))
    if batch:
        over["batch"] = batch
    if threads or over["device"] == "cpu":
        over["threads"] = threads or 1
    if reps:
        over["min_reps"] = over["max_reps"] = over["attention_reps"] = reps
    s = dataclasses.replace(s, **over)
    _, json_path, md_path = run_perf(s, out, echo=click.echo)
    click.echo(md_path.read_text())
    click.echo(f"wrote {json_path} and {md_path}")


if __name__ == "__main__":
    sys.exit(main())

