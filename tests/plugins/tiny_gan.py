"""A tiny learned GAN defined by the tests, registered through ``BENCH_PLUGINS=plugins.tiny_gan``.

It exercises the runner path exactly as a real GAN method does (MultiOptimWrapperConstructor,
GANInpaintor.train_step, checkpoints, resume) in a fraction of a second per iteration.
``TINYGAN_SLEEP`` / ``TINYGAN_TRAIN_SLEEP`` (seconds per batch) slow evaluation / training so tests can
kill them mid-way.
"""
import os
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.registry import MODELS, MethodSpec, register_method
from methods.common import GANInpaintor, masked_input


@MODELS.register_module()
class TinyGAN(GANInpaintor):
    def __init__(self, width=8, num_classes=None, img_size=None, **kwargs):
        super().__init__(**kwargs)
        self.generator = nn.Sequential(nn.Conv2d(4, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, 3, 3, padding=1))
        self.disc = nn.Sequential(nn.Conv2d(3, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                                  nn.Conv2d(width, 1, 3, padding=1))

    def generate(self, img, mask, seg=None, return_attention=False):
        delay = os.environ.get("TINYGAN_TRAIN_SLEEP" if self.training else "TINYGAN_SLEEP", "")
        if delay:
            time.sleep(float(delay))
        x = torch.cat([masked_input(img, mask), mask], 1)
        return {"raw": torch.tanh(self.generator(x))}

    def discriminator_losses(self, data, out):
        real, fake = self.disc(data["img"]), self.disc(out["raw"])
        return {"disc": {"loss_d_real": F.relu(1 - real).mean(), "loss_d_fake": F.relu(1 + fake).mean()}}

    def generator_losses(self, data, out):
        return {"loss_l1": (out["raw"] - data["img"]).abs().mean(), "loss_gan": -0.1 * self.disc(out["raw"]).mean()}


register_method(MethodSpec(name="tinygan", config_dir=Path(__file__).parent / "tinygan_configs",
                           origin="test-only tiny GAN", in_demo=False))
