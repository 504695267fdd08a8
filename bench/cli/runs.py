"""`bench run`, `bench train`, `bench eval`: one method on one dataset."""
from __future__ import annotations


import click

from bench.cli.common import MASKS_HELP, _given, _options, _print_summary, _run_options, _split, main


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
