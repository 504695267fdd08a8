"""Convert a checkpoint written before the harness stored its message hub as plain data.

``python -m bench.engine.legacy OLD.pth [NEW.pth]`` (default: in place, atomically). Such checkpoints hold
mmengine ``HistoryBuffer`` s, numpy values and ``builtins.getattr(HistoryBuffer, 'min')`` (mmengine issue
1655). They are read here with ``weights_only=True`` and an allow-list in which ``builtins.getattr`` is
replaced by a function that only returns ``HistoryBuffer.min/max/current/mean`` (anything else is refused),
then written back as :class:`bench.engine.resume.PlainCheckpointHook` writes: tensors and plain Python,
without ``meta['config']``. Only an explicit command loads this way; normal loading never does.
"""
from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import torch

from bench.engine.checkpoint import CheckpointError, load_run_checkpoint, strip_executable_meta, to_plain

_STATISTICS = ("min", "max", "current", "mean")


def _numpy_globals() -> list:
    core = getattr(np, "_core", None) or np.core
    allowed = [core.multiarray._reconstruct, core.multiarray.scalar, np.ndarray, np.dtype]
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None:
        allowed += [getattr(dtypes, n) for n in dir(dtypes) if n.endswith("DType")]
    return allowed


def _history_buffer_statistic(obj, name):
    """Stands in for ``builtins.getattr`` while reading a legacy checkpoint."""
    from mmengine.logging import HistoryBuffer

    if obj is HistoryBuffer and name in _STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(f"refused getattr({obj!r}, {name!r}): not a HistoryBuffer statistic")


def convert_legacy_checkpoint(src: str | Path, dst: str | Path | None = None) -> Path:
    """Rewrite ``src`` (to ``dst``, default in place) in the form the harness loads; returns the path."""
    from mmengine.logging import HistoryBuffer

    src = Path(src)
    dst = Path(dst) if dst is not None else src
    try:
        load_run_checkpoint(src)
    except CheckpointError:
        pass
    else:
        if dst != src:
            dst.write_bytes(src.read_bytes())
        return dst
    allow = [HistoryBuffer, (_history_buffer_statistic, "builtins.getattr"), *_numpy_globals()]
    methods = dict(HistoryBuffer._statistics_methods)  # HistoryBuffer.__setstate__ updates this class dict
    try:
        with torch.serialization.safe_globals(allow):
            ckpt = torch.load(src, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"checkpoint {src} is not a legacy harness checkpoint either ({first}); "
                              f"retrain it with `bench train`") from None
    finally:
        HistoryBuffer._statistics_methods.clear()
        HistoryBuffer._statistics_methods.update(methods)
    strip_executable_meta(ckpt)
    ckpt = {k: to_plain(v) for k, v in ckpt.items()}
    tmp = dst.with_name(dst.name + ".tmp")
    torch.save(ckpt, tmp)
    os.replace(tmp, dst)
    load_run_checkpoint(dst)  # the result loads with the normal allow-list
    return dst


def main(argv=None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) not in (1, 2) or args[0] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[0] + "\nusage: python -m bench.engine.legacy OLD.pth [NEW.pth]")
        return 2
    try:
        out = convert_legacy_checkpoint(*args)
    except (CheckpointError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"converted: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
