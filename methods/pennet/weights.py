"""Loading the released PEN-Net checkpoints (researchmm/PEN-Net-for-Inpainting, ``release_model/...``).

A release folder holds ``latest.ckpt`` (a text file whose last line is the checkpoint tag, e.g. ``00030``),
``gen_<tag>.pth`` = ``{'netG': state_dict}``, ``dis_<tag>.pth`` = ``{'netD': state_dict}`` and
``opt_<tag>.pth`` (optimizer state, not used). Our module names equal the official ones, so no key map is
needed; every key and shape is checked (:func:`methods.common.official_weights.load_state_dict_checked`).
"""
from __future__ import annotations

from pathlib import Path

from methods.common.official_weights import CheckpointMismatchError, load_official_file, load_state_dict_checked


def resolve_pennet_files(path: str | Path) -> tuple[Path, Path | None]:
    """``(gen_file, dis_file_or_None)`` for a ``gen_XXXXX.pth`` file or a release folder with ``latest.ckpt``."""
    path = Path(path)
    if path.is_dir():
        marker = path / "latest.ckpt"
        if not marker.is_file():
            gens = sorted(path.glob("gen_*.pth"))
            raise FileNotFoundError(
                f"{path} has no latest.ckpt (the official release folder names its checkpoint there); "
                + (f"pass one of {[g.name for g in gens]} directly" if gens else "no gen_*.pth either"))
        lines = [ln.strip() for ln in marker.read_text().splitlines() if ln.strip()]
        if not lines:
            raise CheckpointMismatchError(f"{marker} is empty; it should name the checkpoint tag (e.g. 00030)")
        gen = path / f"gen_{lines[-1]}.pth"
    else:
        gen = path
    if not gen.is_file():
        raise FileNotFoundError(f"PEN-Net generator checkpoint {gen} not found (download the release folder, "
                                f"e.g. pennet_places2_square256, from the official README)")
    dis = gen.with_name(gen.name.replace("gen_", "dis_", 1)) if gen.name.startswith("gen_") else None
    return gen, (dis if dis is not None and dis.is_file() else None)


def load_pennet_official(model, path: str | Path, load_discriminator: bool = True) -> dict:
    """Load a released generator (and its discriminator, when present and asked for) into ``model``
    (a :class:`~methods.pennet.model.PENNet` or a bare :class:`~methods.pennet.networks.PENNetGenerator`).

    Returns ``{'generator': gen_file, 'disc': dis_file_or_None}``.
    """
    gen_file, dis_file = resolve_pennet_files(path)
    generator = getattr(model, "generator", model)
    load_state_dict_checked(generator, load_official_file(gen_file, "netG"), source=str(gen_file))
    loaded = {"generator": str(gen_file), "disc": None}
    disc = getattr(model, "disc", None)
    if load_discriminator and disc is not None and dis_file is not None:
        load_state_dict_checked(disc, load_official_file(dis_file, "netD"), source=str(dis_file))
        loaded["disc"] = str(dis_file)
    return loaded
