"""Safe, bit-exact resume on top of mmengine 0.10.7's ``Runner``.

* ``SafeResumeRunner.load_checkpoint`` loads through :func:`bench.engine.checkpoint.load_run_checkpoint`
  (weights-only, the harness's allow-list) and drops ``meta['config']``, which ``Runner.resume`` would run
  as Python (``Config.fromstring``), before mmengine sees the checkpoint.
* ``PlainCheckpointHook`` (priority LOWEST, so it sees what other hooks added) writes the message hub and
  every numpy value as tensors / plain Python (no ``builtins.getattr`` needed to load: mmengine issue
  1655), plus the torch (CPU, CUDA), numpy and Python ``random`` RNG states.
* ``RestoreRngHook`` (priority HIGHEST) puts those RNG states back just before the first iteration after
  a resume, i.e. after mmengine's ``IterBasedTrainLoop`` has replayed the first ``iter`` batches (which
  also replays the datasets' per-index visit counters that drive the training masks).
"""
from __future__ import annotations

import random

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint_to_model

from bench.engine.checkpoint import load_run_checkpoint, restore_message_hub, strip_executable_meta, to_plain

RNG_KEY = "bench_rng_state"


def capture_rng_state() -> dict:
    """The process's RNG states as tensors and plain Python (loadable with ``weights_only=True``)."""
    version, internal, gauss_next = random.getstate()
    _, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos), "has_gauss": int(has_gauss),
                  "cached_gaussian": float(cached)},
        "python": {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64),
                   "gauss_next": gauss_next},
    }
    if torch.cuda.is_available():
        state["cuda"] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict, logger=None) -> None:
    """Inverse of :func:`capture_rng_state` (tensors may come back on the resume device: ``.cpu()``)."""
    torch.set_rng_state(state["torch"].cpu())
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].cpu().numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    p = state["python"]
    random.setstate((p["version"], tuple(int(v) for v in p["state"].cpu().tolist()), p["gauss_next"]))
    cuda = state.get("cuda")
    if cuda and torch.cuda.is_available():
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
        elif logger is not None:
            logger.warning(f"the checkpoint holds the CUDA RNG states of {len(cuda)} devices, this process sees "
                           f"{torch.cuda.device_count()}: CUDA RNG not restored, resume is not bit-exact")


class PlainCheckpointHook(Hook):
    """Before saving: numpy / ``HistoryBuffer`` -> tensors and plain Python; add the RNG states."""

    priority = "LOWEST"

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in list(checkpoint):
            checkpoint[key] = to_plain(checkpoint[key])
        checkpoint[RNG_KEY] = capture_rng_state()


class RestoreRngHook(Hook):
    """On resume: set the checkpoint's RNG states right before the first iteration trained after it."""

    priority = "HIGHEST"

    def __init__(self):
        self._pending = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if getattr(runner, "_resume", False):
            self._pending = checkpoint.get(RNG_KEY)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        if self._pending is not None:
            state, self._pending = self._pending, None
            set_rng_state(state, runner.logger)
            runner.logger.info(f"restored the RNG states saved at iteration {runner.iter}")


class SafeResumeRunner(Runner):
    """mmengine's ``Runner`` whose checkpoint loading (load and resume) goes through the harness's
    weights-only loader and never executes ``meta['config']``; registers the two hooks above."""

    console_log = "progress"  # bench.engine.progress: a tqdm bar on the console, mmengine's log in its file
    progress_desc = "train"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.register_hook(PlainCheckpointHook(), PlainCheckpointHook.priority)
        self.register_hook(RestoreRngHook(), RestoreRngHook.priority)
        if self.console_log == "progress":
            from bench.engine.progress import TrainProgressHook

            self.register_hook(TrainProgressHook(self.progress_desc), TrainProgressHook.priority)

    @classmethod
    def configured(cls, console_log: str = "progress", progress_desc: str = "train") -> type:
        """This runner class with its console settings (``Runner.from_cfg`` passes no extra arguments, and the
        environment dump is logged inside ``__init__``, so they must be known before construction)."""
        from bench.engine.progress import CONSOLE_LOGS

        if console_log not in CONSOLE_LOGS:
            raise ValueError(f"console_log must be one of {', '.join(CONSOLE_LOGS)}, got {console_log!r}")
        return type(cls.__name__, (cls,), {"console_log": console_log, "progress_desc": progress_desc})

    def build_logger(self, log_level="INFO", log_file=None, **kwargs):
        logger = super().build_logger(log_level=log_level, log_file=log_file, **kwargs)
        if self.console_log == "progress":
            from bench.engine.progress import quiet_console

            quiet_console(logger)
        return logger

    def load_checkpoint(self, filename, map_location="cpu", strict: bool = False,
                        revise_keys: list = [(r"^module.", "")]):  # noqa: B006  (mmengine's signature)
        """``Runner.load_checkpoint`` (mmengine 0.10.7) with the harness's loader in place of ``torch.load``."""
        checkpoint = load_run_checkpoint(filename, map_location=map_location)
        strip_executable_meta(checkpoint)
        restore_message_hub(checkpoint)
        self.call_hook("after_load_checkpoint", checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(self.model) else self.model
        checkpoint = _load_checkpoint_to_model(model, checkpoint, strict, revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f"Load checkpoint from {filename}")
        return checkpoint
