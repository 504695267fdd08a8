# CPU study preset (`bench study`): the toy proxy of the paper's protocol, sized for 2 CPU cores.
# Every method at its smoke (narrow) width, 64x64 toy scenes, 2,000 training and 200 test images.
#
# The budget rule, fixed before any comparison was looked at: every learned method sees the same number of
# training images (batch 8 x 1,000 iterations = 8,000 images, 4 epochs), whatever its speed, with its own
# official optimiser and losses. `preset_overrides` is applied after the dataset's and the method's configs,
# so no method's own schedule changes the budget (`--cfg-options` still wins, for experiments).
# Sized from measured train-step times only (one thread, batch 8, 64x64: GatedConv 0.06 s ... SWAP full 0.38 s
# per iteration) so that 3 seeds of the 9 learned configurations and their evaluations fit 90 minutes on 2 cores.
_base_ = ["paper.py"]
preset = "cpu"
img_size = 64
num_workers = 0
method_configs = "smoke"           # methods/<m>/configs/<m>[_<variant>]_smoke.py: the narrow widths
max_train_images = 2000
max_test_images = 200
eval_batch_size = 25
log_interval = 50
irregular_masks = dict(count=200, seed=2021)
preset_overrides = dict(batch_size=8, train_iters=1000, checkpoint_interval=100, max_keep_ckpts=1)
