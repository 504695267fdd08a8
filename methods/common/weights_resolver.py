"""Finding pretrained backbone weights (ImageNet VGG19 for perceptual/style losses, ...) the same way
everywhere: an explicit path, then an environment variable, then torch hub's cache, then a download.

Order, first hit wins:

1. ``explicit`` (a config key such as ``vgg_weights=``);
2. the environment variable ``env`` (e.g. ``BENCH_VGG_WEIGHTS``);
3. ``$TORCH_HOME/hub/checkpoints/<filename>`` (:func:`torch.hub.get_dir`; ``TORCH_HOME`` defaults to
   ``~/.cache/torch``), i.e. where torchvision itself caches the file;
4. a download of ``url`` into that cache (unless ``download=False`` or ``BENCH_OFFLINE=1``), checked against
   the sha256 prefix in torchvision's file name (``vgg19-dcbb9e9d.pth`` → ``dcbb9e9d``).

When all fail, :class:`WeightsNotFoundError` names the file, every place looked at and where to put it.
Files are always loaded with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch


class WeightsNotFoundError(FileNotFoundError):
    """Pretrained weights that are needed but cannot be found or downloaded; the message says where to put them."""


@dataclass(frozen=True)
class WeightSpec:
    name: str          # short name, e.g. 'vgg19'
    filename: str      # torchvision / hub file name
    url: str
    env: str           # environment variable with an explicit path
    purpose: str = ""
    config_key: str = ""  # config key that takes an explicit path (shown in the error message)


VGG19 = WeightSpec(
    name="vgg19", filename="vgg19-dcbb9e9d.pth", url="https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
    env="BENCH_VGG_WEIGHTS", purpose="ImageNet VGG19 (torchvision IMAGENET1K_V1) for perceptual and style losses",
    config_key="model.vgg_weights")


def hub_checkpoint_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"


def candidate_paths(spec: WeightSpec, explicit: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """``[(where, path), ...]`` in the order they are tried (for messages and ``bench weights``)."""
    out = []
    if explicit:
        out.append(("explicit path", Path(explicit).expanduser()))
    if os.environ.get(spec.env):
        out.append((f"${spec.env}", Path(os.environ[spec.env]).expanduser()))
    out.append(("torch hub cache", hub_checkpoint_dir() / spec.filename))
    return out


def _hash_prefix(filename: str) -> str | None:
    m = re.search(r"-([0-9a-f]{8,})\.", filename)
    return m.group(1) if m else None


def _download(spec: WeightSpec, dst: Path, timeout: float = 60.0) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    prefix = _hash_prefix(spec.filename)
    sha = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=dst.name + ".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f, urllib.request.urlopen(spec.url, timeout=timeout) as r:  # noqa: S310
            while chunk := r.read(1 << 20):
                sha.update(chunk)
                f.write(chunk)
        if prefix and not sha.hexdigest().startswith(prefix):
            raise WeightsNotFoundError(f"downloaded {spec.url} but its sha256 {sha.hexdigest()[:12]} does not "
                                       f"start with {prefix}")
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def resolve_weights(spec: WeightSpec, explicit: str | os.PathLike | None = None,
                    download: bool = True) -> Path:
    """The path of ``spec``'s weight file (see module docstring), downloading it into the hub cache if allowed."""
    tried = candidate_paths(spec, explicit)
    for where, path in tried:
        if path.is_file():
            return path
        if where != "torch hub cache":  # an explicit path that is wrong is an error, not a fallback
            raise WeightsNotFoundError(f"{spec.name} weights: {where} points to {path}, which does not exist")
    dst = tried[-1][1]
    reason = "downloads disabled"
    if download and os.environ.get("BENCH_OFFLINE", "") not in ("1", "true", "yes"):
        try:
            _download(spec, dst)
            return dst
        except WeightsNotFoundError:
            raise
        except Exception as e:  # noqa: BLE001 - offline machines fail in many ways
            reason = f"download of {spec.url} failed ({type(e).__name__}: {e})"
    raise WeightsNotFoundError(
        f"{spec.purpose or spec.name} needs the file {spec.filename} and it was not found ({reason}). Looked at: "
        + "; ".join(f"{w}: {p}" for w, p in tried)
        + f". Download {spec.url} and put it at {dst} (or set ${spec.env}=/path/to/{spec.filename}"
        + (f", or pass --cfg-options {spec.config_key}=/path/to/{spec.filename}" if spec.config_key else "") + ")")


def load_weights_file(path: str | os.PathLike) -> dict:
    """``torch.load(path, weights_only=True)`` of a state dict."""
    obj = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected a state dict, found {type(obj).__name__}")
    return obj
