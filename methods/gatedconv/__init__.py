"""``gatedconv``: DeepFill v2 / gated convolution (Yu et al., ICCV 2019), official recipe in PyTorch."""
from pathlib import Path

from bench.registry import MethodSpec, register_method

from .model import GatedConvInpaintor
from .networks import DeepFillv2Generator, official_key_map
from .weights import load_official_deepfillv2

SPEC = register_method(MethodSpec(
    name="gatedconv",
    config_dir=Path(__file__).parent / "configs",
    origin="DeepFill v2 (Yu et al., ICCV 2019), official TF code JiahuiYu/generative_inpainting; "
           "re-written in PyTorch",
    paper_name="GatedConv",
    extra=dict(
        official_weights="states_tf_places2.pth / states_tf_celebahq.pth (PyTorch conversion of the official TF "
                         "checkpoints, nipponjo/deepfillv2-pytorch), key 'G'; load with "
                         "methods.gatedconv.load_official_deepfillv2",
        params=dict(generator=4_052_478, discriminator=5_946_816),
    ),
))

__all__ = ["DeepFillv2Generator", "GatedConvInpaintor", "SPEC", "load_official_deepfillv2", "official_key_map"]
