"""``edgeconnect``: EdgeConnect (Nazeri et al., ICCVW 2019), edge generator then edge-guided inpainting.

Variants (``bench run --method edgeconnect --variant V``), the official training stages:

* ``default`` = ``joint`` (official MODEL=4): edge and inpainting models trained together in one run, the
  pipeline the paper's numbers come from; evaluation runs edge G → inpainting G.
* ``edge`` (MODEL=1): edge model only.
* ``inpaint`` (MODEL=2): inpainting model on ground-truth Canny edges.
* ``edge_inpaint`` (MODEL=3, the released final stage): inpainting model on the frozen edge model's edges;
  set ``model.init_from=dict(edge=..., inpaint=...)`` (checkpoints of the two earlier runs) or
  ``model.official_weights=<release folder>``.
"""
from pathlib import Path

from bench.registry import MethodSpec, register_method

from .edges import canny_edges, rgb_to_gray
from .model import STAGES, EdgeConnect
from .networks import EdgeConnectDiscriminator, EdgeGenerator, InpaintGenerator
from .weights import drop_features_alias, load_edgeconnect_official

SPEC = register_method(MethodSpec(
    name="edgeconnect",
    config_dir=Path(__file__).parent / "configs",
    variants=("default", "edge", "inpaint", "edge_inpaint"),
    origin=("Nazeri et al., 'EdgeConnect: Generative Image Inpainting with Adversarial Edge Learning', "
            "ICCVW 2019; official code knazeri/edge-connect (CC BY-NC 4.0), re-written in PyTorch from the "
            "official code's documented layout (official EdgeModel_*/InpaintingModel_* checkpoints load "
            "key-for-key); default variant = joint training of both stages (official MODEL=4)"),
    paper_name="EdgeConnect",
))

__all__ = ["EdgeConnect", "EdgeConnectDiscriminator", "EdgeGenerator", "InpaintGenerator", "SPEC", "STAGES",
           "canny_edges", "drop_features_alias", "load_edgeconnect_official", "rgb_to_gray"]
