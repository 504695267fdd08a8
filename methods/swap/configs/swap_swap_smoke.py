# "Ours (SWAP)" (Table 3): SWAP, no coherence losses (no D_s / D_t).
_base_ = ["swap_full_smoke.py"]
model = dict(disc_s=None, disc_t=None)
optim_wrapper = dict(
    _delete_=True,
    constructor="MultiOptimWrapperConstructor",
    generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
    disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
)
