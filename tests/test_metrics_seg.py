"""mIoU against a hand-computed confusion matrix; hole-ratio bins; the weights report."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from bench.metrics import SegmentationMetric, confusion_matrices, describe_weights, hole_ratio_bins, per_image_table
from bench.metrics import weights as W
from bench.registry import METRICS

# one 3×4 image, 3 classes, 255 = ignore
LABEL = [[0, 0, 1, 255],
         [0, 1, 1, 2],
         [2, 2, 255, 1]]
PRED = [[0, 1, 1, 0],
        [0, 1, 2, 2],
        [2, 0, 1, 1]]
HOLE = [[0, 0, 1, 1],
        [0, 0, 1, 1],
        [0, 0, 1, 1]]
# By hand, over the 10 labelled pixels (rows = label, columns = prediction):
#   label 0: predicted 0,1,0        -> [2, 1, 0]
#   label 1: predicted 1,1,2,1      -> [0, 3, 1]
#   label 2: predicted 2,2,0        -> [1, 0, 2]
# IoU0 = 2 / (3 + 3 - 2) = 0.5, IoU1 = 3 / (4 + 4 - 3) = 0.6, IoU2 = 2 / (3 + 3 - 2) = 0.5
HAND_CONF = [[2, 1, 0], [0, 3, 1], [1, 0, 2]]
HAND_MIOU = (0.5 + 0.6 + 0.5) / 3
HAND_AACC = 7 / 10
# Hole (two right columns), labelled pixels: (1→1), (1→2), (2→2), (1→1); class 0 absent (NaN, not averaged)
# IoU1 = 2 / (3 + 2 - 2) = 2/3, IoU2 = 1 / (1 + 2 - 1) = 1/2
HAND_MIOU_HOLE = (2 / 3 + 1 / 2) / 2


def _batch(with_labels=True, with_logits=True):
    label = torch.tensor([LABEL, [[255] * 4] * 3])           # second image: all ignored
    pred = torch.tensor([PRED, PRED])
    logits = torch.nn.functional.one_hot(pred, 3).permute(0, 3, 1, 2).float() * 5.0 - 1.0
    mask = torch.tensor([HOLE, HOLE]).float()[:, None]
    metas = [dict(file="a.png", index=0, hole_ratio=0.5), dict(file="b.png", index=1, hole_ratio=0.5)]
    batch = dict(img=torch.zeros(2, 3, 3, 4), mask=mask, meta=metas)
    if with_labels:
        batch["seg"] = label
    samples = [dict(raw=torch.zeros(3, 3, 4), composite=torch.zeros(3, 3, 4), meta=m) for m in metas]
    if with_logits:
        for s, lg in zip(samples, logits):
            s["seg_logits"] = lg
    return batch, samples


def test_confusion_matrix_by_hand():
    conf = confusion_matrices(torch.tensor([PRED]), torch.tensor([LABEL]), 3)
    assert conf.dtype == torch.int64 and conf[0].tolist() == HAND_CONF


def test_miou_equals_the_hand_computed_value():
    metric = METRICS.build(dict(type="SegmentationMetric", class_names=["sky", "water", "grass"]))
    batch, samples = _batch()
    metric.process(batch, samples)      # both images in one batch
    results = pickle.loads(pickle.dumps(metric.results))
    assert results[0]["confusion"].tolist() == HAND_CONF and results[0]["confusion"].dtype == np.int64
    assert results[1]["confusion"].sum() == 0 and np.isnan(results[1]["values"]["miou"])
    values = metric.compute_metrics(results)
    assert values["miou"] == pytest.approx(HAND_MIOU, abs=1e-12)
    assert values["miou_hole"] == pytest.approx(HAND_MIOU_HOLE, abs=1e-12)
    assert values["aacc"] == pytest.approx(HAND_AACC)
    assert values["miou_per_class"] == pytest.approx({"sky": 0.5, "water": 0.6, "grass": 0.5})
    assert values["miou_hole_per_class"]["sky"] is None
    assert values["miou_hole_per_class"]["water"] == pytest.approx(2 / 3)
    assert metric.reasons == {}


def test_miou_agrees_with_mmseg_intersect_and_union():
    from mmseg.evaluation.metrics import IoUMetric

    inter, union, area_pred, area_label = IoUMetric.intersect_and_union(
        torch.tensor(PRED), torch.tensor(LABEL), 3, 255)
    conf = np.array(HAND_CONF)
    assert inter.tolist() == np.diag(conf).tolist()
    assert area_label.tolist() == conf.sum(1).tolist() and area_pred.tolist() == conf.sum(0).tolist()


@pytest.mark.parametrize("labels,logits,reason", [(False, True, "dataset has no labels"),
                                                  (True, False, "method does not predict segmentation")])
def test_nothing_to_evaluate_is_none_with_reason(labels, logits, reason):
    metric = SegmentationMetric(num_classes=3)
    metric.process(*_batch(with_labels=labels, with_logits=logits))
    assert metric.results and all(r["seg_missing"] == reason and "confusion" not in r for r in metric.results)
    # the reason travels with the results: a fresh metric computing from saved results (resume) gives it too
    fresh = SegmentationMetric(num_classes=3)
    for m in (metric, fresh):
        values = m.compute_metrics(metric.results)
        assert values["miou"] is None and values["miou_hole"] is None
        assert m.reasons["miou"] == reason


def test_hole_ratio_bins():
    df = pd.DataFrame({"hole_ratio": [0.05, 0.1, 0.15, 0.95, 1.0, np.nan],
                       "psnr": [30.0, 20.0, 22.0, 10.0, 12.0, 99.0],
                       "ssim": [0.9, 0.8, np.nan, 0.1, 0.3, 0.0]})
    bins = hole_ratio_bins(df, ["psnr", "ssim"])
    assert list(bins) == [f"{10 * i}-{10 * (i + 1)}%" for i in range(10)]
    assert bins["0-10%"]["n"] == 1 and bins["0-10%"]["mean"]["psnr"] == 30.0 and bins["0-10%"]["std"]["psnr"] == 0.0
    assert bins["10-20%"]["n"] == 2 and bins["10-20%"]["mean"]["psnr"] == pytest.approx(21.0)
    assert bins["10-20%"]["std"]["psnr"] == pytest.approx(1.0)          # population std
    assert bins["10-20%"]["mean"]["ssim"] == pytest.approx(0.8)         # NaN skipped
    assert bins["90-100%"]["n"] == 2 and bins["90-100%"]["mean"]["ssim"] == pytest.approx(0.2)
    assert bins["50-60%"]["n"] == 0 and bins["50-60%"]["mean"]["psnr"] is None
    assert sum(b["n"] for b in bins.values()) == 5                       # the NaN ratio is left out
    with pytest.raises(KeyError):
        hole_ratio_bins(df, ["lpips"])


def test_per_image_table_merges_metrics():
    results = [dict(index=0, file="a", hole_ratio=0.1, values={"psnr": 20.0}),
               dict(index=0, file="a", hole_ratio=0.1, values={"lpips": 0.2}),
               dict(index=1, file="b", hole_ratio=0.3, values={"psnr": 25.0})]
    df = per_image_table(results)
    assert df.set_index("index").loc[0, "lpips"] == 0.2 and len(df) == 2


def test_describe_weights_lists_every_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv(W.FID_ENV, raising=False)
    monkeypatch.delenv(W.LPIPS_ENV, raising=False)
    monkeypatch.setattr(W, "_download", lambda url, path: pytest.fail("describe_weights must not download"))
    entries = {e["name"]: e for e in describe_weights()}
    assert set(entries) == {"inception-v3-fid", "lpips-alex-backbone", "lpips-alex-linear",
                            "lpips-vgg-backbone", "lpips-vgg-linear"}
    for e in entries.values():
        assert set(e) >= {"name", "purpose", "looked_at", "found"} and e["looked_at"]
    assert entries["lpips-alex-backbone"]["found"] is None
    assert str(tmp_path / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth") in entries["lpips-alex-backbone"]["looked_at"]
    assert entries["lpips-alex-linear"]["found"].endswith("alex.pth")
    assert not (tmp_path / "hub" / "checkpoints" / W.INCEPTION_CONVERTED_FILE).exists()   # no conversion
