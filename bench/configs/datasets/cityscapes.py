# Cityscapes gtFine: 19 train ids + void as class 19 = the papers' "20 categories" (void_as_class=True;
# False keeps 19 classes with 255 ignored, then set num_classes = 19). Labels: *_gtFine_labelTrainIds.png when
# present, otherwise *_gtFine_labelIds.png converted with the official id -> trainId table.
# Train = train split (2,975): short side 512 (resize_scale=2.0 x img_size), random 256 crop (+ flip).
# Test = val split (500): the paper tests at 256x256; we resize the short side to 256 (resize_scale=1.0) and take
# the centre 256x256 crop (the middle of the 512x256 frame) -- our choice, the papers do not say how they got
# 256x256. resize_scale (not resize_short) keeps these proportions when a preset changes img_size.
# extra_dirs=[dict(img_dir=..., seg_dir=...)] adds pseudo-labelled images to training (the papers used the
# test split that way). The runner replaces data_root by <--data-root>/<data_subdir>.
dataset_name = "cityscapes"
data_subdir = "cityscapes"
num_classes = 20
center_hole_ratio = 0.375       # centre hole 96 of 256
train_dataset = dict(
    type="cityscapes", data_root="data/cityscapes", split="train", img_size=256,
    resize_scale=2.0, crop="random", flip=True, void_as_class=True, extra_dirs=[])
test_dataset = dict(
    type="cityscapes", data_root="data/cityscapes", split="test", img_size=256,
    resize_scale=1.0, crop="center", flip=False, void_as_class=True)
