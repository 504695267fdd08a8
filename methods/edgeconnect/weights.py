"""Loading the released EdgeConnect checkpoints (knazeri/edge-connect, ``checkpoints/<places2|celeba|psv>/``).

A release folder holds ``EdgeModel_gen.pth`` and ``InpaintingModel_gen.pth`` (``{'iteration': int,
'generator': state_dict}``) and optionally ``EdgeModel_dis.pth`` / ``InpaintingModel_dis.pth``
(``{'discriminator': state_dict}``). Our module names equal the official ones; the only difference is the
official discriminator's alias ``features = conv1``, which stores every ``conv1.*`` tensor a second time as
``features.*``. Those duplicates are dropped explicitly (and only when they equal their ``conv1.*`` twin);
every other key and every shape is checked, mismatches are reported by name.
"""
from __future__ import annotations

from pathlib import Path

import torch

from methods.common.official_weights import CheckpointMismatchError, load_official_file, load_state_dict_checked

FILES = {
    # part: (generator attribute, generator file, discriminator attribute, discriminator file)
    "edge": ("edge_generator", "EdgeModel_gen.pth", "edge_disc", "EdgeModel_dis.pth"),
    "inpaint": ("generator", "InpaintingModel_gen.pth", "disc", "InpaintingModel_dis.pth"),
}


def drop_features_alias(state: dict, source: str = "checkpoint") -> dict:
    """Remove the official D's ``features.*`` duplicates of ``conv1.*`` (after checking they are duplicates)."""
    out = {}
    for k, v in state.items():
        if k.startswith("features."):
            twin = "conv1." + k[len("features."):]
            if twin not in state:
                raise CheckpointMismatchError(f"{source}: {k} has no twin {twin} (expected the official "
                                              f"'features = conv1' alias)")
            if tuple(state[twin].shape) != tuple(v.shape) or not torch.equal(state[twin], v):
                raise CheckpointMismatchError(f"{source}: {k} differs from {twin}; the official alias stores "
                                              f"the same tensor twice")
            continue
        out[k] = v
    return out


def load_edgeconnect_official(model, folder: str | Path, require=("edge", "inpaint"),
                              load_discriminators: bool = True) -> dict:
    """Load an official release folder into an :class:`~methods.edgeconnect.model.EdgeConnect`.

    Args:
        model: the EdgeConnect model (attributes ``edge_generator``, ``edge_disc``, ``generator``, ``disc``).
        folder: the release folder.
        require: parts whose generator file must be present (``'edge'``, ``'inpaint'``); other parts are
            loaded when present.
        load_discriminators: also load ``*_dis.pth`` when present.

    Returns ``{attribute: file}`` of what was loaded.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"EdgeConnect checkpoint folder {folder} not found (download places2/celeba/psv "
                                f"from the official README, scripts/download_model.sh)")
    loaded = {}
    for part, (gname, gfile, dname, dfile) in FILES.items():
        gpath = folder / gfile
        if not gpath.is_file():
            if part in require:
                raise FileNotFoundError(f"{gpath} not found: the official release folder has {FILES['edge'][1]} "
                                        f"and {FILES['inpaint'][1]}")
            continue
        load_state_dict_checked(getattr(model, gname), load_official_file(gpath, "generator"), source=str(gpath))
        loaded[gname] = str(gpath)
        dpath = folder / dfile
        if load_discriminators and dpath.is_file():
            state = drop_features_alias(load_official_file(dpath, "discriminator"), str(dpath))
            load_state_dict_checked(getattr(model, dname), state, source=str(dpath))
            loaded[dname] = str(dpath)
    return loaded
