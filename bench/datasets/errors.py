"""Errors raised by the datasets.

Every error names the file (or folder) at fault and says how to fix it, so the CLI can print
``str(err)`` as is.
"""
from __future__ import annotations

import os

ENV_DATA_ROOT = "BENCH_DATA_ROOT"
DEFAULT_DATA_ROOT = "data"


class DatasetError(ValueError):
    """A dataset file or folder is missing, unreadable or inconsistent.

    Args:
        message (str): full human-readable message (file name and fix included).
        path (str | None): the offending file or folder.
        reason (str | None): short reason (``'unreadable image'``, ``'label out of range'``, ...),
            what ``InpaintDataset.bad_files`` records next to the path.
    """

    def __init__(self, message: str, path: str | None = None, reason: str | None = None):
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.reason = reason or message


class DatasetNotFoundError(DatasetError):
    """The dataset root (or a folder it must contain) does not exist."""


def how_to_point(name: str, subdir: str) -> str:
    """The paragraph every "dataset not found" message ends with."""
    env = os.environ.get(ENV_DATA_ROOT)
    now = f" (now {ENV_DATA_ROOT}={env})" if env else ""
    return (
        f"Point the harness at it with `--data-root DIR` (dataset {name!r} is then read from DIR/{subdir}), "
        f"or set the environment variable {ENV_DATA_ROOT}=DIR{now}; the default DIR is "
        f"`{DEFAULT_DATA_ROOT}/` (so `{DEFAULT_DATA_ROOT}/{subdir}`). "
        f"In a config, set `data_root` of train_dataset/test_dataset. `bench datasets` lists what is found.")


def not_found_message(name: str, subdir: str, root: str, missing: list[str], tree: str) -> str:
    lines = [f"dataset {name!r} not found at {root}"]
    if missing:
        lines[0] += ": missing " + ", ".join(missing)
    lines.append("Expected layout:")
    lines.extend("    " + ln for ln in tree.strip("\n").splitlines())
    lines.append(how_to_point(name, subdir))
    return "\n".join(lines)
