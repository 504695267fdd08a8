"""One writer per run folder: an exclusive ``flock`` on ``<run>/.lock`` held while training or evaluating.

Two ``bench run`` of one configuration would otherwise train into the same ``checkpoints/`` and two ``bench
eval`` of different checkpoints would mix their per-image rows. The lock is taken without waiting: the second
process fails at once with the holder's PID and command (written into the lock file). ``flock`` locks die
with their process, so a ``kill -9`` never leaves a stale lock. The lock is re-entrant within a process
(``bench run`` = train + eval), and only rank 0 of a distributed job takes it (all ranks share the folder).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from pathlib import Path

LOCK_NAME = ".lock"
_held: dict[str, list] = {}  # resolved run folder -> [fd, depth]


class RunLockedError(RuntimeError):
    """The run folder is being written by another process."""


def _rank() -> int:
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text())
        return f"PID {info.get('pid')} ({info.get('command')}, since {info.get('started')})"
    except (OSError, ValueError):
        return "another process (no holder recorded)"


@contextlib.contextmanager
def run_lock(run_dir: str | os.PathLike, what: str = "write"):
    """Hold the exclusive lock of ``run_dir`` for the block; :class:`RunLockedError` if another process has it."""
    run_dir = Path(run_dir)
    if _rank() != 0:
        yield
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    key = str(run_dir.resolve())
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    path = run_dir / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RunLockedError(f"run folder {run_dir} is in use by {_holder(path)}; wait for it to finish, or "
                             f"use --work-dir (another folder) to {what} in parallel") from None
    info = {"pid": os.getpid(), "command": " ".join(sys.argv) or sys.executable,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "action": what}
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
    _held[key] = [fd, 1]
    try:
        yield
    finally:
        _held.pop(key, None)
        try:
            os.ftruncate(fd, 0)
        finally:
            os.close(fd)  # closing releases the flock


__all__ = ["LOCK_NAME", "RunLockedError", "run_lock"]
