# "Ours (Base)" (Table 3): joint multi-scale inpainting + segmentation, no attention, no coherence losses.
# Same network with the attention step of every SWAP block removed (f^l goes straight to the dilated groups).
_base_ = ["swap_full_paper.py"]
model = dict(generator=dict(attention="none"), disc_s=None, disc_t=None)
optim_wrapper = dict(
    _delete_=True,
    constructor="MultiOptimWrapperConstructor",
    generator=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
    disc=dict(type="OptimWrapper", optimizer=dict(type="Adam", lr=1e-4, betas=(0.5, 0.999))),
)
