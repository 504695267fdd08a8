"""Base classes every method derives from: the data preprocessor, the inpaintor and the GAN training step.

The GAN step follows mmagic's inpaintors (``base_models/one_stage.py``): ``train_step`` receives an
``OptimWrapperDict`` (one wrapper per trainable sub-module), updates the discriminator(s) and then the
generator. Methods override small hooks (``generate``, ``generator_losses``, ``discriminator_losses``)
instead of switching behaviour through flags.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseDataPreprocessor, BaseModel
from mmengine.optim import OptimWrapperDict

from bench.registry import MODELS


@MODELS.register_module()
class InpaintDataPreprocessor(BaseDataPreprocessor):
    """Moves a collated batch (``img``, ``mask``, optional ``seg``, ``meta``) to the model's device.

    Datasets already deliver ``img`` in [-1, 1] and ``mask`` with 1 = hole, so nothing is normalised here.
    Returns a dict whose keys become ``forward`` keyword arguments.
    """

    def forward(self, data: dict, training: bool = False) -> dict:
        out = {}
        for key in ("img", "mask", "seg"):
            if key in data and data[key] is not None:
                out[key] = self.cast_data(data[key])
        out["img"] = out["img"].float()
        out["mask"] = out["mask"].float()
        out["meta"] = data.get("meta")
        return out


def composite(raw: torch.Tensor, img: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Known pixels from ``img``, hole pixels (mask = 1) from ``raw``."""
    return raw * mask + img * (1.0 - mask)


def masked_input(img: torch.Tensor, mask: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
    """The corrupted image a method sees: hole pixels replaced by ``fill`` (0 = grey in [-1, 1])."""
    return img * (1.0 - mask) + fill * mask


class BaseInpaintor(BaseModel):
    """An inpainting method: ``generate`` fills holes; the base turns that into mmengine's three modes.

    Args:
        data_preprocessor (dict | None): defaults to :class:`InpaintDataPreprocessor`.
        init_cfg (dict | None): mmengine weight initialisation config.
    """

    def __init__(self, data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        # an instance (not a registry name) so the model also builds outside mmengine's ``bench`` scope
        super().__init__(data_preprocessor=data_preprocessor or InpaintDataPreprocessor(), init_cfg=init_cfg)

    # -- to implement --------------------------------------------------------------------------------
    def generate(self, img: torch.Tensor, mask: torch.Tensor, seg: torch.Tensor | None = None,
                 return_attention: bool = False) -> dict[str, Any]:
        """Return at least ``raw`` (B×3×H×W in [-1, 1]); optionally ``seg_logits`` (B×k×H×W), ``attention``."""
        raise NotImplementedError

    def loss(self, img, mask, seg=None) -> dict[str, torch.Tensor]:
        """Losses for a single-optimizer method (GAN methods override ``train_step`` instead)."""
        raise NotImplementedError(f"{type(self).__name__} is not trainable with a single optimizer")

    # -- mmengine interface --------------------------------------------------------------------------
    def forward(self, img, mask, seg=None, meta=None, mode: str = "tensor", return_attention: bool = False):
        if mode == "loss":
            return self.loss(img, mask, seg)
        out = self.generate(img, mask, seg, return_attention=return_attention)
        if mode == "tensor":
            return out["raw"]
        if mode == "predict":
            return self.to_predictions(out, img, mask, meta)
        raise ValueError(f"unknown mode {mode!r}")

    @staticmethod
    def to_predictions(out: dict, img, mask, meta) -> list[dict]:
        raw = out["raw"].clamp(-1, 1)
        comp = composite(raw, img, mask)
        preds = []
        for i in range(raw.shape[0]):
            p = {"raw": raw[i], "composite": comp[i], "meta": meta[i] if meta is not None else {}}
            if out.get("seg_logits") is not None:
                p["seg_logits"] = out["seg_logits"][i]
            if out.get("attention") is not None:
                p["attention"] = {k: v[i] for k, v in out["attention"].items()}
            preds.append(p)
        return preds


class GANInpaintor(BaseInpaintor):
    """A generator/discriminator pair trained as in mmagic's inpaintors.

    Subclasses set ``self.generator`` and one or more discriminators and implement
    ``generator_losses(data, out)`` and ``discriminator_losses(data, out)``; each returns a dict
    ``{optim_key: {loss_name: tensor}}`` so that methods with several discriminators (each with its own
    optimizer, e.g. SWAP's D, D_s, D_t) fit the same step.

    Args:
        disc_steps (int): discriminator updates per generator update (mmagic ``disc_step``).
    """

    disc_keys: tuple[str, ...] = ("disc",)
    gen_key: str = "generator"

    def __init__(self, disc_steps: int = 1, **kwargs):
        super().__init__(**kwargs)
        self.disc_steps = disc_steps

    def generator_losses(self, data: dict, out: dict) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def discriminator_losses(self, data: dict, out: dict) -> dict[str, dict[str, torch.Tensor]]:
        raise NotImplementedError

    def _discriminators(self):
        return [getattr(self, k) for k in self.disc_keys if getattr(self, k, None) is not None]

    def train_step(self, data, optim_wrapper: OptimWrapperDict) -> dict[str, torch.Tensor]:
        data = self.data_preprocessor(data, True)
        log_vars: dict[str, torch.Tensor] = {}
        out = self.generate(data["img"], data["mask"], data.get("seg"))
        # 1) discriminators on detached fakes
        detached = {k: (v.detach() if torch.is_tensor(v) else v) for k, v in out.items()}
        for _ in range(self.disc_steps):
            disc_losses = self.discriminator_losses(data, detached)
            for key, losses in disc_losses.items():
                if not losses:
                    continue
                wrapper = optim_wrapper[key]
                with wrapper.optim_context(getattr(self, key)):
                    total, logs = self.parse_losses(losses)
                wrapper.update_params(total)
                log_vars.update({f"{key}.{k}": v for k, v in logs.items() if k != "loss"})
        # 2) generator with discriminators frozen
        discs = self._discriminators()
        for d in discs:
            d.requires_grad_(False)
        wrapper = optim_wrapper[self.gen_key]
        with wrapper.optim_context(getattr(self, self.gen_key)):
            total, logs = self.parse_losses(self.generator_losses(data, out))
        wrapper.update_params(total)
        for d in discs:
            d.requires_grad_(True)
        log_vars.update({f"g.{k}": v for k, v in logs.items()})
        return log_vars


class SemanticGANInpaintor(GANInpaintor):
    """A GAN inpaintor that predicts segmentation at every decoder scale (SWAP, SGE-Net).

    Provides the two things such methods share: the finest segmentation as image-sized logits (what mIoU
    scores) and the check that a batch carries labels (datasets without labels, e.g. Places2, skip the
    segmentation losses with a single warning).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._warned_no_seg = False

    @staticmethod
    def image_sized(seg_logits: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
        """Segmentation logits bilinearly resized to the image (a no-op at the finest scale)."""
        if seg_logits.shape[-2:] != img.shape[-2:]:
            seg_logits = F.interpolate(seg_logits, size=img.shape[-2:], mode="bilinear", align_corners=False)
        return seg_logits

    def has_seg(self, data: dict) -> bool:
        if data.get("seg") is not None:
            return True
        if not self._warned_no_seg:
            print_log(f"{type(self).__name__}: batch has no 'seg' labels: the segmentation losses are skipped",
                      logger="current", level=30)
            self._warned_no_seg = True
        return False

