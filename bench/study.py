"""``bench study``: the CPU reproduction study on the toy dataset (preset ``cpu``).

Trains and evaluates every learned method and the four SWAP variants (Table 3) with several seeds, plus the
classical references (Telea, mean fill), then writes the tables, the toy-proxy claim verdicts
(``bench.reports.proxy``) and the report. The protocol (preset, seeds, budget rule) is fixed in
``bench/configs/presets/cpu.py`` and here, before any comparison is looked at.

Every run is one ``bench run --resume`` in its own process with one torch thread, so ``--jobs N`` runs N of
them side by side. A killed or timed-out study continues where it stopped: a run whose ``metrics.json`` is
complete is reused, never retrained; an interrupted run resumes from its last checkpoint and scored batches.
The study's wall time is the sum of its sessions (``study.json``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.io import atomic_write_json, atomic_write_text

DATASET = "toy"
PRESET = "cpu"
SEEDS = (0, 1, 2)
MASK_SETS = ("center", "irregular")
#: learned configurations (method, variant): the five baselines and the four SWAP variants of Table 3
LEARNED = (("swap", "full"), ("swap", "swap"), ("swap", "att"), ("swap", "base"), ("sgenet", None),
           ("spgnet", None), ("edgeconnect", None), ("pennet", None), ("gatedconv", None))
#: deterministic references: their output does not depend on the seed, so they run once (seed 0)
REFERENCES = (("telea", None), ("meanfill", None))


@dataclass(frozen=True)
class StudyRun:
    method: str
    variant: str | None
    seed: int

    @property
    def name(self) -> str:
        return (self.method if self.variant is None else f"{self.method}-{self.variant}") + f"-seed{self.seed}"

    def command(self, results_root: Path, data_root: Path | None, cfg_options=(), preset: str = PRESET) -> list[str]:
        cmd = [sys.executable, "-m", "bench.cli", "run", "-m", self.method, "-d", DATASET, "--preset", preset,
               "--seed", str(self.seed), "--masks", ",".join(MASK_SETS), "--resume", "--results", str(results_root)]
        if self.variant:
            cmd += ["--variant", self.variant]
        if data_root is not None:
            cmd += ["--data-root", str(data_root)]
        for opt in cfg_options:
            cmd += ["--cfg-options", opt]
        return cmd


def study_plan(seeds=SEEDS, methods=None) -> list[StudyRun]:
    """Every run of the study, slowest configurations first (so ``--jobs`` ends evenly)."""
    want = None if not methods else set(methods)
    runs = []
    for seed in seeds:
        for m, v in LEARNED:
            if want is None or m in want or f"{m}-{v}" in want:
                runs.append(StudyRun(m, v, int(seed)))
    for m, v in REFERENCES:
        if want is None or m in want:
            runs.append(StudyRun(m, v, 0))
    order = {c: k for k, c in enumerate([*LEARNED, *REFERENCES])}
    return sorted(runs, key=lambda r: (order[(r.method, r.variant)], r.seed))


def is_done(run_dir: Path, expected_iters: int | None) -> bool:
    """A run is done when its ``metrics.json`` holds every mask set and, for a learned method, the full budget."""
    from bench.results import ResultsError, load_metrics

    path = run_dir / "metrics.json"
    if not path.is_file():
        return False
    try:
        doc = load_metrics(path)
    except ResultsError:
        return False
    if set(MASK_SETS) - set(doc["mask_sets"]):
        return False
    return expected_iters is None or int((doc.get("train") or {}).get("iterations") or 0) >= expected_iters


def prepare_data(data_root=None, preset: str = PRESET, cfg_options: dict | None = None) -> None:
    """Render the toy scenes and make the mask sets once, before parallel runs start."""
    from bench.api import resolve_mask_sets
    from bench.registry import DATASETS, register_all_modules
    from bench.runner import compose_config

    register_all_modules()
    cfg = compose_config("meanfill", DATASET, preset, cfg_options=cfg_options, data_root=data_root)
    for key in ("train_dataset", "test_dataset"):
        DATASETS.build(cfg[key].to_dict()).full_init()
    resolve_mask_sets(cfg, MASK_SETS)


def run_plan(plan, results_root, jobs: int = 2, preset: str = PRESET, data_root=None, cfg_options=(),
             echo=print) -> dict:
    """Run every ``StudyRun`` of ``plan`` not done yet as ``bench run --resume`` processes, ``jobs`` at a time.

    ``results_root/<preset>.json`` records each session (start, wall time, what ran or was reused); the total
    wall time is the sum of the sessions. Ctrl-C stops the children; running again continues."""
    from bench.registry import METHODS
    from bench.runner import compose_config, parse_cfg_options, run_dir_for

    results_root = Path(results_root)
    results_root.mkdir(parents=True, exist_ok=True)
    opts = parse_cfg_options(cfg_options)
    state_path = results_root / ("study.json" if preset == PRESET else f"{preset}.json")
    state = json.loads(state_path.read_text()) if state_path.is_file() else {"sessions": []}
    t0 = time.time()
    session = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "jobs": int(jobs), "wall_s": 0.0, "runs": {}}
    state["sessions"].append(session)
    lock = threading.Lock()

    def save():
        with lock:
            session["wall_s"] = round(time.time() - t0, 1)
            state["wall_s"] = round(sum(s["wall_s"] for s in state["sessions"]), 1)
            atomic_write_json(state_path, state)

    echo(f"{preset}: preparing the toy data and mask sets")
    prepare_data(data_root, preset, opts)
    todo = []
    for r in plan:
        cfg = compose_config(r.method, DATASET, preset, r.variant, opts, data_root, r.seed)
        iters = int(cfg.train_iters) if METHODS[r.method].trainable else None
        if is_done(run_dir_for(cfg, results_root), iters):
            session["runs"][r.name] = "reused"
        else:
            todo.append(r)
    echo(f"{preset}: {len(plan)} runs, {len(plan) - len(todo)} done, {len(todo)} to run with {jobs} job(s)")
    save()
    logs = results_root / "logs"
    logs.mkdir(exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    procs: set = set()
    failed = []

    def one(r: StudyRun):
        t = time.time()
        log_path = logs / f"{preset}-{r.name}.log"
        with open(log_path, "a") as log:
            p = subprocess.Popen(r.command(results_root, data_root, cfg_options, preset), stdout=log,
                                 stderr=subprocess.STDOUT, env=env)
            with lock:
                procs.add(p)
            rc = p.wait()
            with lock:
                procs.discard(p)
        status = "ok" if rc == 0 else f"failed (exit {rc}; log {log_path})"
        with lock:
            session["runs"][r.name] = {"status": status, "seconds": round(time.time() - t, 1)}
            if rc != 0:
                failed.append(r.name)
        echo(f"{preset}: {r.name}: {status} in {time.time() - t:.0f}s")
        save()

    pool = ThreadPoolExecutor(max_workers=max(1, int(jobs)))
    try:
        for f in [pool.submit(one, r) for r in todo]:
            f.result()
    except KeyboardInterrupt:
        with lock:
            for p in procs:
                p.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        save()
    echo(f"{preset}: runs finished ({len(failed)} failed) after {time.time() - t0:.0f}s in this session; "
         f"{state['wall_s']:.0f}s in all sessions")
    state["failed"] = failed
    return state


def run_study(results_root="results/study", out_dir="reports/study", jobs: int = 2, seeds=SEEDS, methods=None,
              data_root=None, cfg_options=(), snapshot=None, echo=print) -> dict:
    """Run (or continue) the study, then write the tables, the toy-proxy verdicts and the report (and, with
    ``snapshot``, the small copy kept in the repository)."""
    state = run_plan(study_plan(seeds, methods), results_root, jobs, PRESET, data_root, cfg_options, echo)
    report = write_study_reports(results_root, out_dir)
    echo(f"study: wrote {report} and {Path(out_dir) / 'PROXY.md'}")
    if snapshot:
        echo(f"study: snapshot in {write_snapshot(results_root, out_dir, snapshot)}")
    return state


def write_study_reports(results_root, out_dir) -> Path:
    """Tables, toy-proxy verdicts (``PROXY.md``) and the report of a study's results folder."""
    from bench.reports import write_report
    from bench.reports.proxy import write_proxy_claims

    out_dir = Path(out_dir)
    write_proxy_claims(results_root, out_dir)
    return write_report(results_root, out_dir)


