_base_ = ["edgeconnect_paper.py"]
# EdgeConnect stage 2 (official MODEL=2): inpainting model on ground-truth Canny edges.
model = dict(stage="inpaint")
optim_wrapper = dict(
    _delete_=True,
    constructor="MultiOptimWrapperConstructor",
    generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.0, 0.9))),
    disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-5, betas=(0.0, 0.9))),
)
