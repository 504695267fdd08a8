# SWAP "Ours (Full)": SWAP between all decoder scales + both coherence losses (Liao et al., CVPR 2021).
# The paper (Sec. 3-4.1) gives the architecture outline, the losses and 256x256 crops; it gives no widths,
# depths, patch sizes, loss weights, optimiser, batch size or schedule. Every value below marked "choice" is
# ours (no public code exists, METHODS.md §0).
_disc = dict(type="MultiscaleDiscriminator", num_scales=3, base_channels=64, num_layers=3, max_channels=512,
             norm="instance", spectral_norm=True)  # pix2pixHD/SPADE multiscale PatchGAN, 3 scales (Eq. 10)
_cond_disc = dict(type="MultiscaleDiscriminator", num_scales=2, base_channels=64, num_layers=3, max_channels=512,
                  norm="instance", spectral_norm=True)  # choice: D_s/D_t = the same design, 2 scales
_adam = dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999)))
model = dict(
    type="SWAPInpaintor",
    num_classes=8,           # set by the runner from the dataset (8 Outdoor Scenes, 20 Cityscapes)
    img_size=256,            # set by the runner from the preset
    generator=dict(
        type="SWAPGenerator",
        widths=(64, 128, 256, 256, 256),   # choice: channels at scales 5 (256 px) ... 1 (16 px)
        cim_blocks=8,                      # choice: 8 dilated residual blocks (EdgeConnect's count)
        cim_dilations=(1, 2, 4, 8),
        attention="semantic",
        attention_cfg=dict(
            softmax_scale=10.0,            # Eq. 3 has none; contextual attention's 10 (see SemanticWiseAttention)
            match_size=32,                 # choice: match on <= 32x32 grids (DeepFill matches 64x64 features at 32x32)
            chunk_size=4096,
            fallback="keep",               # hole class absent from the known region: feature kept
        ),
        rates=(1, 2, 4, 8),                # the four dilated groups after SWAP
        head_channels=64,
    ),
    disc=_disc,
    disc_s=_cond_disc,
    disc_t=_cond_disc,
    gan_type="hinge",        # choice: hinge (SPADE's loss for this discriminator) instead of the printed log form
    # Eq. 12 weights (paper gives none). l1 = 1 is the reference. adv 0.1: the GAN weight of DeepFill v2 in
    # mmagic and of EdgeConnect's inpainting stage, with 3 discriminator scales summed. xe 1: cross-entropy
    # starts at ln k ~ 2-3 per scale, the same order as the 5-scale L1, and the segmentation must be learned
    # for SWAP to work. co 0.1: both coherence terms are adversarial-like / log-similarity terms of order 1 per
    # class, weighted like the adversarial loss.
    loss_weights=dict(l1=1.0, adv=0.1, xe=1.0, co=0.1),
    patch_coherence=dict(patch_size=8, eps=1e-3),   # choice: 8x8 non-overlapping patches at 256x256
)
# Optimiser: Adam(1e-4, betas (0.5, 0.999)) for G and each D, as the baselines (GatedConv); constant lr,
# 1 D step per G step. Schedule: the paper gives none; we keep the preset's 300,000 iterations at batch 8.
optim_wrapper = dict(
    constructor="MultiOptimWrapperConstructor",
    generator=_adam,
    disc=_adam,
    disc_s=_adam,
    disc_t=_adam,
)
del _disc, _cond_disc, _adam  # helpers only; keep them out of the run config
