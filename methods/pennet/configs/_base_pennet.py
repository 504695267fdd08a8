# PEN-Net, official recipe (researchmm/PEN-Net-for-Inpainting, configs/places2.json, core/trainer.py).
model = dict(
    type="PENNet",
    width_mult=1.0,                       # official widths: G base 32 (10,231,538 params), D base 64 (4,318,401)
    loss_weights=dict(hole=6.0, valid=1.0, pyramid=0.5, adversarial=0.1),
    official_weights=None,                # a released gen_XXXXX.pth or its folder (latest.ckpt) to start from
    img_size=256,
)
# Adam 1e-4, betas (0.5, 0.999) for both nets (d2glr = 1); hinge loss; one D step per G step.
optim_wrapper = dict(
    constructor="MultiOptimWrapperConstructor",
    generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
    disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
)
