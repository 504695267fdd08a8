"""`bench perf`: speed, memory and FLOPs of every method, the attention modules and the metrics."""
from __future__ import annotations

import click

from bench.cli.common import _split, main


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
