"""SPG-Net networks (Song et al., BMVC 2018), re-implemented; layout after the public unofficial port
``yccyenchicheng/pytorch-SegInpaint`` (facts in ``shared/anchors/METHODS.md`` §5, no code copied).

Both stages are the same ResNet-style encoder–decoder (:class:`ResnetEncoderDecoder`):

* ReflectionPad(3) + conv7×7 **stride 2** → ``base`` channels, norm, ReLU; then ``num_down − 1`` conv3×3
  stride 2, channels doubling up to ``max_channels`` (port: 64 → 128 → 256 → 512, i.e. H/16);
* ``num_blocks`` residual blocks (reflect-pad conv3×3-norm-ReLU-conv3×3-norm, identity skip; port: 9 × 512);
* ``num_down`` ConvTranspose3×3 stride 2 (padding 1, output padding 1), channels halving down to ``base``
  (port: 512 → 256 → 128 → 64 → 64);
* ReflectionPad(3) + conv7×7 → output channels.

Norm: BatchNorm as in the port (``norm='batch'``; ``'instance'`` available).

* :class:`SegmentationPredictionNet` (SP-Net): input = corrupted image (holes 0) ⊕ mask ⊕ corrupted one-hot label
  map (zeros inside the hole and at ignored pixels), 4 + k channels → k logits (the port ends with Softmax2d;
  we return logits and apply the softmax where probabilities are needed).
* :class:`SegmentationGuidedNet` (SG-Net): input = corrupted image ⊕ mask ⊕ completed label map (k
  probabilities), 4 + k channels → RGB, tanh.

The mask channel is our addition to the port's input (the brief's stage-1 input lists it; it tells the net which
zeros are holes).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from bench.registry import MODELS
from methods.common.blocks import make_norm

__all__ = ["ResnetBlock", "ResnetEncoderDecoder", "SegmentationPredictionNet", "SegmentationGuidedNet"]


class ResnetBlock(nn.Module):
    """``x + [reflpad1 conv3×3 norm ReLU reflpad1 conv3×3 norm](x)`` (pix2pixHD ResnetBlock)."""

    def __init__(self, channels: int, norm: str = "batch"):
        super().__init__()
        self.body = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), make_norm(norm, channels),
                                  nn.ReLU(), nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3),
                                  make_norm(norm, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetEncoderDecoder(nn.Module):
    """See the module docstring. Input sides must be multiples of ``2 ** num_down``.

    Args:
        in_channels (int), out_channels (int): channels in / out.
        base (int): width of the first conv (port: 64). max_channels (int): cap (512).
        num_down (int): stride-2 stages (port: 4). num_blocks (int): residual blocks (port: 9).
        norm (str): ``'batch'`` (port) | ``'instance'`` | ``'none'``.
    """

    def __init__(self, in_channels: int, out_channels: int, base: int = 64, max_channels: int = 512,
                 num_down: int = 4, num_blocks: int = 9, norm: str = "batch"):
        super().__init__()
        self.factor = 2 ** num_down
        widths = [min(base * 2 ** i, max_channels) for i in range(num_down)]
        enc = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, widths[0], 7, stride=2), make_norm(norm, widths[0]),
               nn.ReLU()]
        for cin, cout in zip(widths[:-1], widths[1:]):
            enc += [nn.Conv2d(cin, cout, 3, stride=2, padding=1), make_norm(norm, cout), nn.ReLU()]
        self.encoder = nn.Sequential(*enc)
        self.blocks = nn.Sequential(*(ResnetBlock(widths[-1], norm) for _ in range(num_blocks)))
        dec_widths = widths[::-1] + [widths[0]]  # e.g. 512, 256, 128, 64, 64
        dec = []
        for cin, cout in zip(dec_widths[:-1], dec_widths[1:]):
            dec += [nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1), make_norm(norm, cout),
                    nn.ReLU()]
        self.decoder = nn.Sequential(*dec)
        self.out = nn.Sequential(nn.ReflectionPad2d(3), nn.Conv2d(widths[0], out_channels, 7))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % self.factor or x.shape[-2] % self.factor:
            raise ValueError(f"{type(self).__name__} needs H, W multiples of {self.factor}, got {tuple(x.shape[-2:])}")
        return self.out(self.decoder(self.blocks(self.encoder(x))))


@MODELS.register_module()
class SegmentationPredictionNet(ResnetEncoderDecoder):
    """SP-Net: (corrupted image, mask, corrupted one-hot labels) → k label logits."""

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(4 + num_classes, num_classes, **kwargs)


@MODELS.register_module()
class SegmentationGuidedNet(ResnetEncoderDecoder):
    """SG-Net: (corrupted image, mask, completed label probabilities) → image in [-1, 1]."""

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(4 + num_classes, 3, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(super().forward(x))


@MODELS.register_module()
class SPGNetGenerator(nn.Module):
    """Both stages as one module (one optimizer key, ``generator``): ``sp`` (SP-Net) and ``sg`` (SG-Net).

    Args:
        num_classes (int): k. sp (dict), sg (dict): :class:`ResnetEncoderDecoder` arguments of each stage.
    """

    def __init__(self, num_classes: int = 8, sp: dict | None = None, sg: dict | None = None):
        super().__init__()
        self.num_classes = int(num_classes)
        self.sp = SegmentationPredictionNet(self.num_classes, **(sp or {}))
        self.sg = SegmentationGuidedNet(self.num_classes, **(sg or {}))

    def predict_segmentation(self, corrupted: torch.Tensor, mask: torch.Tensor,
                             known_onehot: torch.Tensor) -> torch.Tensor:
        """Stage 1: k logits from the corrupted image, the mask and the (hole-free) one-hot label map."""
        return self.sp(torch.cat([corrupted, mask, known_onehot], dim=1))

    def generate_image(self, corrupted: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Stage 2: RGB in [-1, 1] from the corrupted image, the mask and the completed label map."""
        return self.sg(torch.cat([corrupted, mask, labels], dim=1))
