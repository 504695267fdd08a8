_base_ = ["_base_pennet.py"]
# Official places2.json schedule: batch 16, 1e6 iterations, lr x0.1 at 100k (niter 1e5, niter_steady 1.5e5).
# Training masks follow the benchmark preset (the official release used 128x128 random squares).
batch_size = 16
train_iters = 1_000_000
param_scheduler = [dict(type="MultiStepLR", by_epoch=False, milestones=[100_000], gamma=0.1)]
