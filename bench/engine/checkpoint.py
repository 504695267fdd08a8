"""Loading the harness's own mmengine checkpoints under torch's ``weights_only=True``.

mmengine 0.10.7 writes its message hub as ``HistoryBuffer`` objects holding numpy arrays, and pickles
their ``_statistics_methods`` as ``builtins.getattr(HistoryBuffer, 'min')``: loading those under
``weights_only=True`` needs ``getattr`` allow-listed (upstream mmengine issue 1655), and ``getattr`` is a
gadget (it reaches any attribute, e.g. a function's ``__globals__``, which the unpickler may then write
into). So the harness never writes them: ``bench.engine.resume.PlainCheckpointHook`` stores the message
hub and every numpy value as tensors and plain Python, and this module loads with the allow-list below,
which holds only what those checkpoints contain beyond torch's defaults (nothing). Checkpoints written
before that change fail with a one-line error (retrain, or ``python -m bench.engine.legacy OLD.pth``).
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` is never set and every ``torch.load`` is ``weights_only=True``.
"""
from __future__ import annotations

import contextlib
import pickle
import re
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

# keys of a checkpoint's ``meta`` that mmengine would execute: Runner.resume runs
# ``Config.fromstring(meta['config'])`` (Python code) to read ``gpu_ids``.
EXECUTABLE_META_KEYS = ("config",)
_HISTORY_KEYS = ("log_history", "count_history", "max_length")
_NDARRAY_KEY = "__ndarray__"


class CheckpointError(ValueError):
    """A checkpoint cannot be loaded; the one-line message names the file and the fix."""


def mmengine_allow_list() -> list:
    """Globals, beyond torch's weights-only defaults, that the harness's own checkpoints contain.

    Empty: ``PlainCheckpointHook`` writes tensors and plain Python only (measured with
    ``torch.serialization.get_unsafe_globals_in_checkpoint`` on real runs; see tests/test_resume_safety.py).
    In particular no ``builtins.getattr`` (a gadget) and no ``HistoryBuffer`` (its ``__setstate__`` writes
    into a class attribute)."""
    return []


@contextlib.contextmanager
def mmengine_safe_globals():
    """Context in which ``torch.load(weights_only=True)`` accepts the harness's checkpoint contents."""
    with torch.serialization.safe_globals(mmengine_allow_list()):
        yield


def _unpickling_error(path: Path, exc: BaseException) -> CheckpointError:
    text = str(exc)
    found = re.search(r"GLOBAL (\S+)", text)
    name = found.group(1).rstrip(".,;") if found else ""
    name = f"builtins.{name}" if name and "." not in name else name  # torch prints builtins without module
    what = f" ({name})" if name else ""
    legacy = re.match(r"(mmengine\.logging\.|numpy\.)", name)  # what pre-plain harness checkpoints hold
    fix = ("it was written by an older version of the harness: retrain it with `bench train`, or convert it "
           f"with `python -m bench.engine.legacy {path}`" if legacy else
           "use a checkpoint written by this harness's `bench train`, or load official weights through the "
           "method's official-weights loader")
    return CheckpointError(f"checkpoint {path} contains objects the harness does not load{what}; {fix}")


def load_run_checkpoint(path: str | Path, map_location="cpu") -> dict:
    """Load a checkpoint written by the harness's own runner (weights-only, with the allow-list).

    Errors are one line naming the file (a ``CheckpointError``, a ``ValueError``); torch's advice to pass
    ``weights_only=False`` is never passed on."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist: pass the .pth file a run wrote under "
                                f"results/<dataset>/<method>/<run-id>/checkpoints/")
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"checkpoint {path} is not a PyTorch checkpoint (not a zip archive: corrupt, "
                              f"truncated or another format); use another checkpoint of the run or retrain")
    try:
        with mmengine_safe_globals():
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise _unpickling_error(path, exc) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        if "GLOBAL" in str(exc) or "Weights only load failed" in str(exc):
            raise _unpickling_error(path, exc) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        first = type(exc).__name__ if not first or "weights_only" in first else first
        raise CheckpointError(f"checkpoint {path} cannot be read ({first}): the file is corrupt or truncated; "
                              f"use another checkpoint of the run or retrain") from None


def strip_executable_meta(checkpoint: dict) -> dict:
    """Drop what mmengine would execute from ``checkpoint['meta']`` (``config``: ``Config.fromstring``)."""
    meta = checkpoint.get("meta")
    if isinstance(meta, dict):
        for key in EXECUTABLE_META_KEYS:
            meta.pop(key, None)
    return checkpoint


def to_plain(obj):
    """numpy values and mmengine ``HistoryBuffer`` s -> tensors / plain Python (weights-only loadable)."""
    from mmengine.logging import HistoryBuffer

    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, HistoryBuffer):
        return {"log_history": torch.from_numpy(np.array(obj._log_history)),
                "count_history": torch.from_numpy(np.array(obj._count_history)), "max_length": int(obj.max_length)}
    if isinstance(obj, np.ndarray):  # numeric arrays as tensors, others (strings, objects) as lists
        return {_NDARRAY_KEY: torch.from_numpy(np.array(obj))} if obj.dtype.kind in "biuf" else to_plain(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, OrderedDict):
        return OrderedDict((k, to_plain(v)) for k, v in obj.items())
    if type(obj) is dict:
        return {k: to_plain(v) for k, v in obj.items()}
    if type(obj) in (list, tuple):
        return type(obj)(to_plain(v) for v in obj)
    return obj


def from_plain(obj, history: bool = False):
    """Inverse of :func:`to_plain` (``history``: the values of ``message_hub['log_scalars']``)."""
    from mmengine.logging import HistoryBuffer

    if isinstance(obj, dict):
        if history and set(obj) == set(_HISTORY_KEYS):
            # .cpu(): Runner.resume loads with map_location=<device>, e.g. 'cuda'
            return HistoryBuffer(obj["log_history"].cpu().numpy(), obj["count_history"].cpu().numpy(),
                                 obj["max_length"])
        if set(obj) == {_NDARRAY_KEY}:
            return obj[_NDARRAY_KEY].cpu().numpy()
        return type(obj)((k, from_plain(v)) for k, v in obj.items())
    if type(obj) in (list, tuple):
        return type(obj)(from_plain(v) for v in obj)
    return obj


def restore_message_hub(checkpoint: dict) -> dict:
    """Turn a plain message hub (as ``PlainCheckpointHook`` writes it) back into mmengine's form."""
    hub = checkpoint.get("message_hub")
    if isinstance(hub, dict):
        scalars = hub.get("log_scalars", {})
        hub.update({k: from_plain(v) for k, v in hub.items() if k != "log_scalars"})
        hub["log_scalars"] = type(scalars)((k, from_plain(v, history=True)) for k, v in scalars.items())
    return checkpoint
