"""EdgeConnect as a harness method: edge model (G1, D1) → inpainting model (G2, D2).

Everything inside works in ``[0, 1]`` as the official code does; ``img`` arrives in ``[-1, 1]`` and ``raw``
leaves in ``[-1, 1]``.

Stages (official ``MODEL`` setting; one :class:`EdgeConnect` class, ``stage=`` picks which nets train):

* ``edge`` (official MODEL=1): G1 + D1 only (prediction still runs G1 → G2; G2 is untrained unless loaded);
* ``inpaint`` (MODEL=2): G2 + D2 on ground-truth Canny edges (prediction: Canny of the known region → G2);
* ``edge_inpaint`` (MODEL=3, the released final stage): G2 + D2 on G1's edges, G1 frozen (load it with
  ``init_from`` or ``official_weights``);
* ``joint`` (MODEL=4, the default): G1, D1, G2, D2 together in one run; G2's loss also reaches G1 (the
  setting of the paper's numbers).

Losses (``config.yml.example``, matching the paper): edge model = adversarial ×1 + feature matching ×10
(L1 over D1's 5 feature maps); inpainting model = L1 ×1 divided by mean(mask) + perceptual ×0.1 + style ×250
(on ``out·m`` vs ``img·m``) + adversarial ×0.1; D loss = (real + fake) / 2. GAN loss ``nsgan`` (official
default; computed on logits with ``binary_cross_entropy_with_logits`` = the official sigmoid + BCELoss) or
``hinge``. During training G1's edges are merged with the ground-truth edges outside the hole before G2
(official ``outputs * masks + edges * (1 - masks)``); at test time G2 gets G1's raw output, as the official
``test()`` does.

Differences from the official trainer, forced by the mmagic step shape (D then G): discriminators are
updated first and the generator losses (adversarial and feature matching, whose real features are recomputed
without gradient) use the updated discriminators.

Perceptual and style losses need ImageNet VGG19 weights (:mod:`methods.common.perceptual`), resolved at the
first training step (so evaluation and ``bench methods`` never need them); with ``use_vgg_losses=False``
(the smoke preset) those two terms are dropped and a warning is logged.
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from mmengine.logging import print_log

from bench.registry import MODELS
from methods.common import GANInpaintor
from methods.common.losses import hinge_d_loss, hinge_g_loss

from .edges import canny_edges, rgb_to_gray
from .networks import EdgeConnectDiscriminator, EdgeGenerator, InpaintGenerator

STAGES = ("joint", "edge", "inpaint", "edge_inpaint")
DEFAULT_LOSS_WEIGHTS = dict(edge_adversarial=1.0, feature_matching=10.0, l1=1.0, perceptual=0.1, style=250.0,
                            adversarial=0.1)
PERCEPTUAL_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
STYLE_LAYERS = ("relu2_2", "relu3_4", "relu4_4", "relu5_2")


def gan_d_loss(kind: str, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Official ``(loss(real, True) + loss(fake, False)) / 2``."""
    if kind == "hinge":
        return hinge_d_loss(real, fake, scale=0.5)
    if kind == "nsgan":
        return 0.5 * (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
                      + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    raise ValueError(f"gan_loss must be 'nsgan' or 'hinge', got {kind!r}")


def gan_g_loss(kind: str, fake: torch.Tensor) -> torch.Tensor:
    if kind == "hinge":
        return hinge_g_loss(fake)
    if kind == "nsgan":
        return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))
    raise ValueError(f"gan_loss must be 'nsgan' or 'hinge', got {kind!r}")


