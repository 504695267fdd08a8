# The paper's protocol (Sec. 4.1): 256x256 crops, full test sets, both fixed mask sets. For GPUs.
preset = "paper"
img_size = 256
batch_size = 8
num_workers = 4
train_iters = 300_000           # methods override with their official schedules
checkpoint_interval = 5_000
log_interval = 100
console_log = "progress"        # tqdm bar + losses on the console, mmengine's full log in the run's log file;
                                # "mmengine": mmengine's own console output (environment dump, config, hooks)
max_train_images = None         # whole training split
max_test_images = None          # whole test split (OST300: 300, Cityscapes val: 500)
eval_batch_size = 16
mask_sets = ["center", "irregular"]
irregular_masks = dict(count=1000, seed=2021)   # DeepFill v2 strokes, fixed on disk (masks/README)
# training masks: the official DeepFill v2 recipe, one random box U brush strokes
train_masks = dict(type="box_freeform")
evaluation = dict(
    protocol="paper",
    metrics=[
        dict(type="PixelMetric", protocol="paper"),
        dict(type="LPIPSMetric", net="alex"),
        dict(type="FIDKIDMetric"),
        dict(type="SegmentationMetric"),
    ],
    save_samples=8,
)
