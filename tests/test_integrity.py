"""Result integrity: a number always belongs to the data, masks, model and predictions it names; nothing is
overwritten or mixed; nothing from a results folder or a user path runs code. Each test reproduces one finding
of the reliability probe (issue 15) and fails on the code before the fix."""
import errno
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile

import numpy as np
import pytest
from PIL import Image

from bench import api
from bench.io import StateFileError, atomic_write_state, read_state
from bench.predictions import export_masked
from bench.results import load_metrics
from bench.runlock import RunLockedError, run_lock
from bench.runner import RunError, compose_config, run_dir_for

PIXEL = {"evaluation.metrics": [dict(type="PixelMetric", protocol="paper")], "max_test_images": 6,
         "eval_batch_size": 2}
PRED = {"evaluation.metrics": [dict(type="PixelMetric", protocol="paper")]}  # the export's 16 test images


def _telea(tmp_path, work="run", masks=("center",), **kw):
    cfg, run_dir = api.prepare_run("telea", "toy", "smoke", cfg_options=PIXEL, work_dir=tmp_path / work, **kw)
    return api.run_eval(cfg, run_dir, None, list(masks), progress=False).document, run_dir


def _psnr_rows(run_dir):
    import pandas as pd

    return pd.read_csv(run_dir / "per_image.csv").set_index(["mask_set", "index"])["psnr"]


# ---------------------------------------------------------------------------------------- run identity
def test_replaced_test_image_is_a_new_evaluation_not_a_reuse(bench_env, tmp_path):
    first, run_dir = _telea(tmp_path)
    before = run_dir_for(compose_config("telea", "toy", "smoke", cfg_options=PIXEL))
    img = next((tmp_path / "data" / "toy").rglob("test/images/00001.png"))
    arr = np.asarray(Image.open(img)).copy()
    arr[::2] = 255 - arr[::2]                    # a different picture under the same name
    Image.fromarray(arr).save(img)
    assert run_dir_for(compose_config("telea", "toy", "smoke", cfg_options=PIXEL)) != before
    again, _ = _telea(tmp_path)                  # same --work-dir: the stored scores must not be reused
    fresh, _ = _telea(tmp_path, work="fresh")
    assert again["mask_sets"]["center"]["metrics"] == fresh["mask_sets"]["center"]["metrics"]
    assert again["mask_sets"]["center"]["metrics"]["psnr"] != first["mask_sets"]["center"]["metrics"]["psnr"]


def test_other_data_root_with_other_images_is_another_run_folder(bench_env, tmp_path):
    a = compose_config("telea", "toy", "smoke", data_root=tmp_path / "a")
    b = compose_config("telea", "toy", "smoke", data_root=tmp_path / "b")
    assert run_dir_for(a).name == run_dir_for(b).name          # same images: the same run
    img = next((tmp_path / "b" / "toy").rglob("test/images/00000.png"))
    Image.new("RGB", Image.open(img).size, (9, 9, 9)).save(img)
    b2 = compose_config("telea", "toy", "smoke", data_root=tmp_path / "b")
    assert run_dir_for(b2).name != run_dir_for(a).name


def test_rescored_predictions_folder_is_scored_again(bench_env, tmp_path):
    exported, preds = tmp_path / "exported", tmp_path / "preds"
    export_masked("toy", "center", exported, preset="smoke")
    shutil.copytree(exported / "images", preds)            # "prediction" = the input with a white hole
    shutil.copy(exported / "manifest.json", preds)
    first = api.predictions_run(preds, "mine", cfg_options=PRED, work_dir=tmp_path / "ext", progress=False)
    for p in preds.glob("*.png"):                          # refill: grey instead of white
        a = np.asarray(Image.open(p).convert("RGB")).copy()
        a[a.min(axis=2) == 255] = 128
        Image.fromarray(a).save(p)
    again = api.predictions_run(preds, "mine", cfg_options=PRED, work_dir=tmp_path / "ext", progress=False)
    fresh = api.predictions_run(preds, "mine", cfg_options=PRED, work_dir=tmp_path / "fresh", progress=False)
    m = lambda o: o.document["mask_sets"]["center"]["metrics"]["psnr"]  # noqa: E731
    assert m(again) == m(fresh) != m(first)


