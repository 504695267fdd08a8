# CPU smoke preset: tiny images, few iterations, small test set. Exercises every code path in seconds.
_base_ = ["paper.py"]
preset = "smoke"
img_size = 64
batch_size = 4
num_workers = 0
train_iters = 20
checkpoint_interval = 10
log_interval = 5
max_train_images = 64
max_test_images = 16
eval_batch_size = 8
irregular_masks = dict(count=64, seed=2021)
