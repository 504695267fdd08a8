"""The CLI is thin: each command parses and calls the library; every command documents an example."""
import json

import pytest
from click.testing import CliRunner

from bench.cli import main


def _commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield (*prefix, name), cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*prefix, name))


@pytest.mark.parametrize("path", [p for p, _ in _commands(main)], ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path):
    res = CliRunner().invoke(main, [*path, "--help"])
    assert res.exit_code == 0, res.output
    assert "Example" in res.output, f"`bench {' '.join(path)} --help` shows no example"


def test_methods_lists_telea(bench_env):
    res = CliRunner().invoke(main, ["methods", "--no-counts"])
    assert res.exit_code == 0, res.output
    assert "telea" in res.output and "OpenCV" in res.output


def test_masks_make_verify_and_tamper(bench_env, tmp_path):
    out = tmp_path / "set"
    r = CliRunner().invoke(main, ["masks", "make", "-g", "freeform", "--count", "5", "--size", "32", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert CliRunner().invoke(main, ["masks", "verify", str(out)]).exit_code == 0
    png = sorted(out.glob("*.png"))[0]
    from PIL import Image
    import numpy as np

    a = np.array(Image.open(png))
    a[0, 0] = 255 - a[0, 0]
    Image.fromarray(a).save(png)
    bad = CliRunner().invoke(main, ["masks", "verify", str(out)])
    assert bad.exit_code != 0 and png.name in bad.output


def test_run_unknown_method_is_one_clear_line(bench_env):
    res = CliRunner().invoke(main, ["run", "-m", "nope", "-d", "toy"])
    assert res.exit_code != 0
    assert "unknown method 'nope'" in res.output and "Traceback" not in res.output


def test_table_without_results_says_what_to_do(bench_env, tmp_path):
    res = CliRunner().invoke(main, ["table", "--results", str(tmp_path / "none"), "--out", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    assert "bench run" in res.output


def test_demo_command_end_to_end_for_one_method(bench_env):
    """`bench demo` (the README's main command) on a subset: evaluates both mask sets, writes the report and
    prints the tables once; a second call lands in the same run folder with the same numbers."""
    out = bench_env / "reports"
    args = ["demo", "--methods", "telea", "--results", str(bench_env / "results"), "--out", str(out),
            "--data-root", str(bench_env / "data")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert (out / "REPORT.md").is_file() and (out / "tables" / "tables.md").is_file()
    assert res.output.count((out / "tables" / "tables.md").read_text().splitlines()[0]) == 1
    metrics = sorted((bench_env / "results").rglob("metrics.json"))
    assert len(metrics) == 1 and "telea" in str(metrics[0])
    def mask_sets():
        doc = json.loads(metrics[0].read_text())["mask_sets"]
        return {name: {k: v for k, v in entry.items() if k != "wall_time_s"} for name, entry in doc.items()}

    first = mask_sets()
    assert set(first) == {"center", "irregular"}
    again = CliRunner().invoke(main, args)      # same run folder: resumes from the saved state, same document
    assert again.exit_code == 0, again.output
    assert sorted((bench_env / "results").rglob("metrics.json")) == metrics
    assert mask_sets() == first
