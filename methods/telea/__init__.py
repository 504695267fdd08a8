"""``telea``: OpenCV fast-marching inpainting (classical reference, no training)."""
from pathlib import Path

from bench.registry import MethodSpec, register_method

from .model import OpenCVInpaintor

SPEC = register_method(MethodSpec(
    name="telea",
    config_dir=Path(__file__).parent / "configs",
    variants=("default", "ns"),
    origin="OpenCV cv2.inpaint (Telea 2004; variant ns: Navier-Stokes, Bertalmio 2001); classical, not learned",
    trainable=False,
    paper_name="Telea (OpenCV)",
))

__all__ = ["OpenCVInpaintor", "SPEC"]
