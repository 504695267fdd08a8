"""The ``bench`` command line. Thin: every command parses its options and calls library functions.

One module per command family; each registers its commands on :data:`bench.cli.common.main` when imported.
"""
from bench.cli import info, masks, perf, pipelines, reports, runs  # noqa: F401 - registers the commands
from bench.cli.common import BenchGroup, error_line, main

__all__ = ["BenchGroup", "error_line", "main"]
