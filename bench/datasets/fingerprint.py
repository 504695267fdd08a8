"""Dataset fingerprints: what a run's numbers were computed on.

A fingerprint is the sha256 of the ordered list of ``(path relative to data_root, size, sha256)`` of every
image and label file of a dataset split. It enters the run-folder hash (``bench.runner.config_hash``) and the
evaluation resume key (``bench.evaluation``), so a different ``--data-root``, a replaced test image or a
changed label is a new run and a new evaluation, never a reuse of stored scores.

Hashing every file on every start would cost seconds on large test sets, so content hashes are cached on disk
keyed by absolute path, size and ``st_mtime_ns`` (a rewritten file changes its mtime): ``$BENCH_HASH_CACHE``
(``off`` disables the cache), default ``<results root>/.cache/file-sha256.json``.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from bench.io import atomic_write_json, file_sha256

HASH_CACHE_ENV = "BENCH_HASH_CACHE"


def _cache_path() -> Path | None:
    value = os.environ.get(HASH_CACHE_ENV)
    if value == "off":
        return None
    if value:
        return Path(value)
    return Path(os.environ.get("BENCH_RESULTS_ROOT", "results")) / ".cache" / "file-sha256.json"


class FileHashCache:
    """sha256 of files, remembered by ``(absolute path, size, mtime_ns)`` in one JSON file."""

    def __init__(self, path: Path | None):
        self.path = path
        self.entries: dict = {}
        self.changed = False
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text())
                self.entries = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError):
                self.entries = {}  # a damaged cache is only a cache: rebuilt below

    def sha256(self, path: str) -> tuple[int, str] | None:
        """``(size, sha256)`` of ``path``; None when the file does not exist."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = os.path.abspath(path)
        hit = self.entries.get(key)
        if isinstance(hit, list) and len(hit) == 3 and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return st.st_size, hit[2]
        digest = file_sha256(path)
        self.entries[key] = [st.st_size, st.st_mtime_ns, digest]
        self.changed = True
        return st.st_size, digest

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        try:
            atomic_write_json(self.path, self.entries)
        except OSError:
            pass  # read-only results folder: hashes are recomputed next time, nothing is wrong
        self.changed = False


def dataset_fingerprint(dataset) -> dict:
    """``{"sha256", "num_items", "num_files"}`` of a built dataset's image and label files, in item order.

    A file that does not exist (e.g. toy scenes rendered in memory with ``cache=False``) enters with its
    name only; its content is then defined by the dataset's config, which the run-folder hash holds too.
    """
    if hasattr(dataset, "full_init") and not getattr(dataset, "_fully_initialized", True):
        dataset.full_init()
    cache = FileHashCache(_cache_path())
    root = str(getattr(dataset, "data_root", "") or ".")
    rows, files = [], 0
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        row = []
        for key in ("img_path", "seg_path"):
            p = info.get(key)
            if p is None:
                continue
            rel = os.path.relpath(str(p), root).replace(os.sep, "/")
            got = cache.sha256(str(p))
            row.append([rel, *(got if got is not None else (None, None))])
            files += 1
        rows.append(row)
    cache.save()
    blob = json.dumps(rows, separators=(",", ":")).encode()
    return {"sha256": hashlib.sha256(blob).hexdigest(), "num_items": len(rows), "num_files": files}


def files_fingerprint(paths) -> dict:
    """``{"sha256", "num_files"}`` of an ordered list of files by name and content (prediction folders)."""
    cache = FileHashCache(_cache_path())
    rows = []
    for p in paths:
        got = cache.sha256(str(p))
        rows.append([Path(p).name, *(got if got is not None else (None, None))])
    cache.save()
    blob = json.dumps(rows, separators=(",", ":")).encode()
    return {"sha256": hashlib.sha256(blob).hexdigest(), "num_files": len(rows)}


__all__ = ["FileHashCache", "dataset_fingerprint", "files_fingerprint"]
