# CPU smoke version of sgenet_paper.py: 64x64 (preset), narrow widths, tiny discriminator, ~20 iterations.
_base_ = ["sgenet_paper.py"]
model = dict(
    img_size=64,
    generator=dict(widths=(8, 16, 16, 32, 32), cim_blocks=2, spade_hidden=16, eval_channels=8, head_channels=16),
    disc=dict(type="MultiscaleDiscriminator", num_scales=3, base_channels=16, num_layers=2, max_channels=64,
              norm="instance", spectral_norm=True),
)
notes = ["SGE-Net smoke preset: re-implementation at narrow widths (8-32 channels, SPADE hidden 16, CIM 2 blocks), "
         "64x64, ~20 iterations; not the paper model"]
