# Any folder of images (<data_root>/images/**), optionally with label PNGs of the same relative path and stem
# (<data_root>/labels/**, class ids 0..num_classes-1, 255 = void). To use labels set, e.g. with --cfg-options,
# train_dataset.seg_dir=labels test_dataset.seg_dir=labels train_dataset.num_classes=N test_dataset.num_classes=N
# num_classes=N. img_dir / seg_dir may also be dicts per split: dict(train='train/images', test='test/images').
# The runner replaces data_root by <--data-root>/<data_subdir>.
dataset_name = "folder"
data_subdir = "folder"
num_classes = 0                 # unlabelled by default
center_hole_ratio = 0.5
train_dataset = dict(
    type="folder", data_root="data/folder", split="train", img_size=256,
    img_dir="images", seg_dir=None, num_classes=None,
    resize_scale=1.0, crop="random", flip=True)
test_dataset = dict(
    type="folder", data_root="data/folder", split="test", img_size=256,
    img_dir="images", seg_dir=None, num_classes=None,
    resize_scale=1.0, crop="center", flip=False)
