"""``meanfill``: each hole filled with the mean colour of its image's known pixels (trivial reference, no training)."""
from pathlib import Path

from bench.registry import MethodSpec, register_method

from .model import MeanFillInpaintor

SPEC = register_method(MethodSpec(
    name="meanfill",
    config_dir=Path(__file__).parent / "configs",
    origin="trivial reference: the mean colour of the image's known pixels in the hole; not learned",
    trainable=False,
    paper_name="Mean fill",
))

__all__ = ["MeanFillInpaintor", "SPEC"]
