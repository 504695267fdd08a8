"""Scoring outside predictions: export -> fill with external code (OpenCV here) -> `bench eval --predictions`
gives the same numbers as the built-in telea method on the same mask set; bad folders are refused by name."""
import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from bench import api
from bench.predictions import PredictionsError, export_masked

OPTS = {"evaluation.metrics": [dict(type="PixelMetric", protocol="paper")]}


def _fill_with_opencv(exported, out):
    out.mkdir()
    shutil.copy(exported / "manifest.json", out / "manifest.json")
    for img_path in sorted((exported / "images").glob("*.png")):
        img = np.asarray(Image.open(img_path).convert("RGB"))
        hole = np.asarray(Image.open(exported / "masks" / img_path.name))
        Image.fromarray(cv2.inpaint(np.ascontiguousarray(img), hole, 3.0, cv2.INPAINT_TELEA)).save(out / img_path.name)


def test_exported_then_filled_externally_scores_like_builtin_telea(bench_env, tmp_path):
    exported = tmp_path / "exported"
    n = export_masked("toy", "center", exported, preset="smoke")
    assert n == 16
    _fill_with_opencv(exported, tmp_path / "preds")
    external = api.predictions_run(tmp_path / "preds", "opencv-external", cfg_options=OPTS,
                                   progress=False).document
    cfg2, run_dir2 = api.prepare_run("telea", "toy", "smoke", cfg_options=OPTS, work_dir=tmp_path / "builtin")
    builtin = api.run_eval(cfg2, run_dir2, mask_sets=["center"], progress=False).document
    assert external["method"] == "opencv-external"
    ext, ref = external["mask_sets"]["center"]["metrics"], builtin["mask_sets"]["center"]["metrics"]
    for k in ("psnr", "ssim", "l1", "mae_rel"):
        assert ext[k] == pytest.approx(ref[k], abs=1e-9), k


def test_missing_extra_and_wrong_size_predictions_are_listed(bench_env, tmp_path):
    exported = tmp_path / "exported"
    export_masked("toy", "center", exported, preset="smoke")
    preds = tmp_path / "preds"
    _fill_with_opencv(exported, preds)
    names = sorted(p.name for p in preds.glob("*.png"))
    (preds / names[0]).unlink()
    Image.new("RGB", (10, 10)).save(preds / names[1])
    Image.new("RGB", (64, 64)).save(preds / "stranger.png")
    with pytest.raises(PredictionsError) as e:
        api.predictions_run(preds, "mine", cfg_options=OPTS, progress=False)
    msg = str(e.value)
    assert names[0] in msg and names[1] in msg and "stranger.png" in msg
