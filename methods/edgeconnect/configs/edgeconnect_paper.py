_base_ = ["_base_edgeconnect.py"]
# Official schedule: batch 8, 256x256, MAX_ITERS 2e6 (in practice trained until stopped), no lr decay.
# Training masks follow the benchmark preset (released weights used the NVIDIA irregular masks, MASK=3).
batch_size = 8
train_iters = 2_000_000
