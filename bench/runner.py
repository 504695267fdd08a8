"""Config composition and training through mmengine's ``Runner``.

A run's config = preset (``bench/configs/presets/<preset>.py``) ⊕ dataset (``bench/configs/datasets/<d>.py``)
⊕ method (``methods/<m>/configs/<m>[_<variant>]_<preset>.py``) ⊕ ``--cfg-options``; later wins.
The runner then fills what depends on more than one of them (image size, number of classes, data root)
and builds mmengine's Runner from it. Training is resumable (``--resume``) and bit-exact on resume (RNG states and
data order restored); checkpoints are written as plain tensors and Python values so that they load with
``weights_only=True`` and no extra globals, and resume never executes the config carried in a checkpoint (see
``bench.engine.checkpoint`` and ``bench.engine.resume``). The run folder's name hashes the config and the test
data's fingerprint (``bench.datasets.fingerprint``).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from mmengine.config import Config, ConfigDict

from bench.registry import METHODS, MethodSpec, register_all_modules

CONFIG_ROOT = Path(__file__).parent / "configs"
PRESETS = ("smoke", "demo", "cpu", "paper")


class RunError(RuntimeError):
    """A run cannot start as asked; the message says why and what to do."""


def default_data_root() -> Path:
    return Path(os.environ.get("BENCH_DATA_ROOT", "data"))


def default_results_root() -> Path:
    return Path(os.environ.get("BENCH_RESULTS_ROOT", "results"))


def get_method(name: str) -> MethodSpec:
    register_all_modules()
    if name not in METHODS:
        raise RunError(f"unknown method {name!r}; registered: {', '.join(sorted(METHODS))} (see `bench methods`)")
    return METHODS[name]


def dataset_names() -> list[str]:
    """The registered dataset names (one config each under ``bench/configs/datasets/``)."""
    return sorted(p.stem for p in (CONFIG_ROOT / "datasets").glob("*.py") if not p.stem.startswith("_"))


def dataset_config_path(dataset: str) -> Path:
    """The config of a registered dataset. Only registered names are accepted: ``-d`` is never joined into a
    path, so ``-d ../x`` cannot make the harness execute some other ``.py`` as a config."""
    have = dataset_names()
    if dataset not in have:
        raise RunError(f"unknown dataset {dataset!r}; available: {', '.join(have)} (see `bench datasets`; "
                       f"any folder of images is dataset 'folder' with --data-root)")
    return CONFIG_ROOT / "datasets" / f"{dataset}.py"


def preset_config_path(preset: str) -> Path:
    if preset not in PRESETS:
        raise RunError(f"unknown preset {preset!r}; available: {', '.join(PRESETS)}")
    return CONFIG_ROOT / "presets" / f"{preset}.py"


def parse_cfg_options(items) -> dict:
    """``['a.b=1', 'c=[1,2]']`` -> ``{'a.b': 1, 'c': [1, 2]}`` (values parsed as JSON when they parse)."""
    out = {}
    for item in items or ():
        if "=" not in item:
            raise RunError(f"--cfg-options takes key=value pairs, got {item!r}")
        key, value = item.split("=", 1)
        try:
            out[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            lowered = value.strip()
            out[key.strip()] = {"true": True, "false": False, "none": None, "null": None}.get(lowered.lower(), lowered)
    return out


def compose_config(method: str, dataset: str, preset: str = "smoke", variant: str | None = None,
                   cfg_options: dict | None = None, data_root: str | Path | None = None,
                   seed: int = 0) -> Config:
    """Merge preset, dataset and method configs into one run config (see module docstring)."""
    spec = get_method(method)
    method_preset = Config.fromfile(str(preset_config_path(preset))).get("method_configs") or preset
    try:
        method_path = spec.config_path(variant, method_preset)
    except (KeyError, FileNotFoundError) as e:
        raise RunError(str(e.args[0] if e.args else e)) from None
    cfg = Config.fromfile(str(preset_config_path(preset)))
    cfg.merge_from_dict(Config.fromfile(str(dataset_config_path(dataset))).to_dict())
    cfg.merge_from_dict(Config.fromfile(str(method_path)).to_dict())
    overrides = cfg.get("preset_overrides")
    if overrides:  # the preset's budget rule wins over the method's own schedule (see presets/cpu.py)
        cfg.merge_from_dict(dict(overrides))
        cfg.notes = [*(cfg.get("notes") or []), f"{preset} preset: " + ", ".join(
            f"{k}={v}" for k, v in dict(overrides).items()) + " for every method (the preset's budget rule)"]
    if cfg_options:
        cfg.merge_from_dict(cfg_options)

    if spec.predicts_segmentation and not cfg.get("num_classes"):
        raise RunError(f"method {method!r} is semantic-guided and needs segmentation labels, but dataset "
                       f"{dataset!r} has none; use outdoor, cityscapes, toy or a folder dataset with labels "
                       f"(num_classes > 0)")
    cfg.method = method
    cfg.variant = variant or spec.variants[0]
    cfg.dataset = dataset
    cfg.seed = int(seed)
    cfg.method_config = str(method_path)
    data_root = Path(data_root) if data_root is not None else default_data_root()
    cfg.data_root = str(data_root)
    subdir = cfg.get("data_subdir", dataset)
    for key in ("train_dataset", "test_dataset"):
        if key in cfg:
            ds = cfg[key]
            ds.data_root = str(data_root / subdir)
            ds.img_size = cfg.img_size
            ds.seed = int(seed) if key == "train_dataset" else ds.get("seed", 0)
    if "train_dataset" in cfg:
        cfg.train_dataset.masks = cfg.get("train_masks")
        cfg.train_dataset.max_samples = cfg.get("max_train_images")
        if cfg.get("skip_bad"):  # --skip-bad applies to training too: bad files are skipped, not fatal
            cfg.train_dataset.skip_bad = True
    if "test_dataset" in cfg:
        cfg.test_dataset.max_samples = cfg.get("max_test_images")
    if "num_classes" in cfg.model:
        cfg.model.num_classes = cfg.num_classes
    if "img_size" in cfg.model:
        cfg.model.img_size = cfg.img_size
    return cfg


def data_fingerprint(cfg: Config) -> str | None:
    """sha256 of the test split's image and label files (``bench.datasets.fingerprint``), memoised in
    ``cfg.data_fingerprint``. The data root itself is not hashed, its content is: the same images under
    another root are the same run, a replaced test image is a new one."""
    if cfg.get("data_fingerprint"):
        return cfg.data_fingerprint
    if "test_dataset" not in cfg:
        return None
    from bench.datasets.fingerprint import dataset_fingerprint
    from bench.registry import DATASETS

    register_all_modules()
    ds_cfg = cfg.test_dataset.to_dict() if isinstance(cfg.test_dataset, ConfigDict) else dict(cfg.test_dataset)
    ds_cfg.update(skip_bad=True, validate=False)  # list the files; bad ones are hashed like any other
    cfg.data_fingerprint = dataset_fingerprint(DATASETS.build(ds_cfg))["sha256"]
    return cfg.data_fingerprint


def config_hash(cfg: Config) -> str:
    """sha256 of the run-relevant config and the test data's fingerprint (where results go excluded)."""
    data_fingerprint(cfg)
    d = cfg.to_dict()
    for k in ("work_dir", "run_dir", "data_root", "method_config", "console_log"):  # not what is computed
        d.pop(k, None)
    for key in ("train_dataset", "test_dataset"):
        if key in d:
            d[key] = {k: v for k, v in d[key].items() if k != "data_root"}
    blob = json.dumps(d, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def run_name(cfg: Config) -> str:
    return cfg.method if cfg.variant == "default" else f"{cfg.method}-{cfg.variant}"


def run_dir_for(cfg: Config, results_root: str | Path | None = None) -> Path:
    """``results/<dataset>/<method>[-<variant>]/<preset>-seed<seed>-<confighash8>``: the same config always
    maps to the same folder, so ``--resume`` finds it."""
    root = Path(results_root) if results_root is not None else default_results_root()
    return root / cfg.dataset / run_name(cfg) / f"{cfg.preset}-seed{cfg.seed}-{config_hash(cfg)[:8]}"


@dataclass
class TrainResult:
    checkpoint: Path | None
    iterations: int
    work_dir: Path


def latest_checkpoint(work_dir: Path) -> Path | None:
    """The checkpoint named in ``last_checkpoint`` if it lies in ``work_dir``, else the highest intact
    ``iter_N.pth``. mmengine writes the marker as a path joined to the work dir at the time: a copied run
    folder's marker points into the original folder and is ignored here; an empty one does not block."""
    import zipfile

    work_dir = Path(work_dir)

    def usable(path: Path) -> bool:  # a checkpoint cut short by a kill is not a zip (no central directory)
        return path.is_file() and zipfile.is_zipfile(path)

    marker = work_dir / "last_checkpoint"
    text = marker.read_text().strip() if marker.is_file() else ""
    if text:
        named = Path(text) if Path(text).is_absolute() else Path.cwd() / text
        here = work_dir / named.name
        try:
            inside = named.resolve().parent == work_dir.resolve()
        except (OSError, RuntimeError):
            inside = False
        if inside and usable(here):
            return here
    found = [(int(m.group(1)), p) for p in work_dir.glob("iter_*.pth")
             if (m := re.fullmatch(r"iter_(\d+)\.pth", p.name)) and usable(p)]
    return max(found)[1] if found else None


def build_runner_config(cfg: Config, work_dir: Path, launcher: str = "none", resume: bool = False,
                        resume_from: str | Path | None = None) -> dict:
    """The mmengine ``Runner`` config of a training run. Resuming names the checkpoint explicitly
    (``load_from`` = ``resume_from``, default :func:`latest_checkpoint`) so mmengine never reads the
    ``last_checkpoint`` marker itself."""
    if resume and resume_from is None:
        resume_from = latest_checkpoint(Path(work_dir))
    is_gan = cfg.get("optim_wrapper", {}).get("constructor") == "MultiOptimWrapperConstructor"
    runner_cfg = dict(
        model=cfg.model.to_dict() if isinstance(cfg.model, ConfigDict) else cfg.model,
        work_dir=str(work_dir),
        train_dataloader=dict(
            batch_size=cfg.batch_size,
            num_workers=cfg.num_workers,
            persistent_workers=cfg.num_workers > 0,
            sampler=dict(type="InfiniteSampler", shuffle=True, seed=cfg.seed),
            collate_fn=dict(type="inpaint_collate"),
            dataset=cfg.train_dataset.to_dict(),
        ),
        train_cfg=dict(type="IterBasedTrainLoop", max_iters=int(cfg.train_iters), val_interval=10**12),
        optim_wrapper=cfg.optim_wrapper.to_dict(),
        default_hooks=dict(
            timer=dict(type="IterTimerHook"),
            logger=dict(type="LoggerHook", interval=int(cfg.log_interval), log_metric_by_epoch=False),
            param_scheduler=dict(type="ParamSchedulerHook"),
            checkpoint=dict(type="CheckpointHook", interval=int(cfg.checkpoint_interval), by_epoch=False,
                            max_keep_ckpts=int(cfg.get("max_keep_ckpts", 2)), save_last=True),
            sampler_seed=dict(type="DistSamplerSeedHook"),
        ),
        log_processor=dict(by_epoch=False, window_size=int(cfg.log_interval)),
        default_scope="bench",
        # deterministic=True (``--cfg-options deterministic=true``): bit-exact CUDA runs, slower kernels
        randomness=dict(seed=cfg.seed, deterministic=bool(cfg.get("deterministic", False))),
        launcher=launcher,
        env_cfg=dict(cudnn_benchmark=False, dist_cfg=dict(backend=cfg.get("dist_backend", "nccl"))),  # gloo on CPU
        resume=resume_from is not None,
        load_from=str(resume_from) if resume_from is not None else None,
        log_level=cfg.get("log_level", "INFO"),
    )
    if cfg.get("param_scheduler"):
        runner_cfg["param_scheduler"] = cfg.param_scheduler
    if launcher != "none":
        # a custom train_step under DDP needs the separate wrapper (DESIGN.md: MMDistributedDataParallel
        # ignores it); device_ids=None lets the same config run on CPU (gloo) in tests.
        import torch

        wrapper = dict(type="MMSeparateDistributedDataParallel" if is_gan else "MMDistributedDataParallel",
                       broadcast_buffers=False, find_unused_parameters=cfg.get("find_unused_parameters", False))
        if not torch.cuda.is_available():
            wrapper["device_ids"] = None
        runner_cfg["model_wrapper_cfg"] = wrapper
    return runner_cfg


def train(cfg: Config, run_dir: Path, launcher: str = "none", resume: bool = False) -> TrainResult:
    """Train ``cfg`` into ``run_dir/checkpoints`` with mmengine's Runner; resume from its last checkpoint."""
    from bench.engine.resume import SafeResumeRunner

    register_all_modules()
    work_dir = Path(run_dir) / "checkpoints"
    spec = get_method(cfg.method)
    if not spec.trainable:
        return TrainResult(checkpoint=None, iterations=0, work_dir=work_dir)
    existing = latest_checkpoint(work_dir) if work_dir.is_dir() else None
    if existing is not None and not resume:
        raise RunError(f"{work_dir} already holds checkpoints ({existing.name}); pass --resume to continue that "
                       f"run, or --work-dir to start a new one elsewhere")
    work_dir.mkdir(parents=True, exist_ok=True)
    _init_cpu_distributed(launcher, cfg)
    # SafeResumeRunner: weights-only loading, meta['config'] never executed, RNG states saved and restored
    runner_cls = SafeResumeRunner.configured(cfg.get("console_log", "progress"), f"train {run_name(cfg)}")
    runner = runner_cls.from_cfg(Config(build_runner_config(cfg, work_dir, launcher, resume_from=existing)))
    runner.train()
    final = latest_checkpoint(work_dir)
    return TrainResult(checkpoint=final, iterations=runner.iter, work_dir=work_dir)


def _init_cpu_distributed(launcher: str, cfg: Config) -> None:
    """CPU (gloo) multi-process runs: mmengine's own set-up calls ``torch.cuda.set_device`` and fails without
    GPUs, so the process group is initialised here, before the Runner (which then skips its own init)."""
    import torch
    import torch.distributed as dist

    if launcher == "none" or torch.cuda.is_available() or (dist.is_available() and dist.is_initialized()):
        return
    if launcher != "pytorch":
        raise RunError(f"--launcher {launcher} without GPUs is not supported; on CPUs use torchrun with "
                       f"--launcher pytorch")
    cfg.dist_backend = "gloo"
    dist.init_process_group(backend="gloo")


def build_model(cfg: Config, checkpoint: str | Path | None = None, device: str | None = None):
    """Build the method's model from ``cfg`` and load a checkpoint of the harness's own runner."""
    import torch

    from bench.engine import load_run_checkpoint
    from bench.registry import MODELS

    register_all_modules()
    model = MODELS.build(cfg.model.to_dict() if isinstance(cfg.model, ConfigDict) else cfg.model)
    if checkpoint is not None:
        state = load_run_checkpoint(checkpoint)
        state = state.get("state_dict", state)
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise RunError(f"checkpoint {checkpoint} does not fit method {cfg.method!r}: missing keys "
                           f"{missing[:5]}, unexpected keys {unexpected[:5]}")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model.to(device)
    model.eval()
    return model
