"""Loading released (official) checkpoints into our networks: every key and shape checked, never silently.

Official files are loaded with ``torch.load(weights_only=True)`` and no extra allowed globals. A method
supplies a ``key_map`` (official name -> our name, or a function) when the layouts differ; loading then
requires that the mapped state dict covers our model exactly. Mismatches are reported by name: the first
missing, unexpected and wrongly shaped keys.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import torch
import torch.nn as nn


class CheckpointMismatchError(ValueError):
    """An official checkpoint whose keys or shapes do not fit the model; the message names them."""


def load_official_file(path: str | Path, top_key: str | None = None) -> dict[str, torch.Tensor]:
    """``torch.load(path, weights_only=True)``, optionally unwrapping ``top_key`` (e.g. ``'generator'``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"official checkpoint {path} not found: download it from the method's official "
                                f"release (see `bench methods`) and pass its path")
    obj = torch.load(path, map_location="cpu", weights_only=True)
    if top_key is not None:
        if not isinstance(obj, Mapping) or top_key not in obj:
            keys = list(obj)[:8] if isinstance(obj, Mapping) else type(obj).__name__
            raise CheckpointMismatchError(f"{path}: expected a dict with key {top_key!r}, found {keys}")
        obj = obj[top_key]
    if not isinstance(obj, Mapping):
        raise CheckpointMismatchError(f"{path}: expected a state dict, found {type(obj).__name__}")
    return dict(obj)


def load_state_dict_checked(module: nn.Module, state: Mapping[str, torch.Tensor],
                            key_map: Mapping[str, str] | Callable[[str], str | None] | None = None,
                            source: str = "checkpoint", ignore: Callable[[str], bool] | None = None,
                            show: int = 5) -> None:
    """Map official keys to ours, check names and shapes, then load strictly.

    Args:
        module: the network to fill.
        state: official state dict.
        key_map: official -> ours (dict or function returning None to drop a key on purpose).
        source: shown in error messages (file name).
        ignore: official keys that are known duplicates/extras (e.g. EdgeConnect's ``features.*``).
        show: how many offending names to list per kind.
    """
    mapped: dict[str, torch.Tensor] = {}
    for k, v in state.items():
        if ignore is not None and ignore(k):
            continue
        if key_map is None:
            nk = k
        elif callable(key_map):
            nk = key_map(k)
        else:
            nk = key_map.get(k, k)
        if nk is None:
            continue
        mapped[nk] = v
    ours = module.state_dict()
    missing = [k for k in ours if k not in mapped]
    unexpected = [k for k in mapped if k not in ours]
    shapes = [f"{k}: checkpoint {tuple(mapped[k].shape)} vs model {tuple(ours[k].shape)}"
              for k in ours if k in mapped and tuple(mapped[k].shape) != tuple(ours[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        if unexpected:
            parts.append(f"unexpected keys {unexpected[:show]}" + (" ..." if len(unexpected) > show else ""))
        if missing:
            parts.append(f"missing keys {missing[:show]}" + (" ..." if len(missing) > show else ""))
        if shapes:
            parts.append(f"wrong shapes {shapes[:show]}" + (" ..." if len(shapes) > show else ""))
        raise CheckpointMismatchError(f"{source} does not fit {type(module).__name__}: " + "; ".join(parts))
    module.load_state_dict(mapped, strict=True)
