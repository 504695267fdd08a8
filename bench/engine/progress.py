"""What a training run prints: a progress bar with ETA and the current losses; mmengine's log goes to a file.

mmengine's ``Runner`` prints its environment dump, the whole config and the hook table (about 250 lines for a
smoke run) before the first training line. With ``console_log='progress'`` (the default) the console handler
of the run's logger only shows warnings and errors, the complete INFO log stays in the run's log file
(``checkpoints/<timestamp>/<timestamp>.log``) and :class:`TrainProgressHook` draws one tqdm bar on rank 0.
``console_log='mmengine'`` restores mmengine's own console output.
"""
from __future__ import annotations

import logging
import math

from mmengine.dist import get_rank
from mmengine.hooks import Hook

CONSOLE_LOGS = ("progress", "mmengine")


def quiet_console(logger, level=logging.WARNING) -> None:
    """Raise the console handlers of ``logger`` to ``level``; file handlers keep everything."""
    for h in logger.handlers:
        if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler):
            h.setLevel(max(h.level, level))


def _short(v) -> str:
    return f"{v:.3g}" if isinstance(v, float) and math.isfinite(v) else str(v)


class TrainProgressHook(Hook):
    """A tqdm bar over the training iterations (ETA from tqdm) with the latest losses as its postfix.

    Args:
        desc (str): the bar's label (the run name).
        every (int): refresh the losses every ``every`` iterations (the bar itself moves every iteration).
        max_losses (int): how many values to show (names containing ``loss`` first, then by name).
    """

    priority = "BELOW_NORMAL"

    def __init__(self, desc: str = "train", every: int = 1, max_losses: int = 4):
        self.desc, self.every, self.max_losses = desc, max(1, int(every)), int(max_losses)
        self.bar = None

    def before_train(self, runner) -> None:
        if get_rank() != 0:
            return
        from tqdm import tqdm

        self.bar = tqdm(total=runner.max_iters, initial=runner.iter, desc=self.desc, unit="it", dynamic_ncols=True,
                        leave=True)
        if runner.iter:
            self.bar.write(f"{self.desc}: resumed from iteration {runner.iter} of {runner.max_iters}")

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        if isinstance(outputs, dict) and (runner.iter % self.every == 0 or runner.iter == runner.max_iters):
            items = []
            for k, v in outputs.items():
                try:
                    items.append((k, float(v.detach() if hasattr(v, "detach") else v)))
                except (TypeError, ValueError, RuntimeError):
                    continue
            items.sort(key=lambda kv: ("loss" not in kv[0], kv[0]))  # loss terms first, then scores
            self.bar.set_postfix({k.replace("loss_", ""): _short(v) for k, v in items[:self.max_losses]},
                                 refresh=False)

    def after_train(self, runner) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


__all__ = ["CONSOLE_LOGS", "TrainProgressHook", "quiet_console"]
