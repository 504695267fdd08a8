"""LPIPS plumbing: weight resolution, trunk loading, values, and the missing-weights path.

No ImageNet AlexNet/VGG weights exist offline, so these tests use RANDOM trunks, deliberately and by name
(``random_backbone=True`` or a random state dict written where torch.hub caches torchvision's file). They check
the plumbing, not LPIPS values.
"""
from __future__ import annotations

import pickle
import urllib.error

import pytest
import torch
import torchvision

from bench.metrics import LPIPSMetric
from bench.metrics import weights as W
from bench.metrics.perceptual import get_lpips


def _no_download(url, path):
    raise urllib.error.URLError(f"offline test: refusing to download {url}")


@pytest.fixture
def offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv(W.LPIPS_ENV, raising=False)
    monkeypatch.setattr(W, "_download", _no_download)
    return tmp_path


def _batch(n=3, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    img = torch.rand(n, 3, size, size, generator=g) * 2 - 1
    mask = torch.zeros(n, 1, size, size)
    mask[..., size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1
    out = img * (1 - mask) + mask * (torch.rand(n, 3, size, size, generator=g) * 2 - 1)
    metas = [dict(file=f"{i}.png", index=i, hole_ratio=0.25) for i in range(n)]
    return dict(img=img, mask=mask, meta=metas), [dict(raw=o, composite=o, meta=m) for o, m in zip(out, metas)]


def test_random_backbone_plumbing(offline):
    """Explicitly random AlexNet trunk (NOT LPIPS): values are per image, zero for identical images."""
    metric = LPIPSMetric(net="alex", random_backbone=True, seed=0)
    batch, samples = _batch()
    metric.process(batch, samples)
    identical = [dict(raw=x, composite=x) for x in batch["img"]]
    metric.process(dict(batch, meta=[dict(index=10 + i) for i in range(3)]), identical)
    results = pickle.loads(pickle.dumps(metric.results))
    vals = [r["values"]["lpips"] for r in results]
    assert all(v > 1e-4 for v in vals[:3]) and all(abs(v) < 1e-6 for v in vals[3:])
    assert metric.compute_metrics(results)["lpips"] == pytest.approx(sum(vals) / 6)
    assert "RANDOM" in metric.describe()["backbone"]
    # deterministic: same seed, same trunk, same values
    again = LPIPSMetric(net="alex", random_backbone=True, seed=0)
    again.process(batch, samples)
    assert [r["values"]["lpips"] for r in again.results] == vals[:3]


def test_missing_backbone_gives_none_and_a_reason(offline):
    metric = LPIPSMetric(net="alex")
    metric.process(*_batch())
    assert metric.compute_metrics(metric.results) == {"lpips": None}
    reason = metric.reasons["lpips"]
    assert "alexnet-owt-7be5be79.pth" in reason and str(offline / "hub" / "checkpoints") in reason
    assert W.LPIPS_ENV in reason


def test_hub_cache_file_is_picked_up_and_loaded(offline):
    """A torchvision AlexNet state dict (random weights; features only, to keep the file small) placed
    where torch.hub caches it is found and loaded into lpips' trunk."""
    torch.manual_seed(123)
    features = {k: v for k, v in torchvision.models.alexnet().state_dict().items() if k.startswith("features.")}
    path = offline / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth"
    path.parent.mkdir(parents=True)
    torch.save(features, path)
    metric = LPIPSMetric(net="alex")
    before = metric.describe()
    metric.process(*_batch())
    values = metric.compute_metrics(metric.results)
    assert metric.describe() == before
    assert values["lpips"] is not None and values["lpips"] > 0, metric.reasons
    d = metric.describe()
    assert d["weights"] == str(path) and d["weights_source"] == "torch hub cache"
    model = get_lpips("alex", str(path), "cpu")
    assert torch.equal(model.net.slice1[0].weight, features["features.0.weight"])
    assert torch.equal(getattr(model.net.slice5, "10").bias, features["features.10.bias"])
    # a different trunk gives different values: the file's weights are really used
    rnd = LPIPSMetric(net="alex", random_backbone=True, seed=0)
    rnd.process(*_batch())
    assert rnd.compute_metrics(rnd.results)["lpips"] != pytest.approx(values["lpips"])


def test_wrong_file_is_a_reason_not_a_crash(offline, monkeypatch):
    bad = offline / "not_alexnet.pth"
    torch.save({"something.else": torch.zeros(1)}, bad)
    monkeypatch.setenv(W.LPIPS_ENV, str(bad))
    metric = LPIPSMetric(net="alex")
    metric.process(*_batch())
    assert metric.compute_metrics(metric.results)["lpips"] is None
    assert "could not load" in metric.reasons["lpips"] and "features.0.weight" in metric.reasons["lpips"]


def test_bad_net_name():
    with pytest.raises(KeyError):
        LPIPSMetric(net="resnet")
