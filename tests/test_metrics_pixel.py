"""PSNR / SSIM / L1 of ``bench.metrics.pixel`` against scikit-image on real photos.

Images: photos bundled with scikit-image (astronaut, chelsea, coffee, rocket), centre-cropped and resized to
256×256, with a 128×128 centre hole filled by OpenCV's Telea inpainting (a realistic inpainting error).
Every protocol is checked against the exact skimage call the reference code makes.
"""
from __future__ import annotations

import pickle

import cv2
import numpy as np
import pytest
import torch
from skimage import data as skdata
from skimage.color import rgb2gray
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from bench.metrics import PixelMetric, pixel_values, psnr, ssim
from bench.registry import METRICS

# The acceptance bound is 1e-4 (SSIM) / 1e-3 dB (PSNR), but float64 reproduces skimage to rounding, and 1e-4
# could not tell sample from population covariance at window 51 (they differ by ~8e-6 here): check tighter.
SSIM_TOL = 1e-9
PSNR_TOL = 1e-9
# the default float32 Gaussian path (centred moments, depthwise conv): ~3e-7 from skimage's float64 measured
SSIM_TOL_GAUSS_F32 = 2e-6
# EdgeConnect's script feeds skimage float32 images, so skimage itself computes in float32
SSIM_TOL_F32 = 1e-6
PSNR_TOL_F32 = 1e-5
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def _square_256(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return cv2.resize(img[top:top + s, left:left + s], (256, 256), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def photos():
    """(gt uint8 N×256×256×3, pred uint8 (Telea-filled), hole bool N×256×256)."""
    gts, preds = [], []
    hole = np.zeros((256, 256), bool)
    hole[64:192, 64:192] = True
    for name in PHOTOS:
        gt = _square_256(getattr(skdata, name)()[..., :3])
        pred = cv2.inpaint(np.ascontiguousarray(gt), hole.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
        gts.append(gt)
        preds.append(pred)
    return np.stack(gts), np.stack(preds), np.stack([hole] * len(PHOTOS))


def _to_tensor(u8: np.ndarray) -> torch.Tensor:
    """uint8 N×H×W×3 → float32 N×3×H×W in [-1, 1] (as the datasets produce)."""
    return torch.from_numpy(u8).permute(0, 3, 1, 2).float() / 127.5 - 1.0


def _ours(photos, protocol, precision="float32"):
    gt, pred, hole = photos
    mask = torch.from_numpy(hole).float()[:, None]
    return {k: v.numpy() for k, v in pixel_values(_to_tensor(pred), _to_tensor(gt), mask, protocol,
                                                  precision).items()}


def test_inputs_are_a_real_inpainting_error(photos):
    gt, pred, hole = photos
    assert gt.shape == (4, 256, 256, 3) and gt.dtype == np.uint8
    assert (gt[:, ~hole[0]] == pred[:, ~hole[0]]).all()          # Telea keeps the known pixels
    assert (gt[:, hole[0]] != pred[:, hole[0]]).mean() > 0.5     # and the hole differs


@pytest.mark.parametrize("precision,ssim_tol", [("float32", SSIM_TOL_GAUSS_F32), ("float64", SSIM_TOL)])
def test_paper_protocol_matches_skimage_wang(photos, precision, ssim_tol):
    gt, pred, hole = photos
    ours = _ours(photos, "paper", precision)
    for i in range(len(gt)):
        ref_ssim = structural_similarity(gt[i], pred[i], gaussian_weights=True, sigma=1.5,
                                         use_sample_covariance=False, data_range=255, channel_axis=-1)
        ref_psnr = peak_signal_noise_ratio(gt[i], pred[i], data_range=255)
        assert abs(ours["ssim"][i] - ref_ssim) <= ssim_tol, (PHOTOS[i], ours["ssim"][i], ref_ssim)
        assert abs(ours["psnr"][i] - ref_psnr) <= PSNR_TOL, (PHOTOS[i], ours["psnr"][i], ref_psnr)
        # mmagic MAE(mask_key='mask', scaling=100)
        diff = np.abs(gt[i].astype(np.float64) / 255 - pred[i].astype(np.float64) / 255)
        ref_l1 = (diff * hole[i][..., None]).sum() / (hole[i].sum() * 3 + 1e-12) * 100
        assert abs(ours["l1"][i] - ref_l1) <= 1e-9
    # sanity: a genuine error, in the range the research measured for Telea fills
    assert 0.6 < ours["ssim"].mean() < 0.99 and 15 < ours["psnr"].mean() < 35


def test_edgeconnect_protocol_matches_its_script(photos):
    gt, pred, _ = photos
    ours = _ours(photos, "edgeconnect")
    for i in range(len(gt)):
        # knazeri/edge-connect scripts/metrics.py: (imread / 255).astype(float32) -> rgb2gray
        g = rgb2gray((gt[i] / 255.0).astype(np.float32))
        p = rgb2gray((pred[i] / 255.0).astype(np.float32))
        ref_psnr = peak_signal_noise_ratio(g, p, data_range=1)
        ref_ssim = structural_similarity(g, p, data_range=1, win_size=51)
        ref_mae = np.sum(np.abs(g - p)) / np.sum(g + p)
        assert abs(ours["psnr"][i] - ref_psnr) <= PSNR_TOL_F32, (PHOTOS[i], ours["psnr"][i], ref_psnr)
        assert abs(ours["ssim"][i] - ref_ssim) <= SSIM_TOL_F32, (PHOTOS[i], ours["ssim"][i], ref_ssim)
        assert abs(ours["mae_rel"][i] - ref_mae) <= 1e-6


def test_pennet_protocol_matches_its_script(photos):
    gt, pred, _ = photos
    ours = _ours(photos, "pennet")
    for i in range(len(gt)):
        ref_ssim = structural_similarity(gt[i], pred[i], channel_axis=-1, win_size=51)  # uint8 → range 255
        ref_psnr = peak_signal_noise_ratio(gt[i], pred[i])
        a, b = gt[i].astype(np.float32), pred[i].astype(np.float32)
        ref_mae = np.sum(np.abs(a - b)) / np.sum(a + b)
        assert abs(ours["ssim"][i] - ref_ssim) <= SSIM_TOL, (PHOTOS[i], ours["ssim"][i], ref_ssim)
        assert abs(ours["psnr"][i] - ref_psnr) <= PSNR_TOL
        assert abs(ours["mae_rel"][i] - ref_mae) <= 1e-6


@pytest.mark.parametrize("precision,ssim_tol", [("float32", SSIM_TOL_GAUSS_F32), ("float64", SSIM_TOL)])
def test_hole_protocol_matches_skimage_on_hole_pixels(photos, precision, ssim_tol):
    gt, pred, hole = photos
    ours = _ours(photos, "hole", precision)
    for i in range(len(gt)):
        ref_psnr = peak_signal_noise_ratio(gt[i][hole[i]], pred[i][hole[i]], data_range=255)
        _, smap = structural_similarity(gt[i], pred[i], gaussian_weights=True, sigma=1.5,
                                        use_sample_covariance=False, data_range=255, channel_axis=-1, full=True)
        inner = np.zeros_like(hole[i])
        inner[5:-5, 5:-5] = True
        ref_ssim = smap[hole[i] & inner].mean()
        assert abs(ours["psnr"][i] - ref_psnr) <= PSNR_TOL, (PHOTOS[i], ours["psnr"][i], ref_psnr)
        assert abs(ours["ssim"][i] - ref_ssim) <= ssim_tol
    # hole = 25 % of the pixels: the hole-only PSNR is ≈ 10·log10(4) dB lower than the whole-image one
    paper = _ours(photos, "paper")
    assert np.allclose(paper["psnr"] - ours["psnr"], 10 * np.log10(4), atol=0.05)


def test_protocols_differ_as_documented(photos):
    """The recipes are not interchangeable: window 51 lowers SSIM markedly (EVAL.md §1.1)."""
    paper, pennet = _ours(photos, "paper"), _ours(photos, "pennet")
    assert (paper["ssim"] - pennet["ssim"]).mean() > 0.03


def test_pure_functions_edge_cases():
    a = torch.rand(2, 3, 32, 32)
    assert torch.isinf(psnr(a, a, 1.0)).all()
    assert torch.allclose(ssim(a, a, 1.0), torch.ones(2, dtype=torch.float64))
    assert torch.isnan(psnr(a, a + 0.1, 1.0, mask=torch.zeros(2, 1, 32, 32))).all()
    with pytest.raises(ValueError):
        ssim(a, a, 1.0, window="uniform", win_size=51)   # window larger than the image
    with pytest.raises(ValueError):
        ssim(a, a, 1.0, window="box")


def test_metric_class_streams_batches(photos):
    gt, pred, hole = photos
    metric = METRICS.build(dict(type="PixelMetric"))
    assert isinstance(metric, PixelMetric) and metric.names == ("psnr", "ssim", "l1", "mae_rel")
    img, out = _to_tensor(gt), _to_tensor(pred)
    mask = torch.from_numpy(hole).float()[:, None]
    for start in (0, 2):   # two batches of two
        sl = slice(start, start + 2)
        metas = [dict(file=f"{PHOTOS[i]}.png", index=i, hole_ratio=0.25) for i in range(start, start + 2)]
        metric.process(dict(img=img[sl], mask=mask[sl], meta=metas),
                       [dict(raw=o * 0, composite=o, meta=m) for o, m in zip(out[sl], metas)])
    results = pickle.loads(pickle.dumps(metric.results))
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert results[1]["file"] == "chelsea.png" and results[1]["hole_ratio"] == 0.25
    values = metric.compute_metrics(results)
    ours = _ours(photos, "paper")
    for name in metric.names:
        assert values[name] == pytest.approx(float(ours[name].mean()), abs=1e-12)
        assert isinstance(values[name], float)
    assert metric.describe()["protocol"] == "paper"
    # the raw output (all zeros = grey) is scored only when asked for
    raw_metric = PixelMetric(source="raw")
    raw_metric.process(dict(img=img[:2], mask=mask[:2], meta=[{}, {}]),
                       [dict(raw=o * 0, composite=o) for o in out[:2]])
    assert raw_metric.compute_metrics(raw_metric.results)["psnr"] < values["psnr"] - 3
    with pytest.raises(KeyError):
        PixelMetric(protocol="nope")


def test_raw_outputs_and_batches_give_the_full_map_mean(photos):
    """``ssim`` filters only the box of differing pixels; on raw outputs (different everywhere), one image at a
    time (CPU) or the batch's union box (other devices), the value is the mean of the full ``ssim_map``."""
    from bench.metrics import pixel, ssim_map

    gt, pred, hole = photos
    a = torch.from_numpy(gt).permute(0, 3, 1, 2).float()
    b = torch.from_numpy(pred).permute(0, 3, 1, 2).float()
    b[1] = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (3, 256, 256))).float()   # differs everywhere
    b[2] = a[2]                                                                                   # identical
    full = ssim_map(a, b, 255).double().mean(dim=(1, 2, 3))
    assert abs(full[2] - 1.0) < 1e-6                      # float32 rounding of a map that is 1 exactly
    assert ssim(a[2:3], b[2:3], 255) == 1.0               # no box: exactly 1
    torch.testing.assert_close(ssim(a, b, 255), full, rtol=0, atol=1e-6)
    # the union-box code path (one group for the whole batch) as non-CPU devices run it
    d2 = pixel.squared_error(a, b)
    union = [(slice(0, 4), pixel._box(d2.sum(dim=(0, 1, 3)).numpy(), d2.sum(dim=(0, 1, 2)).numpy(), 11))]
    assert union[0][1] == (0, 256, 0, 256)                 # image 1 differs everywhere
    torch.testing.assert_close(ssim(a, b, 255, boxes=union), full, rtol=0, atol=1e-6)
    boxes = pixel.differing_boxes(a, b, 11)
    assert [g for g, _ in boxes] == [slice(i, i + 1) for i in range(4)]
    assert boxes[0][1] == (64 - 10, 192 + 10, 64 - 10, 192 + 10)      # the hole grown by the window
    assert boxes[2][1] is None


def test_pixel_values_float32_equals_float64(photos):
    """The float32 default and the float64 path agree (PSNR/L1/MAE exactly: uint8 levels, float64 sums)."""
    for protocol in ("paper", "hole", "pennet"):
        f32, f64 = _ours(photos, protocol, "float32"), _ours(photos, protocol, "float64")
        for name in ("psnr", "l1", "mae_rel"):
            np.testing.assert_allclose(f32[name], f64[name], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(f32["ssim"], f64["ssim"], rtol=0, atol=2e-6)
    with pytest.raises(ValueError, match="precision"):
        PixelMetric(precision="float16")


def test_psnr_ssim_equals_the_separate_functions(photos):
    """``psnr_ssim`` shares one squared error between the metrics; it returns what ``psnr`` and ``ssim`` give
    alone (full image, no boxes), with and without a mask, in every precision, for identical and all-different
    images too. ``psnr`` restricted to the boxes equals the whole-image sum."""
    from bench.metrics import pixel, psnr_ssim

    gt, pred, hole = photos
    a = torch.from_numpy(pred).permute(0, 3, 1, 2).float()
    b = torch.from_numpy(gt).permute(0, 3, 1, 2).float()
    a[1] = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (3, 256, 256))).float()   # differs everywhere
    a[2] = b[2]                                                                                   # identical
    mask = torch.from_numpy(hole).float()[:, None]
    for m in (None, mask):
        for precision in ("float32", "float64"):
            p, s = psnr_ssim(a, b, 255, mask=m, precision=precision)
            p_alone = psnr(a, b, 255, mask=m)
            torch.testing.assert_close(p, p_alone, rtol=1e-12, atol=0, equal_nan=True)
            torch.testing.assert_close(s, ssim(a, b, 255, mask=m, precision=precision), rtol=0, atol=1e-12)
            assert torch.isinf(p[2]) and s[2] == 1.0
            boxes = pixel.differing_boxes(a, b, 11)
            torch.testing.assert_close(psnr(a, b, 255, mask=m, boxes=boxes), p_alone, rtol=1e-12, atol=0)
    # the uniform 51 window of the PEN-Net protocol, sample covariance
    p, s = psnr_ssim(a, b, 255, window="uniform", win_size=51, use_sample_covariance=True)
    torch.testing.assert_close(s, ssim(a, b, 255, window="uniform", win_size=51, use_sample_covariance=True),
                               rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="boxes cover"):
        ssim(a, b, 255, boxes=pixel.differing_boxes(a[:2], b[:2], 11))


