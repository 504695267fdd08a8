_base_ = ["edgeconnect_paper.py"]
# EdgeConnect stage 1 (official MODEL=1): edge model only; evaluation runs G1 -> an untrained G2.
model = dict(stage="edge")
optim_wrapper = dict(
    _delete_=True,
    constructor="MultiOptimWrapperConstructor",
    edge_generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.0, 0.9))),
    edge_disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-5, betas=(0.0, 0.9))),
)
