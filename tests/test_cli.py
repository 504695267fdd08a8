"""The CLI is thin: each command parses and calls the library; every command documents an example."""
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
