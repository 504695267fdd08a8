"""Shared fixtures: every test writes under tmp paths; plugins (the tiny GAN) are importable."""
import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _fid_cache_in_tmp(tmp_path, monkeypatch):
    """The on-disk ground-truth Inception feature cache of every test lives in its tmp dir."""
    monkeypatch.setenv("BENCH_FID_CACHE", str(tmp_path / "fid-cache"))


@pytest.fixture
def bench_env(tmp_path, monkeypatch):
    """Data, masks, results and torch hub caches in a temp dir; the tiny GAN plugin registered."""
    monkeypatch.setenv("BENCH_DATA_ROOT", str(tmp_path / "data"))
    monkeypatch.setenv("BENCH_RESULTS_ROOT", str(tmp_path / "results"))
    monkeypatch.delenv("BENCH_MASK_ROOT", raising=False)
    monkeypatch.setenv("BENCH_PLUGINS", "plugins.tiny_gan")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    import plugins.tiny_gan  # noqa: F401  (registers the method in this process)

    return tmp_path
