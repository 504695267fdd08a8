_base_ = ["edgeconnect_smoke.py"]
# EdgeConnect stage 3 (official MODEL=3): inpainting model on the frozen edge model's edges; set model.init_from=dict(edge=..., inpaint=...) or model.official_weights.
model = dict(stage="edge_inpaint")
optim_wrapper = dict(
    _delete_=True,
    constructor="MultiOptimWrapperConstructor",
    generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.0, 0.9))),
    disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-5, betas=(0.0, 0.9))),
)
notes = ["EdgeConnect edge_inpaint smoke preset: widths x0.125, 64x64, ~20 iterations; VGG19 perceptual/style losses "
         "disabled (use_vgg_losses=False); the frozen edge model is random unless model.init_from is set"]
