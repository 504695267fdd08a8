"""What ``bench run`` / ``bench train`` / ``bench eval`` do, as functions the CLI and the tests both call."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from mmengine.config import Config

from bench import evaluation, results
from bench.io import atomic_write_json, atomic_write_text, file_sha256
from bench.runlock import run_lock
from bench.runner import (RunError, build_model, compose_config, config_hash, data_fingerprint,
                          default_results_root, get_method, latest_checkpoint, run_dir_for, train)

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


def resolve_mask_sets(cfg: Config, mask_sets) -> list[tuple[str, object]]:
    """``--masks`` names -> ``[(folder key, checked MaskSet)]``; done before training, so a misspelled name
    fails in a second, not after hours of training."""
    out, seen = [], set()
    for name in mask_sets:
        ms = evaluation.resolve_mask_set(name, cfg)
        key = evaluation.mask_set_folder(name, ms)
        if key in seen:
            raise RunError(f"mask set {name!r} is given twice in --masks")
        seen.add(key)
        out.append((key, ms))
    if not out:
        raise RunError("--masks names no mask set; use e.g. --masks center,irregular")
    return out


def run_train(cfg: Config, run_dir: Path, launcher: str = "none", resume: bool = False):
    t0 = time.time()
    with run_lock(run_dir, "train"):
        res = train(cfg, run_dir, launcher=launcher, resume=resume)
    return res, time.time() - t0


def run_eval(cfg: Config, run_dir: Path, checkpoint: str | Path | None = None, mask_sets=DEFAULT_MASK_SETS,
             device: str | None = None, progress: bool = True, train_info: dict | None = None,
             predictions_dir: str | Path | None = None, method_name: str | None = None,
             predictions_manifest: str | Path | None = None) -> RunOutcome:
    """Evaluate a trained checkpoint (or external predictions) on each fixed mask set; merge into metrics.json.

    Mask sets scored here replace their entries in an existing ``metrics.json`` of the same model and data;
    the other sets and the training record are kept. External predictions need the export's
    ``manifest.json`` (:func:`check_predictions_manifest`) and are scored on exactly its mask set.
    """
    spec = get_method(cfg.method)
    notes = list(cfg.get("notes", []) or [])
    if predictions_dir is not None:
        if not method_name:
            raise RunError("scoring --predictions needs --method-name NAME (the name the tables show)")
        mf = check_predictions_manifest(cfg, predictions_dir, mask_sets, predictions_manifest)
        mask_sets = [mf["mask_set"]]
        model = None
        model_id = f"predictions:{method_name}"
    else:
        if spec.trainable and checkpoint is None:
            raise RunError(f"method {cfg.method!r} is trained: pass --checkpoint PATH (a .pth under "
                           f"{run_dir}/checkpoints/), or use `bench run` to train and evaluate")
        model = None
        model_id = file_sha256(checkpoint) if checkpoint else f"untrained:{config_hash(cfg)}"
    resolved = resolve_mask_sets(cfg, mask_sets)
    with run_lock(run_dir, "evaluate"):
        if predictions_dir is None:
            model = build_model(cfg, checkpoint, device)
        mask_results = []
        for key, ms in resolved:
            mask_results.append(evaluation.evaluate_mask_set(
                model, cfg, ms, key, run_dir, model_id, progress=progress,
                samples_dir=run_dir / "samples", save_samples=int(cfg.evaluation.get("save_samples", 0)),
                predictions_dir=Path(predictions_dir) if predictions_dir else None))
        kept, kept_rows, old_train = _kept_results(run_dir, {r.name for r in mask_results}, model_id,
                                                   mask_results[0].mask_set.get("data_fingerprint"))
        provenance = {
            "git": results.git_revision(),
            "config_hash": config_hash(cfg),
            "data_fingerprint": cfg.get("data_fingerprint"),
            "config_path": str(run_dir / "config.py"),
            "method_config": cfg.get("method_config"),
            "checkpoint": str(checkpoint) if checkpoint else None,
            "checkpoint_sha256": model_id if checkpoint else None,
            "predictions_dir": str(predictions_dir) if predictions_dir else None,
            "predictions_sha256": (mask_results[0].mask_set.get("predictions") or {}).get("sha256"),
            "packages": results.package_versions(),
            **results.device_info(),
            "wall_time_s": {"train": (train_info or old_train or {}).get("wall_time_s"),
                            "eval": round(sum(r.wall_time_s for r in mask_results)
                                          + sum(float(s.get("wall_time_s") or 0) for s in kept.values()), 3)},
        }
        doc = results.build_metrics_document(
            method=method_name or cfg.method, variant=cfg.variant, dataset=cfg.dataset, split="test",
            preset=cfg.preset, seed=cfg.seed, protocol=cfg.evaluation.get("protocol", "paper"),
            mask_results=mask_results, provenance=provenance,
            display_name=method_name or spec.display_name, train=train_info or old_train, notes=notes)
        if kept:
            doc["mask_sets"] = {**kept, **doc["mask_sets"]}
            doc["num_images"] = max(s["num_images"] for s in doc["mask_sets"].values())
        evaluation.write_per_image_csv(run_dir / "per_image.csv", [kept_rows, *(r.per_image for r in mask_results)])
        path = atomic_write_json(run_dir / "metrics.json", doc)
    return RunOutcome(run_dir=run_dir, metrics_path=path, document=doc, checkpoint=Path(checkpoint) if checkpoint else None)


def _kept_results(run_dir: Path, replaced: set, model_id: str, data_fp: str | None):
    """The mask sets of an existing ``metrics.json`` that this evaluation does not replace and that belong to
    the same model and test data, their ``per_image.csv`` rows, and the training record."""
    import pandas as pd

    path = Path(run_dir) / "metrics.json"
    if not path.is_file():
        return {}, pd.DataFrame(), None
    try:
        old = results.load_metrics(path)
    except results.ResultsError:
        return {}, pd.DataFrame(), None
    same = {name: s for name, s in old["mask_sets"].items()
            if name not in replaced and isinstance(s, dict)
            and (s.get("mask_set") or {}).get("model") == model_id
            and (s.get("mask_set") or {}).get("data_fingerprint") == data_fp}
    same_model = any((s.get("mask_set") or {}).get("model") == model_id
                     for s in old["mask_sets"].values() if isinstance(s, dict))
    rows = pd.DataFrame()
    csv = Path(run_dir) / "per_image.csv"
    if same and csv.is_file():
        try:
            table = pd.read_csv(csv)
            rows = table[table["mask_set"].astype(str).isin(list(same))]
        except (OSError, ValueError, KeyError, pd.errors.ParserError):
            same = {}  # rows cannot be kept consistently: those sets are dropped with their rows
    return same, rows, (old.get("train") or None) if same_model else None


def check_predictions_manifest(cfg: Config, predictions_dir, mask_sets=None, manifest=None) -> dict:
    """The export's ``manifest.json`` for a predictions folder, checked against the run: same dataset, preset,
    image size, mask set (by name and hash) and test data. ``mask_sets``, when given, must name its set."""
    import json

    path = Path(manifest) if manifest else Path(predictions_dir) / "manifest.json"
    if not path.is_file():
        raise RunError(f"{path} is missing: predictions are scored against the export they were made from. "
                       f"Copy the manifest.json that `bench masks export` wrote (beside images/ and masks/) into "
                       f"{predictions_dir}, or pass --manifest PATH")
    try:
        mf = json.loads(path.read_text())
        want = {"dataset": str, "mask_set": str, "preset": str, "mask_set_sha256": str, "img_size": int}
        bad = [k for k, t in want.items() if not isinstance(mf.get(k), t)]
    except (OSError, ValueError) as e:
        raise RunError(f"{path} is not a readable export manifest ({e}); export again with `bench masks export`")
    if bad:
        raise RunError(f"{path} is not an export manifest (missing or wrong: {', '.join(bad)}); export again "
                       f"with `bench masks export`")
    problems = []
    for k, have in (("dataset", cfg.dataset), ("preset", cfg.preset), ("img_size", int(cfg.img_size))):
        if mf[k] != have:
            problems.append(f"{k} is {mf[k]!r} in the manifest but {have!r} here")
    if mask_sets is not None and list(mask_sets) not in ([], [mf["mask_set"]]):
        problems.append(f"the predictions were made for mask set {mf['mask_set']!r}, not {','.join(mask_sets)!r}")
    if problems:
        raise RunError(f"predictions {predictions_dir} do not match this evaluation ({path}): "
                       + "; ".join(problems) + ". Leave out --masks/--preset/-d to use the manifest's, or "
                       "export again for what you want to score")
    ms = evaluation.resolve_mask_set(mf["mask_set"], cfg)
    if ms.sha256 != mf["mask_set_sha256"]:
        raise RunError(f"mask set {mf['mask_set']!r} now has sha256 {ms.sha256[:16]}…, but the predictions were "
                       f"made for {mf['mask_set_sha256'][:16]}… ({path}); export again and refill")
    fp = mf.get("data_fingerprint")
    if fp is not None and fp != data_fingerprint(cfg):
        raise RunError(f"the test images under {cfg.data_root} differ from those the predictions were made for "
                       f"(data fingerprint {fp[:12]}… in {path}); use the same --data-root, or export again")
    return mf


def predictions_run(predictions_dir, method_name: str, dataset: str | None = None, preset: str | None = None,
                    mask_sets=None, manifest=None, cfg_options: dict | None = None, data_root=None,
                    results_root=None, work_dir=None, progress: bool = True) -> RunOutcome:
    """``bench eval --predictions``: score a folder of external predictions in a run folder of its own,
    ``results/<dataset>/external-<name>/<preset>-<mask set>-<predictions sha256[:8]>/``; never a registered
    method's folder. Dataset, preset and mask set come from the export's manifest."""
    import json
    import re

    from bench.datasets.fingerprint import files_fingerprint
    from bench.registry import METHODS

    if not method_name or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", method_name):
        raise RunError(f"--method-name {method_name!r}: give a name of letters, digits, '.', '_' or '-' "
                       f"(it becomes a folder name and the tables' row name)")
    get_method("telea")  # registers every method
    if method_name in METHODS:
        raise RunError(f"--method-name {method_name!r} is a registered method; external predictions need a name "
                       f"of their own (e.g. {method_name}-external), so they never mix with the harness's runs")
    mpath = Path(manifest) if manifest else Path(predictions_dir) / "manifest.json"
    try:
        mf = json.loads(mpath.read_text()) if mpath.is_file() else {}
    except (OSError, ValueError):
        mf = {}
    dataset = dataset or mf.get("dataset") or "toy"
    preset = preset or mf.get("preset") or "smoke"
    cfg = compose_config("telea", dataset, preset, None, cfg_options, data_root)
    mf = check_predictions_manifest(cfg, predictions_dir, mask_sets, manifest)
    pred_fp = files_fingerprint(sorted(Path(predictions_dir).glob("*.png")))["sha256"]
    if work_dir:
        run_dir = Path(work_dir)
    else:
        root = Path(results_root) if results_root is not None else default_results_root()
        key = evaluation.mask_set_folder(mf["mask_set"], evaluation.resolve_mask_set(mf["mask_set"], cfg))
        run_dir = root / cfg.dataset / f"external-{method_name}" / f"{preset}-{key}-{pred_fp[:8]}"
    run_dir.mkdir(parents=True, exist_ok=True)
    cfg.run_dir = str(run_dir)
    atomic_write_text(run_dir / "config.py", cfg.pretty_text)
    return run_eval(cfg, run_dir, None, [mf["mask_set"]], progress=progress, predictions_dir=predictions_dir,
                    method_name=method_name, predictions_manifest=manifest)


def run(method: str, dataset: str, preset: str = "smoke", variant: str | None = None, seed: int = 0,
        mask_sets=DEFAULT_MASK_SETS, cfg_options: dict | None = None, data_root=None, results_root=None,
        work_dir=None, resume: bool = False, launcher: str = "none", progress: bool = True) -> RunOutcome:
    """Train (if the method is trainable), then evaluate on each mask set, then write metrics.json."""
    cfg, run_dir = prepare_run(method, dataset, preset, variant, seed, cfg_options, data_root, results_root,
                               work_dir)
    resolve_mask_sets(cfg, mask_sets)
    with run_lock(run_dir, "train and evaluate"):
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