@MODELS.register_module()
class EdgeConnect(GANInpaintor):
    """EdgeConnect (Nazeri et al., 2019).

    Args:
        stage (str): ``joint`` (default: both models in one run), ``edge``, ``inpaint`` or ``edge_inpaint``.
        width_mult (float): multiplies the official width 64 of every network; 1.0 = paper size.
        residual_blocks (int): official 8.
        sigma (float): Canny sigma (official 2).
        gan_loss (str): ``nsgan`` (official example config) or ``hinge``.
        loss_weights (dict): see ``DEFAULT_LOSS_WEIGHTS``.
        use_vgg_losses (bool): perceptual + style terms (need ``vgg19-dcbb9e9d.pth``).
        vgg_weights (str | None): explicit VGG19 file (else ``$BENCH_VGG_WEIGHTS``, torch hub cache, download).
        vgg_download (bool): allow downloading the VGG19 file.
        official_weights (str | None): official checkpoint folder (``EdgeModel_gen.pth``, ...).
        init_from (dict | None): ``dict(edge=ckpt, inpaint=ckpt)``: harness run checkpoints of earlier stages;
            ``edge`` fills G1/D1, ``inpaint`` fills G2/D2 (e.g. for ``edge_inpaint``).
        num_classes, img_size: accepted for the runner (unused: no labels, fully convolutional, sides % 4 == 0).
    """

    def __init__(self, stage: str = "joint", width_mult: float = 1.0, residual_blocks: int = 8, sigma: float = 2.0,
                 gan_loss: str = "nsgan", loss_weights: dict | None = None, use_vgg_losses: bool = True,
                 vgg_weights: str | None = None, vgg_download: bool = True, official_weights: str | None = None,
                 init_from: dict | None = None, num_classes: int | None = None, img_size: int = 256,
                 disc_steps: int = 1, data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(disc_steps=disc_steps, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        if gan_loss not in ("nsgan", "hinge"):
            raise ValueError(f"gan_loss must be 'nsgan' or 'hinge', got {gan_loss!r}")
        cnum = int(round(64 * width_mult))
        self.stage, self.sigma, self.gan_loss = stage, float(sigma), gan_loss
        self.img_size, self.num_classes = img_size, num_classes
        self.edge_generator = EdgeGenerator(cnum, residual_blocks, use_spectral_norm=True)
        self.edge_disc = EdgeConnectDiscriminator(2, cnum)
        self.generator = InpaintGenerator(cnum, residual_blocks, use_spectral_norm=False)
        self.disc = EdgeConnectDiscriminator(3, cnum)
        self.train_edge = stage in ("edge", "joint")
        self.train_inpaint = stage in ("inpaint", "edge_inpaint", "joint")
        self.gen_keys = tuple(k for k, on in (("edge_generator", self.train_edge), ("generator", self.train_inpaint))
                              if on)
        self.disc_keys = tuple(k for k, on in (("edge_disc", self.train_edge), ("disc", self.train_inpaint)) if on)
        self.gen_key = self.gen_keys[-1]
        self.loss_weights = {**DEFAULT_LOSS_WEIGHTS, **(loss_weights or {})}
        self.use_vgg_losses = bool(use_vgg_losses)
        self._vgg_args = dict(weights=vgg_weights, download=vgg_download)
        if self.train_inpaint and not self.use_vgg_losses:
            print_log("EdgeConnect: perceptual (x0.1) and style (x250) losses are DISABLED (use_vgg_losses=False); "
                      "the inpainting model trains with L1 + adversarial only", logger="current", level=30)
        if official_weights:
            from .weights import load_edgeconnect_official
            needs = {"edge": ("edge",), "inpaint": ("inpaint",)}.get(stage, ("edge", "inpaint"))
            load_edgeconnect_official(self, official_weights, require=needs)
        if init_from:
            self._init_from_runs(init_from)
        if stage == "edge_inpaint":
            self.edge_generator.requires_grad_(False)
            self.edge_disc.requires_grad_(False)

    # -- loading earlier stages ----------------------------------------------------------------------------
    def _init_from_runs(self, init_from: dict) -> None:
        from bench.engine import load_run_checkpoint
        from methods.common.official_weights import load_state_dict_checked

        parts = {"edge": ("edge_generator", "edge_disc"), "inpaint": ("generator", "disc")}
        for part, path in init_from.items():
            if part not in parts:
                raise KeyError(f"init_from keys are 'edge' and 'inpaint', got {part!r}")
            if not path:
                continue
            state = load_run_checkpoint(path)
            state = state.get("state_dict", state)
            for name in parts[part]:
                prefix = name + "."
                sub = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
                load_state_dict_checked(getattr(self, name), sub, source=f"{path} [{name}]")

    def vgg_losses(self):
        """``(perceptual, style)`` losses, built on first use (training only: building the model for evaluation
        or parameter counts never needs the VGG file); ``None`` when ``use_vgg_losses=False``. A missing
        ``vgg19-dcbb9e9d.pth`` raises :class:`~methods.common.weights_resolver.WeightsNotFoundError` naming
        the file and where to put it."""
        if not (self.use_vgg_losses and self.train_inpaint):
            return None
        if "_vgg_loss_pair" not in self.__dict__:
            from methods.common.perceptual import PerceptualLoss, StyleLoss, VGG19Features

            vgg = VGG19Features(PERCEPTUAL_LAYERS + STYLE_LAYERS, **self._vgg_args)
            print_log(f"EdgeConnect: VGG19 weights for perceptual/style losses from {vgg.source}", logger="current")
            # kept out of the module tree: not in state_dict / checkpoints, not seen by optimizers or DDP
            self.__dict__["_vgg_loss_pair"] = (PerceptualLoss({n: 1.0 for n in PERCEPTUAL_LAYERS}, vgg=vgg),
                                               StyleLoss({n: 1.0 for n in STYLE_LAYERS}, vgg=vgg))
        return self.__dict__["_vgg_loss_pair"]

    # -- forward pieces ------------------------------------------------------------------------------------
    def edge_forward(self, gray, edges, mask):
        """G1 on [gray with holes = 1, edges with holes = 0, mask]."""
        return self.edge_generator(torch.cat([gray * (1 - mask) + mask, edges * (1 - mask), mask], dim=1))

    def inpaint_forward(self, img01, edges, mask):
        """G2 on [RGB with holes = 1, edges]."""
        return self.generator(torch.cat([img01 * (1 - mask) + mask, edges], dim=1))

    @torch.no_grad()
    def generate(self, img, mask, seg=None, return_attention: bool = False):
        img01 = (img + 1) / 2
        gray = rgb_to_gray(img01)
        edges = canny_edges(gray, self.sigma, known=1 - mask)   # official test mode: Canny of the known region
        if self.stage != "inpaint":
            edges = self.edge_forward(gray, edges, mask)         # official test(): G1's raw output
        out01 = self.inpaint_forward(img01, edges, mask)
        return {"raw": out01 * 2 - 1, "edges": edges}

    # -- training ------------------------------------------------------------------------------------------
    def train_step(self, data, optim_wrapper):
        vgg_losses = self.vgg_losses()      # first call resolves the VGG file (fails early and clearly)
        data = self.data_preprocessor(data, True)
        mask = data["mask"]
        img01 = (data["img"] + 1) / 2
        gray = rgb_to_gray(img01)
        edges = canny_edges(gray, self.sigma)                    # official training: whole-image Canny edges
        e_out = i_out = None
        if self.train_edge:
            e_out = self.edge_forward(gray, edges, mask)
        elif self.stage == "edge_inpaint":
            with torch.no_grad():
                e_out = self.edge_forward(gray, edges, mask)
        if self.train_inpaint:
            g2_edges = edges if self.stage == "inpaint" else e_out * mask + edges * (1 - mask)
            i_out = self.inpaint_forward(img01, g2_edges, mask)

        log_vars: dict[str, torch.Tensor] = {}
        # 1) discriminators on detached fakes
        d_losses = {}
        if self.train_edge:
            real, _ = self.edge_disc(torch.cat([gray, edges], 1))
            fake, _ = self.edge_disc(torch.cat([gray, e_out.detach()], 1))
            d_losses["edge_disc"] = {"loss_d": gan_d_loss(self.gan_loss, real, fake)}
        if self.train_inpaint:
            real, _ = self.disc(img01)
            fake, _ = self.disc(i_out.detach())
            d_losses["disc"] = {"loss_d": gan_d_loss(self.gan_loss, real, fake)}
        for key, losses in d_losses.items():
            wrapper = optim_wrapper[key]
            with wrapper.optim_context(getattr(self, key)):
                total, logs = self.parse_losses(losses)
            wrapper.update_params(total)
            log_vars.update({f"{key}.{k}": v for k, v in logs.items() if k != "loss"})

        # 2) generators with the discriminators frozen; one backward, then each generator steps
        discs = [getattr(self, k) for k in self.disc_keys]
        for d in discs:
            d.requires_grad_(False)
        losses = {}
        w = self.loss_weights
        if self.train_edge:
            fake, fake_feats = self.edge_disc(torch.cat([gray, e_out], 1))
            with torch.no_grad():
                _, real_feats = self.edge_disc(torch.cat([gray, edges], 1))
            losses["loss_edge_adv"] = w["edge_adversarial"] * gan_g_loss(self.gan_loss, fake)
            losses["loss_edge_fm"] = w["feature_matching"] * sum(
                F.l1_loss(f, r) for f, r in zip(fake_feats, real_feats))
        if self.train_inpaint:
            fake, _ = self.disc(i_out)
            losses["loss_adv"] = w["adversarial"] * gan_g_loss(self.gan_loss, fake)
            losses["loss_l1"] = w["l1"] * F.l1_loss(i_out, img01) / mask.mean().clamp_min(1e-8)
            if vgg_losses is not None:
                perceptual, style = vgg_losses
                losses["loss_perceptual"] = w["perceptual"] * perceptual(i_out, img01)
                losses["loss_style"] = w["style"] * style(i_out * mask, img01 * mask)
        wrappers = [optim_wrapper[k] for k in self.gen_keys]
        if len(wrappers) > 1 and any(type(wr).__name__ != "OptimWrapper" for wr in wrappers):
            # one backward feeds both generators; per-wrapper loss scaling (AMP) would unscale wrongly
            raise NotImplementedError("EdgeConnect joint training needs plain OptimWrapper for both generators")
        with contextlib.ExitStack() as stack:
            for k, wr in zip(self.gen_keys, wrappers):
                stack.enter_context(wr.optim_context(getattr(self, k)))
            total, logs = self.parse_losses(losses)
        wrappers[0].backward(total)
        for wr in wrappers:
            wr.step()
            wr.zero_grad()
        for d in discs:
            d.requires_grad_(True)
        if self.stage == "edge_inpaint":
            self.edge_disc.requires_grad_(False)
        log_vars.update({f"g.{k}": v for k, v in logs.items()})
        return log_vars
