# Outdoor Scenes (OST, SFTGAN): train = OutdoorSeg (9,900 JPG + 8-class label PNGs), test = OST300 (300).
# Labels 0 background, 1 sky, 2 water, 3 grass, 4 mountain, 5 building, 6 plant, 7 animal; 255 void (ignored).
# Paper recipe: resize the short side to 256, random 256 crop (+ flip) for training; short side 256 + centre
# crop for testing (resize_scale=1.0: short side = img_size). The runner replaces data_root by
# <--data-root>/<data_subdir>.
dataset_name = "outdoor"
data_subdir = "outdoor"
num_classes = 8
center_hole_ratio = 0.5         # centre hole 128 of 256
train_dataset = dict(
    type="outdoor", data_root="data/outdoor", split="train", img_size=256,
    resize_scale=1.0, crop="random", flip=True)
test_dataset = dict(
    type="outdoor", data_root="data/outdoor", split="test", img_size=256,
    resize_scale=1.0, crop="center", flip=False)
