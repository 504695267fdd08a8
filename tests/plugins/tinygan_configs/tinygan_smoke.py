model = dict(type="TinyGAN", width=8)
optim_wrapper = dict(
    constructor="MultiOptimWrapperConstructor",
    generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-3, betas=(0.5, 0.999))),
    disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-3, betas=(0.5, 0.999))),
)
train_iters = 30
checkpoint_interval = 10
log_interval = 5
evaluation = dict(metrics=[dict(type="PixelMetric", protocol="paper")], save_samples=2)
