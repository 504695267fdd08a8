"""`bench masks make|verify|show|export`: the fixed mask sets."""
from __future__ import annotations

from pathlib import Path

import click

from bench.cli.common import main


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
