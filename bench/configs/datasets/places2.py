# Places2 / Places365-Standard (high resolution), images only: no labels, so semantic methods cannot run on it.
# Train = data_large/ listed by places365_train_standard.txt; test = val_large/ (36,500; use max_test_images).
# Short side 256, random 256 crop for training, centre crop for testing. The runner replaces data_root.
dataset_name = "places2"
data_subdir = "places2"
num_classes = 0                 # no segmentation labels
center_hole_ratio = 0.5
train_dataset = dict(
    type="places2", data_root="data/places2", split="train", img_size=256,
    resize_scale=1.0, crop="random", flip=True)
test_dataset = dict(
    type="places2", data_root="data/places2", split="test", img_size=256,
    resize_scale=1.0, crop="center", flip=False)
