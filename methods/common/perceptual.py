"""VGG19 perceptual (content) and style losses (Johnson et al. 2016; Gatys et al. 2016).

Used by EdgeConnect (official ``src/loss.py``: L1 on relu1_1..relu5_1, weights 1 each; style = L1 between
Gram matrices of relu2_2, relu3_4, relu4_4, relu5_2, Gram normalised by C·H·W; VGG fed with ``[0, 1]``
images **without** ImageNet normalisation) and later by SPG-Net. Layer names are those of torchvision's
``vgg19().features`` (``relu<block>_<conv>``); weights are torchvision's ImageNet file ``vgg19-dcbb9e9d.pth``,
found by :func:`methods.common.weights_resolver.resolve_weights` (config path, ``$BENCH_VGG_WEIGHTS``,
torch hub cache, download) and loaded with ``weights_only=True``.

The VGG is frozen and kept **out of** the owning model's ``state_dict`` (losses hold it unregistered), so
run checkpoints stay small and loading a trained model for evaluation never needs the VGG file. It follows
the input's device on each call.
"""
from __future__ import annotations

import os

import torch
import torch.nn as nn
import torch.nn.functional as F

from methods.common.official_weights import load_state_dict_checked
from methods.common.weights_resolver import VGG19, load_weights_file, resolve_weights

# torchvision vgg19 'E' configuration; 'M' = 2x2 max-pool
_VGG19_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"]


def _vgg19_layer_names() -> dict[str, int]:
    """``relu1_1`` -> index in ``vgg19().features`` (relu1_1 = 1, relu2_2 = 8, relu5_2 = 31, ...)."""
    names, idx, block, conv = {}, 0, 1, 0
    for v in _VGG19_CFG:
        if v == "M":
            idx += 1
            block, conv = block + 1, 0
        else:
            conv += 1
            names[f"relu{block}_{conv}"] = idx + 1
            idx += 2
    return names


VGG19_LAYERS = _vgg19_layer_names()
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGG19Features(nn.Module):
    """Frozen ImageNet VGG19 ``features`` truncated after the deepest requested layer.

    Args:
        layers (iterable[str]): layer names to return (``relu1_1`` ... ``relu5_4``).
        weights (str | None): explicit path of ``vgg19-dcbb9e9d.pth``; None = resolve (see module docstring).
        download (bool): allow downloading into the torch hub cache when nothing is found.
        pretrained (bool): False builds random weights (tests only).
        input_range (tuple): range of the images given to ``forward`` (mapped to ``[0, 1]``).
        imagenet_norm (bool): normalise with the ImageNet mean/std after mapping to ``[0, 1]``.
    """

    def __init__(self, layers, weights: str | os.PathLike | None = None, download: bool = True,
                 pretrained: bool = True, input_range=(0.0, 1.0), imagenet_norm: bool = False):
        super().__init__()
        layers = list(layers)
        unknown = [n for n in layers if n not in VGG19_LAYERS]
        if unknown:
            raise KeyError(f"unknown VGG19 layers {unknown}; known: {list(VGG19_LAYERS)}")
        self.layers = layers
        last = max(VGG19_LAYERS[n] for n in layers)
        modules, cin = [], 3
        for v in _VGG19_CFG:
            if v == "M":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                modules += [nn.Conv2d(cin, v, 3, padding=1), nn.ReLU(inplace=False)]
                cin = v
        self.features = nn.Sequential(*modules[:last + 1])
        self.source = None
        if pretrained:
            path = resolve_weights(VGG19, weights, download=download)
            state = load_weights_file(path)
            n = len(self.features)
            keep = lambda k: k.startswith("features.") and int(k.split(".")[1]) < n  # noqa: E731
            load_state_dict_checked(self, state, source=str(path), ignore=lambda k: not keep(k))
            self.source = str(path)
        lo, hi = input_range
        self.register_buffer("_scale", torch.tensor(1.0 / (hi - lo)), persistent=False)
        self.register_buffer("_shift", torch.tensor(-lo / (hi - lo)), persistent=False)
        self.imagenet_norm = imagenet_norm
        self.register_buffer("_mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("_std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True):  # always frozen
        return super().train(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = x * self._scale + self._shift
        if self.imagenet_norm:
            x = (x - self._mean) / self._std
        wanted = {VGG19_LAYERS[n]: n for n in self.layers}
        out, last = {}, max(wanted)
        for i, m in enumerate(self.features):
            x = m(x)
            if i in wanted:
                out[wanted[i]] = x
            if i == last:
                break
        return out


def gram_matrix(x: torch.Tensor) -> torch.Tensor:
    """B×C×C Gram matrix normalised by C·H·W (EdgeConnect / PConv convention)."""
    b, c, h, w = x.shape
    f = x.reshape(b, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


class _VGGLoss(nn.Module):
    def __init__(self, layer_weights: dict[str, float], vgg: VGG19Features | None = None, **vgg_kwargs):
        super().__init__()
        self.layer_weights = dict(layer_weights)
        if vgg is None:
            vgg = VGG19Features(list(self.layer_weights), **vgg_kwargs)
        missing = [n for n in self.layer_weights if n not in vgg.layers]
        if missing:
            raise KeyError(f"the shared VGG19Features does not return layers {missing}")
        self.__dict__["vgg"] = vgg  # unregistered: not in state_dict, not trained

    def _features(self, x):
        vgg = self.__dict__["vgg"]
        if vgg._scale.device != x.device:
            vgg.to(x.device)
        return vgg(x)


class PerceptualLoss(_VGGLoss):
    """Σ_l w_l · L1(φ_l(x), φ_l(y)) (``criterion='l1'``; ``'mse'`` also available)."""

    def __init__(self, layer_weights=None, criterion: str = "l1", vgg: VGG19Features | None = None, **vgg_kwargs):
        super().__init__(layer_weights or {f"relu{i}_1": 1.0 for i in range(1, 6)}, vgg, **vgg_kwargs)
        self.criterion = {"l1": F.l1_loss, "mse": F.mse_loss}[criterion]

    def forward(self, x, y):
        fx, fy = self._features(x), self._features(y)
        return sum(w * self.criterion(fx[n], fy[n].detach()) for n, w in self.layer_weights.items())


class StyleLoss(_VGGLoss):
    """Σ_l w_l · L1(Gram(φ_l(x)), Gram(φ_l(y))) (default layers: EdgeConnect's relu2_2/3_4/4_4/5_2)."""

    def __init__(self, layer_weights=None, criterion: str = "l1", vgg: VGG19Features | None = None, **vgg_kwargs):
        super().__init__(layer_weights or {"relu2_2": 1.0, "relu3_4": 1.0, "relu4_4": 1.0, "relu5_2": 1.0},
                         vgg, **vgg_kwargs)
        self.criterion = {"l1": F.l1_loss, "mse": F.mse_loss}[criterion]

    def forward(self, x, y):
        fx, fy = self._features(x), self._features(y)
        return sum(w * self.criterion(gram_matrix(fx[n]), gram_matrix(fy[n]).detach())
                   for n, w in self.layer_weights.items())
