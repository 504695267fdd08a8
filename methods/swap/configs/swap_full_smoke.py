# CPU smoke version of swap_full_paper.py: 64x64, narrow widths, tiny discriminators (seconds per run).
_base_ = ["swap_full_paper.py"]
_disc = dict(type="MultiscaleDiscriminator", num_scales=3, base_channels=16, num_layers=2, max_channels=64,
             norm="instance", spectral_norm=True)
_cond_disc = dict(type="MultiscaleDiscriminator", num_scales=1, base_channels=16, num_layers=2, max_channels=64,
                  norm="instance", spectral_norm=True)
model = dict(
    img_size=64,
    generator=dict(widths=(8, 16, 16, 32, 32), cim_blocks=2, head_channels=16,
                   attention_cfg=dict(match_size=16, chunk_size=1024)),
    disc=_disc,
    disc_s=_cond_disc,
    disc_t=_cond_disc,
    patch_coherence=dict(patch_size=4),
)
del _disc, _cond_disc
