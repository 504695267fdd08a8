"""Atomic file writes: temp file in the same folder, fsync, rename. A killed run never leaves half a file."""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp creates 0600; results are ordinary readable files
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes (what ``sha256sum`` prints), read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---- data-only state files (never pickle: results folders are shared and copied) ---------------------
class StateFileError(ValueError):
    """A state file that is not one this code wrote (or belongs to another key)."""


def _split_arrays(obj, arrays: list):
    """JSON-able structure with every ndarray replaced by ``{"__array__": k}`` (arrays go to the npz)."""
    import numpy as np

    if isinstance(obj, dict):
        if "__array__" in obj:
            raise TypeError("a state dict may not use the key '__array__'")
        return {str(k): _split_arrays(v, arrays) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_split_arrays(v, arrays) for v in obj]
    if isinstance(obj, np.ndarray):
        arrays.append(obj)
        return {"__array__": len(arrays) - 1}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise TypeError(f"cannot store {type(obj).__name__} in a state file (dicts, lists, numbers, strings and "
                    f"numpy arrays only)")


def _join_arrays(obj, arrays):
    if isinstance(obj, dict):
        if set(obj) == {"__array__"}:
            return arrays[f"a{int(obj['__array__'])}"]
        return {k: _join_arrays(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_join_arrays(v, arrays) for v in obj]
    return obj


def atomic_write_state(path: str | os.PathLike, obj: Any, key: str) -> Path:
    """Write ``obj`` (dicts, lists, numbers, strings, numpy arrays) as an ``.npz`` with a JSON index.

    ``key`` is stored beside it and checked by :func:`read_state`, so a file from another evaluation is never
    taken for this one's. Read back with ``allow_pickle=False``: a crafted file cannot run code.
    """
    import numpy as np

    arrays: list = []
    doc = json.dumps({"key": key, "data": _split_arrays(obj, arrays)}, allow_nan=True)
    buf = io.BytesIO()
    np.savez(buf, __json__=np.frombuffer(doc.encode("utf-8"), dtype=np.uint8),
             **{f"a{k}": a for k, a in enumerate(arrays)})
    return atomic_write_bytes(path, buf.getvalue())


def read_state(path: str | os.PathLike, key: str) -> Any:
    """The object stored by :func:`atomic_write_state`; :class:`StateFileError` if unreadable or of another key."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            doc = json.loads(bytes(z["__json__"]).decode("utf-8"))
            if doc.get("key") != key:
                raise StateFileError(f"{path}: stored for another evaluation (key {str(doc.get('key'))[:12]}…)")
            arrays = {k: z[k] for k in z.files if k != "__json__"}
    except StateFileError:
        raise
    except Exception as e:  # noqa: BLE001 - zip, JSON and numpy raise many types for a damaged file
        raise StateFileError(f"{path}: not a state file of this harness ({type(e).__name__}: {e})") from None
    return _join_arrays(doc["data"], arrays)


def _json_default(o):
    import numpy as np

    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