def test_stored_batch_of_another_key_is_refused(tmp_path):
    path = tmp_path / "batch_00000.npz"
    atomic_write_state(path, {"results": [[{"x": np.arange(3.0)}]], "seconds": 0.1}, "key-a")
    assert read_state(path, "key-a")["results"][0][0]["x"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(StateFileError, match="another evaluation"):
        read_state(path, "key-b")


# ---------------------------------------------------------------------------------------- one writer
_HOLD = """
import sys, time
from bench.runlock import run_lock
with run_lock(sys.argv[1], "train"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_second_writer_fails_at_once_naming_the_holder(bench_env, tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        t0 = time.time()
        with pytest.raises(RunLockedError, match=f"PID {proc.pid}"):
            _telea(tmp_path)
        assert time.time() - t0 < 30
        cfg, _ = api.prepare_run("tinygan", "toy", "smoke", work_dir=run_dir)
        with pytest.raises(RunLockedError, match="in use"):
            api.run_train(cfg, run_dir)
        assert not (run_dir / "checkpoints").exists()
    finally:
        proc.kill()
        proc.wait()
    with run_lock(run_dir):     # a killed holder leaves no stale lock
        pass


# ---------------------------------------------------------------------------------------- merge, never clobber
def test_evaluating_one_mask_set_keeps_the_others_and_the_training_record(bench_env, tmp_path):
    opts = {"train_iters": 4, "checkpoint_interval": 2, "max_test_images": 4, "eval_batch_size": 2,
            "evaluation.metrics": [dict(type="PixelMetric", protocol="paper")]}
    out = api.run("tinygan", "toy", "smoke", cfg_options=opts, progress=False)
    before = load_metrics(out.metrics_path)
    cfg, run_dir = api.prepare_run("tinygan", "toy", "smoke", cfg_options=opts)
    doc = api.run_eval(cfg, run_dir, out.checkpoint, ["center"], progress=False).document
    assert set(doc["mask_sets"]) == {"center", "irregular"}
    assert doc["mask_sets"]["irregular"] == before["mask_sets"]["irregular"]
    assert doc["train"] == before["train"] and doc["train"]["iterations"] == 4
    rows = _psnr_rows(run_dir)
    assert set(rows.index.get_level_values(0)) == {"center", "irregular"}
    # another checkpoint in the same folder: the old sets belong to another model and are not kept
    other = api.run_eval(cfg, run_dir, run_dir / "checkpoints" / "iter_2.pth", ["center"], progress=False).document
    assert set(other["mask_sets"]) == {"center"}


def test_external_predictions_never_write_into_a_method_folder(bench_env, tmp_path):
    out = api.run("telea", "toy", "smoke", mask_sets=["center"], cfg_options=PIXEL, progress=False)
    original = out.metrics_path.read_bytes()
    exported, preds = tmp_path / "exported", tmp_path / "preds"
    export_masked("toy", "center", exported, preset="smoke")
    shutil.copytree(exported / "images", preds)
    shutil.copy(exported / "manifest.json", preds)
    with pytest.raises(RunError, match="registered method"):
        api.predictions_run(preds, "telea", cfg_options=PRED, progress=False)
    mine = api.predictions_run(preds, "mine", cfg_options=PRED, progress=False)
    assert out.metrics_path.read_bytes() == original
    assert "external-mine" in mine.run_dir.parts and mine.document["method"] == "mine"


def test_predictions_need_the_manifest_and_its_mask_set(bench_env, tmp_path):
    exported, preds = tmp_path / "exported", tmp_path / "preds"
    export_masked("toy", "center", exported, preset="smoke")
    shutil.copytree(exported / "images", preds)
    with pytest.raises(RunError, match="manifest.json is missing"):
        api.predictions_run(preds, "mine", cfg_options=PRED, progress=False)
    shutil.copy(exported / "manifest.json", preds)
    with pytest.raises(RunError, match="made for mask set 'center'"):
        api.predictions_run(preds, "mine", mask_sets=["center", "irregular"], cfg_options=PRED, progress=False)
    with pytest.raises(RunError, match="preset"):
        api.predictions_run(preds, "mine", preset="paper", cfg_options=PRED, progress=False)
    doc = api.predictions_run(preds, "mine", cfg_options=PRED, progress=False).document
    assert set(doc["mask_sets"]) == {"center"}


# ---------------------------------------------------------------------------------------- masks as paths
def test_mask_folder_given_as_absolute_path_is_left_alone(bench_env, tmp_path):
    import masks

    user = tmp_path / "my masks"
    masks.make_mask_set(user, {"type": "freeform"}, count=3, seed=1, size=64, progress=False)
    listing = sorted(p.name for p in user.iterdir())
    doc, run_dir = _telea(tmp_path, masks=(str(user),))
    doc2, _ = _telea(tmp_path, masks=(str(user),))            # a second evaluation reuses, renames nothing
    assert sorted(p.name for p in user.iterdir()) == listing and not (tmp_path / "my masks.stale").exists()
    (key,) = doc2["mask_sets"]
    assert "/" not in key and not key.startswith(".") and (run_dir / "eval_state" / key).is_dir()
    assert doc2["mask_sets"][key]["metrics"] == doc["mask_sets"][key]["metrics"]


def test_misspelled_mask_set_fails_before_training(bench_env, tmp_path):
    with pytest.raises(FileNotFoundError, match="irregualr"):
        api.run("tinygan", "toy", "smoke", mask_sets=["center", "irregualr"], work_dir=tmp_path / "r",
                progress=False)
    assert not (tmp_path / "r" / "checkpoints").exists()


# ---------------------------------------------------------------------------------------- no foreign code
def test_crafted_eval_state_runs_no_code(bench_env, tmp_path):
    import pickle

    _, run_dir = _telea(tmp_path)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch '{marker}'",))

    state = run_dir / "eval_state" / "center"
    for f in state.glob("batch_*"):
        f.unlink()
    (state / "batch_00000.pkl").write_bytes(pickle.dumps([Evil()]))
    np.save(state / "x.npy", np.array([Evil()], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(state / "batch_00001.npz", "w") as z:   # an npz whose entries are pickles
        z.write(state / "x.npy", "__json__.npy")
        z.write(state / "x.npy", "a0.npy")
    doc, _ = _telea(tmp_path)
    assert not marker.exists()
    assert doc["mask_sets"]["center"]["num_images"] == 6


def test_dataset_name_is_never_a_path(bench_env, tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "x" / "evil.py"
    evil.parent.mkdir()
    evil.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('x')\n")
    from bench.runner import CONFIG_ROOT

    rel = os.path.relpath(evil.with_suffix(""), CONFIG_ROOT / "datasets")
    for name in (rel, "../x", "../../../../x/evil"):
        with pytest.raises(RunError, match="unknown dataset"):
            compose_config("telea", name, "smoke")
    assert not marker.exists()


# ---------------------------------------------------------------------------------------- inputs, errors
def test_skip_bad_applies_to_training(bench_env, tmp_path):
    from bench.datasets import DatasetError

    opts = {"train_iters": 2, "checkpoint_interval": 2, "max_train_images": 4, "batch_size": 2}
    cfg, run_dir = api.prepare_run("tinygan", "toy", "smoke", cfg_options=opts, work_dir=tmp_path / "a")
    bad = next((tmp_path / "data" / "toy").rglob("train/images/00001.png"), None)
    if bad is None:  # training scenes are rendered on first use
        from bench.registry import DATASETS

        DATASETS.build(cfg.train_dataset.to_dict()).full_init()
        bad = next((tmp_path / "data" / "toy").rglob("train/images/00001.png"))
    bad.write_bytes(b"not a png")
    with pytest.raises(DatasetError, match="00001.png"):
        api.run_train(cfg, run_dir)
    cfg, run_dir = api.prepare_run("tinygan", "toy", "smoke", cfg_options={**opts, "skip_bad": True},
                                   work_dir=tmp_path / "b")
    res, _ = api.run_train(cfg, run_dir)
    assert res.iterations == 2


def test_unreadable_prediction_is_named(bench_env, tmp_path):
    from bench.predictions import PredictionsError

    exported, preds = tmp_path / "exported", tmp_path / "preds"
    export_masked("toy", "center", exported, preset="smoke")
    shutil.copytree(exported / "images", preds)
    shutil.copy(exported / "manifest.json", preds)
    victim = sorted(preds.glob("*.png"))[2]
    victim.write_bytes(victim.read_bytes()[:40])
    with pytest.raises(PredictionsError, match=victim.name):
        api.predictions_run(preds, "mine", cfg_options=PRED, progress=False)


def test_environment_errors_are_one_line_with_the_fix():
    from bench.cli import error_line

    for code, word in ((errno.ENOSPC, "free disk space"), (errno.EROFS, "read-only")):
        line = error_line(OSError(code, os.strerror(code), "/r/metrics.json"))
        assert "\n" not in line and "/r/metrics.json" in line and word in line


def test_resumed_evaluation_has_the_same_samples(bench_env, tmp_path, monkeypatch):
    from bench import evaluation

    opts = {**PIXEL, "evaluation.save_samples": 3}
    cfg, run_dir = api.prepare_run("telea", "toy", "smoke", cfg_options=opts, work_dir=tmp_path / "ref")
    api.run_eval(cfg, run_dir, None, ["center"], progress=False)
    reference = sorted(p.name for p in (run_dir / "samples" / "center").iterdir())

    calls = {"n": 0}
    real = evaluation.atomic_write_state

    def die_after_two(*a, **k):
        if calls["n"] == 2:
            raise KeyboardInterrupt
        calls["n"] += 1
        return real(*a, **k)

    cfg, run_dir = api.prepare_run("telea", "toy", "smoke", cfg_options=opts, work_dir=tmp_path / "killed")
    monkeypatch.setattr(evaluation, "atomic_write_state", die_after_two)
    with pytest.raises(KeyboardInterrupt):
        api.run_eval(cfg, run_dir, None, ["center"], progress=False)
    monkeypatch.setattr(evaluation, "atomic_write_state", real)
    doc = api.run_eval(cfg, run_dir, None, ["center"], progress=False).document
    assert sorted(p.name for p in (run_dir / "samples" / "center").iterdir()) == reference
    assert doc["mask_sets"]["center"]["wall_time_s"] > 0


def test_edited_manifest_of_a_custom_set_is_refused_not_copied(bench_env, tmp_path):
    import masks

    user = tmp_path / "set"
    masks.make_mask_set(user, {"type": "freeform"}, count=3, seed=1, size=64, progress=False)
    mf = json.loads((user / "manifest.json").read_text())
    mf["generator"] = "nvidia_irregular"                  # a claim about the masks that was never hashed
    (user / "manifest.json").write_text(json.dumps(mf))
    with pytest.raises(ValueError, match="manifest.json"):
        _telea(tmp_path, masks=(str(user),))
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_disk_full_is_one_line_through_the_cli(bench_env, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from bench import io as bench_io
    from bench.cli import main

    real = bench_io.atomic_write_bytes

    def full(path, data):
        if str(path).endswith("metrics.json"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real(path, data)

    monkeypatch.setattr(bench_io, "atomic_write_bytes", full)
    args = ["eval", "-m", "telea", "--masks", "center", "--work-dir", str(tmp_path / "r")]
    for k, v in PIXEL.items():
        args += ["--cfg-options", f"{k}={json.dumps(v)}"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 1, out.output
    assert "Traceback" not in out.output and "free disk space" in out.output and "metrics.json" in out.output
