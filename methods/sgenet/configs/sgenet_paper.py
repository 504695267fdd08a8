# SGE-Net (Liao et al., ECCV 2020), re-implementation. The description we work from gives the structure (encoder,
# CIM, multi-scale decoder with image + segmentation heads, SPADE guidance by the predicted segmentation,
# segmentation confidence evaluation with re-inference of poorly inferred regions) and the loss families (L1,
# adversarial, per-scale cross-entropy). Every number below marked "choice" is ours; the skeleton's numbers are
# SWAP's (same authors, same framework; methods/common/multiscale_skeleton.py).
_disc = dict(type="MultiscaleDiscriminator", num_scales=3, base_channels=64, num_layers=3, max_channels=512,
             norm="instance", spectral_norm=True)  # choice: the multiscale PatchGAN used for SWAP (pix2pixHD/SPADE)
_adam = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999)))
model = dict(
    type="SGENetInpaintor",
    num_classes=8,           # set by the runner from the dataset (8 Outdoor Scenes / toy, 20 Cityscapes)
    img_size=256,            # set by the runner from the preset (multiple of 16)
    generator=dict(
        type="SGENetGenerator",
        widths=(64, 128, 256, 256, 256),   # choice (= SWAP): channels at scales 5 (256 px) ... 1 (16 px)
        cim_blocks=8,                      # choice (= SWAP): dilated residual blocks of the CIM
        cim_dilations=(1, 2, 4, 8),
        spade_blocks=1,                    # choice: one SPADE residual block per scale transition (2..5)
        spade_hidden=128,                  # SPADE's shared width
        gate="soft",                       # choice: guide = C*prev + (1-C)*re-inferred ('hard': C >= threshold)
        threshold=0.5,                     # only for gate='hard'
        spectral_norm=False,               # choice: no spectral norm in G (SPADE uses it optionally)
        eval_channels=32,                  # choice: width of the confidence evaluation net (3 convs, sigmoid)
        head_channels=64,                  # choice (= SWAP)
    ),
    disc=_disc,
    gan_type="hinge",        # choice: hinge (SPADE's loss for this discriminator)
    # choice: weights as SWAP's Eq. 12 (l1 1, adv 0.1, xe 1); conf 1 = BCE of the confidence map against the
    # per-pixel correctness of argmax(S^l) (the evaluator only; its inputs are detached)
    loss_weights=dict(l1=1.0, adv=0.1, xe=1.0, conf=1.0),
)
# choice: Adam(1e-4, betas (0.5, 0.999)) for G and D, constant lr, 1 D step per G step; schedule = the preset's
# (paper preset: 300,000 iterations at batch 8); the ECCV paper's schedule is not reproduced.
optim_wrapper = dict(constructor="MultiOptimWrapperConstructor", generator=_adam, disc=_adam)
del _disc, _adam
