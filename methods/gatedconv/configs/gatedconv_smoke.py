# CPU smoke run of DeepFill v2: the official recipe at a narrow width (cnum 8, D cnum 16) on 64x64 images.
# The method config is merged after the preset, so the schedule inherited from gatedconv_paper.py is reset
# here to the smoke preset's values.
_base_ = ["gatedconv_paper.py"]
model = dict(cnum=8, disc_cnum=16, img_size=64)
batch_size = 4
train_iters = 20
checkpoint_interval = 10
