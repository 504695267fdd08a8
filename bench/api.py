"""What ``bench run`` / ``bench train`` / ``bench eval`` do, as functions the CLI and the tests both call."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from mmengine.config import Config

from bench import evaluation, results
from bench.io import atomic_write_json, atomic_write_text
from bench.runner import (RunError, build_model, compose_config, config_hash, get_method, latest_checkpoint,
                          run_dir_for, train)

DEFAULT_MASK_SETS = ("center", "irregular")


@dataclass
class RunOutcome:
    run_dir: Path
    metrics_path: Path | None
    document: dict | None
    checkpoint: Path | None


def prepare_run(method: str, dataset: str, preset: str = "smoke", variant: str | None = None, seed: int = 0,
                cfg_options: dict | None = None, data_root=None, results_root=None,
                work_dir=None) -> tuple[Config, Path]:
    """Compose the config and decide the run folder (``--work-dir`` or the deterministic default)."""
    cfg = compose_config(method, dataset, preset, variant, cfg_options, data_root, seed)
    run_dir = Path(work_dir) if work_dir else run_dir_for(cfg, results_root)
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg.run_dir = str(run_dir)
    atomic_write_text(run_dir / "config.py", cfg.pretty_text)
    return cfg, run_dir


def run_train(cfg: Config, run_dir: Path, launcher: str = "none", resume: bool = False):
    t0 = time.time()
    res = train(cfg, run_dir, launcher=launcher, resume=resume)
    return res, time.time() - t0


def run_eval(cfg: Config, run_dir: Path, checkpoint: str | Path | None = None, mask_sets=DEFAULT_MASK_SETS,
             device: str | None = None, progress: bool = True, train_info: dict | None = None,
             predictions_dir: str | Path | None = None, method_name: str | None = None) -> RunOutcome:
    """Evaluate a trained checkpoint (or external predictions) on each fixed mask set; write metrics.json."""
    spec = get_method(cfg.method)
    t0 = time.time()
    notes = list(cfg.get("notes", []) or [])
    if predictions_dir is not None:
        model, model_id = None, f"predictions:{Path(predictions_dir).resolve()}"
    else:
        if spec.trainable and checkpoint is None:
            raise RunError(f"method {cfg.method!r} is trained: pass --checkpoint PATH (a .pth under "
                           f"{run_dir}/checkpoints/), or use `bench run` to train and evaluate")
        model = build_model(cfg, checkpoint, device)
        model_id = evaluation.file_sha256(checkpoint) if checkpoint else f"untrained:{config_hash(cfg)}"
    mask_results = []
    for name in mask_sets:
        ms = evaluation.resolve_mask_set(name, cfg)
        mask_results.append(evaluation.evaluate_mask_set(
            model, cfg, ms, name, run_dir, model_id, progress=progress,
            samples_dir=run_dir / "samples", save_samples=int(cfg.evaluation.get("save_samples", 0)),
            predictions_dir=Path(predictions_dir) if predictions_dir else None))
    provenance = {
        "git": results.git_revision(),
        "config_hash": config_hash(cfg),
        "config_path": str(run_dir / "config.py"),
        "method_config": cfg.get("method_config"),
        "checkpoint": str(checkpoint) if checkpoint else None,
        "checkpoint_sha256": model_id if checkpoint else None,
        "predictions_dir": str(predictions_dir) if predictions_dir else None,
        "packages": results.package_versions(),
        **results.device_info(),
        "wall_time_s": {"train": (train_info or {}).get("wall_time_s"), "eval": round(time.time() - t0, 3)},
    }
    doc = results.build_metrics_document(
        method=method_name or cfg.method, variant=cfg.variant, dataset=cfg.dataset, split="test",
        preset=cfg.preset, seed=cfg.seed, protocol=cfg.evaluation.get("protocol", "paper"),
        mask_results=mask_results, provenance=provenance,
        display_name=method_name or spec.display_name, train=train_info, notes=notes)
    evaluation.write_per_image_csv(run_dir / "per_image.csv", [r.per_image for r in mask_results])
    path = atomic_write_json(run_dir / "metrics.json", doc)
    return RunOutcome(run_dir=run_dir, metrics_path=path, document=doc, checkpoint=Path(checkpoint) if checkpoint else None)


def run(method: str, dataset: str, preset: str = "smoke", variant: str | None = None, seed: int = 0,
        mask_sets=DEFAULT_MASK_SETS, cfg_options: dict | None = None, data_root=None, results_root=None,
        work_dir=None, resume: bool = False, launcher: str = "none", progress: bool = True) -> RunOutcome:
    """Train (if the method is trainable), then evaluate on each mask set, then write metrics.json."""
    cfg, run_dir = prepare_run(method, dataset, preset, variant, seed, cfg_options, data_root, results_root,
                               work_dir)
    res, wall = run_train(cfg, run_dir, launcher=launcher, resume=resume)
    if launcher != "none":
        from mmengine.dist import get_rank

        if get_rank() != 0:  # evaluation and results belong to rank 0
            return RunOutcome(run_dir=run_dir, metrics_path=None, document=None, checkpoint=res.checkpoint)
    train_info = {"iterations": res.iterations, "checkpoint": str(res.checkpoint) if res.checkpoint else None,
                  "wall_time_s": round(wall, 3)}
    return run_eval(cfg, run_dir, res.checkpoint, mask_sets, progress=progress, train_info=train_info)


def find_run_checkpoint(run_dir: Path) -> Path | None:
    ck = Path(run_dir) / "checkpoints"
    return latest_checkpoint(ck) if ck.is_dir() else None


ABLATION_VARIANTS = ("base", "att", "swap", "full")


def run_ablation(dataset: str, preset: str = "smoke", seed: int = 0, mask_sets=DEFAULT_MASK_SETS,
                 cfg_options: dict | None = None, data_root=None, results_root=None, resume: bool = True,
                 launcher: str = "none", progress: bool = True, echo=print) -> list[RunOutcome]:
    """Table 3: the four SWAP variants (base, att, swap, full) on one dataset, one run each."""
    outcomes = []
    for variant in ABLATION_VARIANTS:
        echo(f"== swap/{variant} on {dataset} ({preset}) ==")
        outcomes.append(run("swap", dataset, preset, variant, seed, mask_sets, cfg_options, data_root,
                            results_root, None, resume, launcher, progress))
    return outcomes