@pytest.mark.parametrize("precision,ssim_tol", [("float32", SSIM_TOL_GAUSS_F32), ("float64", SSIM_TOL)])
def test_non_square_images_and_holes_match_skimage(photos, precision, ssim_tol):
    """The float32 filter hands back transposed planes: every shape here has height ≠ width (image, hole and
    box), so a swapped axis cannot cancel out. The full map, the boxed mean and the masked mean all match
    skimage's float64 map."""
    from bench.metrics import psnr_ssim, ssim_map

    gt = photos[0][0][20:220, 8:251]                        # 200×243 crop of astronaut
    hole = np.zeros(gt.shape[:2], bool)
    hole[37:101, 90:200] = True                             # 64×110 hole, off centre
    pred = cv2.inpaint(np.ascontiguousarray(gt), hole.astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
    _, smap = structural_similarity(gt, pred, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                    data_range=255, channel_axis=-1, full=True)
    a, b = (torch.from_numpy(x).permute(2, 0, 1)[None].float() for x in (pred, gt))
    ours = ssim_map(a, b, 255, precision=precision)
    assert ours.shape == (1, 3, 190, 233) and ours.is_contiguous()
    np.testing.assert_allclose(ours[0].permute(1, 2, 0).double().numpy(), smap[5:-5, 5:-5], rtol=0,
                               atol=50 * ssim_tol)   # per pixel; the means below are held to ssim_tol
    mask = torch.from_numpy(hole).float()[None, None]
    p, s = psnr_ssim(a, b, 255, precision=precision)
    assert abs(float(s) - smap[5:-5, 5:-5].mean()) <= ssim_tol
    assert abs(float(p) - peak_signal_noise_ratio(gt, pred, data_range=255)) <= PSNR_TOL
    inner = np.zeros_like(hole)
    inner[5:-5, 5:-5] = True
    _, s_hole = psnr_ssim(a, b, 255, mask=mask, precision=precision)
    assert abs(float(s_hole) - smap[hole & inner].mean()) <= ssim_tol


def test_exact_reconstruction_psnr_is_capped_with_a_reason(photos):
    """An exact reconstruction (PSNR inf) used to make the set's mean infinite, i.e. null in metrics.json with no
    reason: each image now scores min(PSNR, psnr_max) (100 dB) and ``reasons['psnr']`` counts the capped ones."""
    import math

    gt, pred, hole = photos
    img, out = _to_tensor(gt[:2]), _to_tensor(pred[:2])
    out[0] = img[0]                                          # image 0 reconstructed exactly
    mask = torch.from_numpy(hole[:2]).float()[:, None]
    metric = PixelMetric()
    metric.process(dict(img=img, mask=mask, meta=[dict(index=0), dict(index=1)]),
                   [dict(raw=o, composite=o) for o in out])
    per_image = [r["values"]["psnr"] for r in metric.results]
    values = metric.compute_metrics(metric.results)
    assert math.isfinite(values["psnr"]) and values["psnr"] == pytest.approx((100.0 + per_image[1]) / 2)
    assert per_image[0] == 100.0 and 15 < per_image[1] < 35
    from bench.metrics.pixel import PSNR_MAX

    assert PSNR_MAX == 100.0
    assert "1 of 2 image(s) reached the 100 dB cap" in metric.reasons["psnr"]
    assert set(metric.reasons) == {"psnr"}
    assert values["ssim"] == pytest.approx((1.0 + _ours(photos, "paper")["ssim"][1]) / 2)
    d = metric.describe()
    assert d["psnr_max"] == 100.0 and "min(PSNR, 100 dB)" in d["psnr_rule"]
    # results resumed from a state written before the cap (inf) are capped the same way
    old = [dict(r, values=dict(r["values"], psnr=float("inf") if i == 0 else r["values"]["psnr"]))
           for i, r in enumerate(metric.results)]
    assert metric.compute_metrics(old)["psnr"] == values["psnr"] and "1 of 2" in metric.reasons["psnr"]
    # a set of exact reconstructions only: the cap, never null; another cap when configured
    capped = PixelMetric(psnr_max=60)
    capped.process(dict(img=img, mask=mask, meta=[{}, {}]), [dict(raw=i, composite=i) for i in img])
    assert capped.compute_metrics(capped.results)["psnr"] == 60.0 and "2 of 2" in capped.reasons["psnr"]
    # no image at the cap: no reason
    plain = PixelMetric()
    plain.process(dict(img=img[1:], mask=mask[1:], meta=[{}]), [dict(raw=out[1], composite=out[1])])
    plain.compute_metrics(plain.results)
    assert plain.reasons == {}
    with pytest.raises(ValueError, match="psnr_max"):
        PixelMetric(psnr_max=float("inf"))


def test_undefined_values_left_out_are_counted(photos):
    """``hole`` protocol with an empty hole: PSNR/SSIM undefined for that image; the mean of the others is
    reported and the reason says how many were left out."""
    gt, pred, hole = photos
    img, out = _to_tensor(gt[:2]), _to_tensor(pred[:2])
    mask = torch.from_numpy(hole[:2]).float()[:, None]
    mask[0] = 0                                              # image 0: no hole
    metric = PixelMetric(protocol="hole")
    metric.process(dict(img=img, mask=mask, meta=[{}, {}]), [dict(raw=o, composite=o) for o in out])
    values = metric.compute_metrics(metric.results)
    assert values["psnr"] == pytest.approx(metric.results[1]["values"]["psnr"])
    assert "1 of 2 image(s) have no defined psnr" in metric.reasons["psnr"]


def test_hole_std_measures_variation_inside_the_hole(photos):
    """``hole_std`` = √(mean over channels of each channel's variance over hole pixels), uint8 levels: numpy's
    population std per channel on the photos; 0 for a flat colour of any hue; NaN for an empty hole."""
    from bench.metrics.pixel import hole_std

    gt, pred, hole = photos
    mask = torch.from_numpy(hole).float()[:, None]
    ours = hole_std(_to_tensor(pred), mask).numpy()
    ref = [np.sqrt(np.mean(pred[i][hole[i]].astype(np.float64).var(axis=0))) for i in range(len(pred))]
    np.testing.assert_allclose(ours, ref, rtol=1e-12)
    assert (ours > 5).all()                                           # Telea fills vary
    flat = _to_tensor(pred[:2]).clone()
    for c, level in enumerate((200, 30, 90)):                         # one colour, channels unequal
        flat[:, c][mask[:2, 0] > 0.5] = level / 127.5 - 1.0
    assert hole_std(flat, mask[:2]).tolist() == [0.0, 0.0]
    assert torch.isnan(hole_std(flat[:1], torch.zeros(1, 1, 256, 256))).all()


def test_constant_fill_is_counted_per_image_and_kept_plain(photos):
    """Per image ``hole_std`` / ``hole_std_gt`` (plain floats, JSON-storable for resumed evaluations); the set's
    ``constant_fill`` counts flat outputs where the truth varies, not where the truth is as flat."""
    import json

    gt, pred, hole = photos
    img, out = _to_tensor(gt), _to_tensor(pred)
    mask = torch.from_numpy(hole).float()[:, None]
    inside = mask[:, 0] > 0.5
    mean_colour = (img * (1 - mask)).sum(dim=(-2, -1)) / (1 - mask).sum(dim=(-2, -1))
    out[0] = torch.where(inside[0], mean_colour[0][:, None, None], img[0])   # a mean fill
    out[1] = torch.where(inside[1], mean_colour[1][:, None, None], img[1])
    img[1] = out[1]                                                   # ... of a truth that is flat there too
    mask[3] = 0                                                        # no hole: not scored
    metric = PixelMetric()
    metric.process(dict(img=img, mask=mask, meta=[dict(index=i) for i in range(4)]),
                   [dict(raw=o, composite=o) for o in out])
    values = [r["values"] for r in metric.results]
    assert all(type(v[k]) is float for v in values for k in ("hole_std", "hole_std_gt"))
    assert values[0]["hole_std"] == 0.0 and values[0]["hole_std_gt"] > 10
    assert values[1]["hole_std"] == values[1]["hole_std_gt"] == 0.0
    assert values[2]["hole_std"] > 5 and np.isnan(values[3]["hole_std"])
    stored = json.loads(json.dumps(metric.results, allow_nan=True))     # what a resumed evaluation reads back
    out_values = metric.compute_metrics(stored)
    assert out_values["constant_fill"] == pytest.approx(1 / 3)         # image 0 of the 3 with a hole
    assert "1 of 3 image(s) have a constant output inside the hole" in metric.reasons["constant_fill"]
    assert set(out_values) == {"psnr", "ssim", "l1", "mae_rel", "constant_fill"}
    d = metric.describe()
    assert "hole_std" in d and "constant_fill" in d
    # varying outputs: 0, and no reason
    plain = PixelMetric()
    plain.process(dict(img=img[2:3], mask=mask[2:3], meta=[{}]), [dict(raw=out[2], composite=out[2])])
    assert plain.compute_metrics(plain.results)["constant_fill"] == 0.0 and "constant_fill" not in plain.reasons
