# Toy outdoor scenes: procedural, 8 Outdoor-Scenes classes, nothing to download (what `bench demo` runs on).
# Scenes are rendered once at img_size and cached as PNGs under <data_root>/<size>-s<scene_seed>/<split>/.
# The runner replaces data_root by <--data-root>/<data_subdir> and img_size/seed/masks/max_samples from the preset.
dataset_name = "toy"
data_subdir = "toy"
num_classes = 8                 # 0 background, 1 sky, 2 water, 3 grass, 4 mountain, 5 building, 6 plant, 7 animal
center_hole_ratio = 0.5         # centre hole 128 of 256, as for OST
train_dataset = dict(
    type="toy", data_root="data/toy", split="train", img_size=256,
    num_images=None, scene_seed=0, cache=True,      # None: max_train_images scenes (default 1000)
    crop="random", flip=True)
test_dataset = dict(
    type="toy", data_root="data/toy", split="test", img_size=256,
    num_images=None, scene_seed=0, cache=True,      # None: max_test_images scenes (default 100)
    crop="center", flip=False)
