# `bench demo` preset: the CPU study's protocol (presets/cpu.py: smoke widths, 64x64 toy scenes, the same number
# of training images for every learned method) with a budget that fits `make demo` in 10 minutes on 2 cores
# (two runs in parallel, one torch thread each) and a 50-image test set. Enough to see learned fills, not to
# rank methods: that is what `bench study` is for.
_base_ = ["cpu.py"]
preset = "demo"
max_test_images = 50
irregular_masks = dict(count=50, seed=2021)
preset_overrides = dict(batch_size=8, train_iters=400, checkpoint_interval=100, max_keep_ckpts=1)
