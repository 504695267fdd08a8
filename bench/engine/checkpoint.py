"""Loading the harness's own mmengine checkpoints under torch's ``weights_only=True``.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10.7's checkpoints carry its
message hub (``HistoryBuffer``) and numpy arrays, scalars and dtypes, so resume fails (upstream mmengine
issue 1655). The fix is an allow-list of exactly those classes, scoped as a context to loading the run's
own checkpoints; user-supplied weights (official checkpoints) load with plain ``weights_only=True``.
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is never set.
"""
from __future__ import annotations

import builtins
import contextlib
from pathlib import Path

import numpy as np
import torch


def _numpy_globals() -> list:
    core = getattr(np, "_core", None) or np.core
    allowed = [core.multiarray._reconstruct, core.multiarray.scalar, np.ndarray, np.dtype]
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        allowed += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith("DType")]
    return allowed


def mmengine_allow_list() -> list:
    from mmengine.logging.history_buffer import HistoryBuffer

    return [HistoryBuffer, builtins.getattr, *_numpy_globals()]


@contextlib.contextmanager
def mmengine_safe_globals():
    """Context in which ``torch.load(weights_only=True)`` accepts mmengine's checkpoint contents."""
    with torch.serialization.safe_globals(mmengine_allow_list()):
        yield


def load_run_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """Load a checkpoint written by the harness's own runner (weights-only, with the allow-list)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist: pass the .pth file a run wrote under "
                                f"results/<dataset>/<method>/<run-id>/checkpoints/")
    with mmengine_safe_globals():
        return torch.load(path, map_location=map_location, weights_only=True)
