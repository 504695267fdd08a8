"""The trivial reference ``meanfill``: the hole holds the mean colour of the image's known pixels, it is registered
like ``telea`` (no training), and the constant-output guard flags it, as it must."""
from __future__ import annotations

import pandas as pd
import pytest
import torch

from bench import api
from bench.registry import METHODS, MODELS, register_all_modules
from bench.results import load_metrics


@pytest.fixture(scope="module")
def model():
    register_all_modules()
    return MODELS.build(dict(type="MeanFillInpaintor", num_classes=8))


def _batch():
    g = torch.Generator().manual_seed(0)
    img = torch.rand(3, 3, 24, 20, generator=g) * 2 - 1
    mask = torch.zeros(3, 1, 24, 20)
    mask[0, :, 6:18, 4:12] = 1                       # a box
    mask[1] = (torch.rand(1, 24, 20, generator=g) > 0.6).float()   # scattered pixels
    mask[2] = 1                                      # nothing known: grey
    return img, mask


def test_hole_holds_the_mean_of_the_known_pixels(model):
    img, mask = _batch()
    preds = model(img, mask, meta=[{"index": i} for i in range(3)], mode="predict")
    assert len(preds) == 3 and preds[0]["meta"] == {"index": 0}
    for i in range(2):
        hole = mask[i, 0] > 0.5
        expected = img[i][:, ~hole].mean(dim=1)                       # per channel, known pixels only
        raw, comp = preds[i]["raw"], preds[i]["composite"]
        assert raw.shape == comp.shape == (3, 24, 20)
        torch.testing.assert_close(comp[:, hole], expected[:, None].expand(3, int(hole.sum())), rtol=0, atol=1e-6)
        torch.testing.assert_close(comp[:, ~hole], img[i][:, ~hole], rtol=0, atol=0)   # known pixels untouched
        assert comp[:, hole].std(dim=1).max() == 0                   # one colour inside the hole
    assert torch.equal(preds[2]["composite"], torch.zeros(3, 24, 20))
    assert model(img, mask, mode="tensor").shape == img.shape
    assert not any(p.requires_grad for p in model.parameters())


def test_registered_like_telea():
    register_all_modules()
    spec, telea = METHODS["meanfill"], METHODS["telea"]
    assert spec.trainable is False and spec.in_demo is True and spec.variants == ("default",)
    assert spec.display_name == "Mean fill" and telea.trainable is False
    assert spec.config_path(None, "smoke").name == "meanfill_smoke.py"
    assert spec.config_path(None, "paper").name == "meanfill_paper.py"


def test_runs_through_the_api_and_is_flagged_constant(bench_env):
    """``bench run -m meanfill -d toy`` end to end: every image's hole is constant, and ``constant_fill`` says so;
    the per-image hole variation of the ground truth is kept beside it."""
    out = api.run("meanfill", "toy", "smoke", cfg_options={"max_test_images": 4}, progress=False)
    doc = load_metrics(out.metrics_path)
    assert doc["method"] == "meanfill" and doc["train"].get("iterations", 0) == 0
    assert set(doc["mask_sets"]) == {"center", "irregular"}
    for name, s in doc["mask_sets"].items():
        assert s["num_images"] == 4 and 0 < s["metrics"]["psnr"] < 60, name
        assert s["metrics"]["constant_fill"] == 1.0, name
        assert "4 of 4 image(s) have a constant output" in s["reasons"]["constant_fill"]
    per_image = pd.read_csv(out.run_dir / "per_image.csv")
    assert len(per_image) == 8 and (per_image.hole_std == 0).all() and (per_image.hole_std_gt >= 1).all()
