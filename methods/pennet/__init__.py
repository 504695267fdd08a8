"""``pennet``: PEN-Net (Zeng et al., CVPR 2019), pyramid-context encoder with attention transfer."""
from pathlib import Path

from bench.registry import MethodSpec, register_method

from .model import PENNet
from .networks import AtnConv, PENNetDiscriminator, PENNetGenerator
from .weights import load_pennet_official, resolve_pennet_files

SPEC = register_method(MethodSpec(
    name="pennet",
    config_dir=Path(__file__).parent / "configs",
    variants=("default",),
    origin=("Zeng et al., 'Learning Pyramid-Context Encoder Network for High-Quality Image Inpainting', "
            "CVPR 2019; official code researchmm/PEN-Net-for-Inpainting (branch pytorch, MIT), re-written in "
            "PyTorch from the official code's documented layout (official gen_XXXXX.pth checkpoints load "
            "key-for-key)"),
    paper_name="PEN-Net",
))

__all__ = ["AtnConv", "PENNet", "PENNetDiscriminator", "PENNetGenerator", "SPEC", "load_pennet_official",
           "resolve_pennet_files"]
