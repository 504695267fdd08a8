# CPU smoke version of spgnet_paper.py: 64x64 (preset), narrow nets, tiny discriminators, no VGG, ~20 iterations.
_base_ = ["spgnet_paper.py"]
_net = dict(base=8, max_channels=32, num_down=4, num_blocks=2, norm="batch")
model = dict(
    img_size=64,
    generator=dict(sp=_net, sg=_net),
    disc=dict(type="MultiscaleDiscriminator", num_scales=2, base_channels=16, num_layers=2, max_channels=64,
              norm="instance", spectral_norm=True),
    disc_seg=dict(type="MultiscaleDiscriminator", num_scales=1, base_channels=16, num_layers=2, max_channels=64,
                  norm="instance", spectral_norm=True),
    use_vgg_losses=False,
)
notes = ["SPG-Net smoke preset: re-implementation at narrow widths (8-32 channels, 2 residual blocks per stage), "
         "64x64, ~20 iterations; VGG19 loss (x10) disabled (use_vgg_losses=False), so SG-Net trains with L1 + hinge "
         "GAN + feature matching; not the paper model"]
del _net
