"""Official DeepFill v2 weights: the PyTorch conversion of the released TF checkpoints.

The released models are TF checkpoints (Places2, CelebA-HQ; README of JiahuiYu/generative_inpainting).
``nipponjo/deepfillv2-pytorch`` converted them to PyTorch files ``states_tf_places2.pth`` /
``states_tf_celebahq.pth``: a dict whose key ``'G'`` holds the generator with the TF layer names,
e.g. ``conv1.conv.weight (48, 5, 5, 5)``, ``conv13_upsample.conv.conv.weight``, ``allconv17.conv.bias``
(84 tensors, 4,052,478 parameters; full list in the project's anchors ``deepfillv2_official_state_dict.txt``).

:func:`load_official_deepfillv2` reads such a file with ``torch.load(weights_only=True)``, maps every
official name to ours through :func:`methods.gatedconv.networks.official_key_map` (built from the same layer
table as the network, so names cannot drift) and loads it with
:func:`methods.common.official_weights.load_state_dict_checked`: any unknown, missing or wrongly shaped key
is an error naming it. No manual conversion step.

Official outputs are only reproduced with the official padding (``padding='same_tf'``, TF 'SAME').
The released files hold no discriminator, so only the generator is loaded.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import torch.nn as nn

from methods.common.official_weights import CheckpointMismatchError, load_official_file, load_state_dict_checked

from .networks import DeepFillv2Generator, official_key_map


def _generator_of(model_or_generator: nn.Module) -> DeepFillv2Generator:
    if isinstance(model_or_generator, DeepFillv2Generator):
        return model_or_generator
    gen = getattr(model_or_generator, "generator", None)
    if isinstance(gen, DeepFillv2Generator):
        return gen
    raise TypeError(f"expected a DeepFillv2Generator or a model with one as `.generator`, "
                    f"got {type(model_or_generator).__name__}")


def load_official_deepfillv2(model_or_generator: nn.Module, path: str | Path, top_key: str = "G") -> nn.Module:
    """Load ``states_tf_*.pth`` (key ``'G'``) into a :class:`GatedConvInpaintor` or a :class:`DeepFillv2Generator`.

    Raises :class:`methods.common.official_weights.CheckpointMismatchError` naming every kind of mismatch,
    ``FileNotFoundError`` when the file is missing. Returns ``model_or_generator``.
    """
    gen = _generator_of(model_or_generator)
    if gen.padding != "same_tf":
        warnings.warn(f"loading official DeepFill v2 weights into a generator with padding={gen.padding!r}; "
                      f"the official model uses TF 'SAME' padding (padding='same_tf'), outputs will differ",
                      stacklevel=2)
    state = load_official_file(path, top_key=top_key)
    key_map = official_key_map()
    try:
        load_state_dict_checked(gen, state, key_map=key_map, source=str(path))
    except CheckpointMismatchError as e:
        raise CheckpointMismatchError(f"{e}. In the official file's names: {_official_report(gen, state, key_map)}") \
            from None
    return model_or_generator


def _official_report(gen: nn.Module, state, key_map: dict[str, str], show: int = 5) -> str:
    """The same mismatches named by the official keys (what a user sees when inspecting the file)."""
    ours = gen.state_dict()
    unknown = [k for k in state if k not in key_map]
    absent = [k for k in key_map if k not in state]
    shapes = [f"{k}: file {tuple(v.shape)} vs expected {tuple(ours[key_map[k]].shape)}" for k, v in state.items()
              if k in key_map and tuple(v.shape) != tuple(ours[key_map[k]].shape)]
    parts = []
    for label, items in (("not a DeepFill v2 key", unknown), ("absent", absent), ("wrong shape", shapes)):
        if items:
            parts.append(f"{label}: {items[:show]}" + (" ..." if len(items) > show else ""))
    return "; ".join(parts) or "names and shapes match the official layout"
