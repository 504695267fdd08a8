# "Ours (Att)" (Table 3): contextual attention over all known patches (no semantics) in SWAP's place,
# no coherence losses. Same core and settings as SWAP, without the class restriction.
_base_ = ["swap_full_paper.py"]
model = dict(generator=dict(attention="contextual"), disc_s=None, disc_t=None)
optim_wrapper = dict(
    _delete_=True,
    constructor="MultiOptimWrapperConstructor",
    generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
    disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
)