def write_snapshot(results_root, out_dir, snapshot_dir) -> Path:
    """The study's small copy for the repository (Markdown and PNG, well under 2 MB): ``STUDY.md`` (protocol,
    wall time, Tables 1-3 of the toy runs, toy-proxy verdicts) and the qualitative figures of real fills.
    ``bench study --snapshot DIR`` regenerates it from the study's results."""
    import shutil

    from bench.reports.tables import build_tables, render_markdown
    from bench.reports.runs import collect_runs

    results_root, out_dir, snap = Path(results_root), Path(out_dir), Path(snapshot_dir)
    snap.mkdir(parents=True, exist_ok=True)
    state = json.loads((results_root / "study.json").read_text()) if (results_root / "study.json").is_file() else {}
    rs = collect_runs(results_root)
    tables = render_markdown(build_tables(rs, include_unrun=False))
    proxy = (out_dir / "PROXY.md").read_text() if (out_dir / "PROXY.md").is_file() else ""
    figures = []
    for png in sorted((out_dir / "figures").glob("qualitative_toy_*.png")):
        shutil.copy(png, snap / png.name)
        figures.append(png.name)
    runs = [r for s in state.get("sessions", []) for r in s.get("runs", {}).values() if isinstance(r, dict)]
    from bench.runner import compose_config

    c = compose_config("meanfill", DATASET, PRESET)
    b = c.preset_overrides
    lines = ["# CPU study on the toy dataset (snapshot)", "",
             f"Regenerate with `bench study --snapshot {snap}` (continues or reuses the runs under `{results_root}`).",
             "", "## Protocol", "",
             f"Preset `{PRESET}` (`bench/configs/presets/{PRESET}.py`): {c.img_size}×{c.img_size} toy scenes "
             f"(8 Outdoor-Scenes classes), {c.max_train_images:,} training and {c.max_test_images:,} test images, "
             f"every method at its {c.method_configs} width with its own official losses and optimiser, and the same "
             f"budget for every learned method: {b.train_iters:,} iterations at batch {b.batch_size} "
             f"({b.train_iters * b.batch_size:,} training images). Seeds {', '.join(map(str, SEEDS))} for the learned "
             f"methods; Telea and mean fill are deterministic and run once. Fixed mask sets `center` and `irregular` "
             f"({c.irregular_masks['count']} DeepFill v2 stroke masks).", "",
             f"Wall time: {state.get('wall_s', 0) / 60:.1f} min on this machine (2 CPU cores, `--jobs 2`, one torch "
             f"thread per run) over {len(state.get('sessions', []))} session(s); {len(runs)} runs executed, "
             f"{sum(r.get('seconds', 0) for r in runs) / 60:.1f} run-minutes.", "",
             *[f"![{f}]({f})" for f in figures], "", tables, "", proxy]
    return atomic_write_text(snap / "STUDY.md", "\n".join(lines))


__all__ = ["LEARNED", "REFERENCES", "SEEDS", "StudyRun", "is_done", "run_plan", "run_study", "study_plan",
           "write_snapshot", "write_study_reports"]
