"""Datasets: sample-dict contract, official layouts (tiny fakes), label conversion, errors, toy scenes,
fixed / random masks, collate, configs and ``describe_datasets``. Everything is tiny (< 10 s on 2 cores)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bench.datasets import (CityscapesDataset, DatasetError, DatasetNotFoundError, ImageFolderDataset,
                            OutdoorScenesDataset, Places2Dataset, ToyScenesDataset, describe_datasets,
                            inpaint_collate, render_scene)
from bench.datasets.cityscapes_labels import ID_TO_TRAINID
from bench.datasets.toy import scene_rng
from bench.registry import DATASETS, FUNCTIONS

CONFIGS = Path(__file__).resolve().parents[1] / "bench" / "configs" / "datasets"


# ---------------------------------------------------------------------------------------------- helpers
@pytest.fixture(autouse=True)
def _no_full_gc(monkeypatch):
    """mmengine's BaseDataset runs gc.collect() after serialising the file list (0.2 s with torch
    loaded); these tests build ~40 tiny datasets, so skip it here (production keeps it)."""
    import mmengine.dataset.base_dataset as bd

    monkeypatch.setattr(bd.gc, "collect", lambda *a, **k: 0)


def _rgb(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _save(path: Path, arr, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(arr, np.uint8)).save(path, **kw)
    return path


def _ost_label(h, w):
    """Vertical bands 0..7 with the right quarter void (255)."""
    lab = (np.arange(w)[None, :] * 8 // w).repeat(h, 0).astype(np.uint8)
    lab[:, 3 * w // 4:] = 255
    return lab


def make_ost(root: Path, size=(32, 32), n_train=3, n_test=2) -> Path:
    h, w = size
    for i in range(n_train):
        stem = f"ADE_train_{i + 1:08d}"
        _save(root / "OutdoorSeg/images" / f"{stem}.jpg", _rgb(h + 8, w + 16, i), quality=95)
        _save(root / "OutdoorSeg/annotations" / f"{stem}.png", _ost_label(h + 8, w + 16))
    for i in range(n_test):
        stem = f"OST_{i + 1:03d}"
        _save(root / "OutdoorSceneTest300" / f"{stem}.png", _rgb(h, w, 100 + i))
        _save(root / "OutdoorSceneTest300_anno" / f"{stem}.png", _ost_label(h, w))
    return root


# label ids: unlabeled road car bicycle / building sky void static
CITY_IDS = np.array([[0, 7, 26, 33], [11, 23, 255, 4]], np.uint8)
CITY_TRAIN = np.array([[255, 0, 13, 18], [2, 10, 255, 255]], np.uint8)


def make_cityscapes(root: Path) -> Path:
    def city(split, town, seq, frame, kind):
        stem = f"{town}_{seq:06d}_{frame:06d}"
        _save(root / "leftImg8bit" / split / town / f"{stem}_leftImg8bit.png", _rgb(16, 32, frame))
        lab = np.kron(CITY_IDS if kind == "labelIds" else CITY_TRAIN, np.ones((8, 8), np.uint8))
        _save(root / "gtFine" / split / town / f"{stem}_gtFine_{kind}.png", lab)

    city("train", "aachen", 0, 19, "labelIds")
    city("train", "bochum", 0, 1, "labelTrainIds")
    city("val", "frankfurt", 0, 294, "labelIds")
    return root


class FakeMaskSet:
    """The ``masks.MaskSet`` interface: len, [i] -> uint8 H×W (1 = hole), names, sha256."""

    def __init__(self, size, n=3):
        self._masks = []
        for i in range(n):
            m = np.zeros((size, size), np.uint8)
            m[: (i + 1) * size // (n + 1)] = 1
            self._masks.append(m)
        self.names = [f"{i:05d}.png" for i in range(n)]
        self.sha256 = "fake"

    def __len__(self):
        return len(self._masks)

    def __getitem__(self, i):
        return self._masks[i]


class FakeGenerator:
    """The mask-generator interface: gen(rng) -> uint8 H×W (1 = hole)."""

    def __init__(self, size):
        self.size = size

    def __call__(self, rng):
        return (rng.random((self.size, self.size)) < 0.3).astype(np.uint8)


def check_contract(s, size, dataset, labels=True):
    assert s["img"].dtype == torch.float32 and s["img"].shape == (3, size, size)
    assert s["img"].min() >= -1 and s["img"].max() <= 1
    assert s["mask"].dtype == torch.float32 and s["mask"].shape == (1, size, size)
    assert set(torch.unique(s["mask"]).tolist()) <= {0.0, 1.0}
    if labels:
        assert s["seg"].dtype == torch.int64 and s["seg"].shape == (size, size)
    else:
        assert "seg" not in s
    meta = s["meta"]
    assert set(meta) == {"file", "dataset", "index", "mask_id", "hole_ratio"}
    assert meta["dataset"] == dataset and isinstance(meta["file"], str) and not Path(meta["file"]).is_absolute()
    assert meta["hole_ratio"] == pytest.approx(float(s["mask"].mean()))


# ---------------------------------------------------------------------------------------------- OST
def test_outdoor_test_split_contract_and_void(tmp_path):
    root = make_ost(tmp_path / "outdoor")
    ds = OutdoorScenesDataset(root, split="test", img_size=32)
    assert len(ds) == 2 and ds.num_classes == 8 and ds.metainfo["classes"][7] == "animal"
    s = ds[1]
    check_contract(s, 32, "outdoor")
    assert s["meta"] == dict(file="OutdoorSceneTest300/OST_002.png", dataset="outdoor", index=1, mask_id=None,
                             hole_ratio=0.0)
    # image already 32x32: no resize, centre crop = identity, label exactly the file (255 kept)
    assert torch.equal(s["seg"], torch.from_numpy(_ost_label(32, 32).astype(np.int64)))
    img = np.asarray(Image.open(root / "OutdoorSceneTest300/OST_002.png"))
    assert torch.allclose(s["img"], torch.from_numpy(img).permute(2, 0, 1).float() / 127.5 - 1)


def test_outdoor_train_resize_crop_flip_deterministic(tmp_path):
    root = make_ost(tmp_path / "outdoor")
    kw = dict(split="train", img_size=24, resize_short=32, seed=3)
    a, b = OutdoorScenesDataset(root, **kw), OutdoorScenesDataset(root, **kw)
    assert len(a) == 3 and a.crop == "random" and a.flip
    s = a[0]
    check_contract(s, 24, "outdoor")
    assert s["meta"]["file"] == "OutdoorSeg/images/ADE_train_00000001.jpg"
    assert set(torch.unique(s["seg"]).tolist()) <= set(range(8)) | {255}  # nearest: no blended label values
    t = b[0]
    assert torch.equal(s["img"], t["img"]) and torch.equal(s["seg"], t["seg"])  # same (seed, index, visit)
    assert len({a[0]["img"].sum().item() for _ in range(6)}) > 1  # later visits draw new crops / flips


def test_outdoor_colour_label_maps_and_void_8(tmp_path):
    root = make_ost(tmp_path / "outdoor", n_train=1, n_test=2)
    from bench.datasets.outdoor import OST_PALETTE
    lut = np.array(OST_PALETTE + [[0, 0, 0]] * 247 + [[255, 255, 255]], np.uint8)
    _save(root / "OutdoorSceneTest300_anno/OST_001.png", lut[_ost_label(32, 32)])  # RGB colour map
    grey = _ost_label(32, 32)
    grey[0, 0] = 8  # "255(8), void"
    _save(root / "OutdoorSceneTest300_anno/OST_002.png", grey)
    ds = OutdoorScenesDataset(root, split="test", img_size=32)
    expect = _ost_label(32, 32).astype(np.int64)
    assert torch.equal(ds[0]["seg"], torch.from_numpy(expect))
    expect[0, 0] = 255
    assert torch.equal(ds[1]["seg"], torch.from_numpy(expect))
    _save(root / "OutdoorSceneTest300_anno/OST_001.png", np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(DatasetError, match=r"OST_001\.png is a colour map"):
        ds[0]


# ---------------------------------------------------------------------------------------------- Cityscapes
def test_cityscapes_labelids_to_trainids_and_void_class(tmp_path):
    root = make_cityscapes(tmp_path / "cityscapes")
    ds = CityscapesDataset(root, split="train", img_size=16, resize_short=16, crop="center", flip=False)
    assert len(ds) == 2 and ds.num_classes == 20 and ds.metainfo["classes"][19] == "void"
    assert ds[0]["meta"]["file"] == "leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png"
    # 16x32 image, centre 16x16 crop = columns 8..23 = label blocks 1 and 2 (and halves of 0 / 3)
    expect = np.kron(np.where(CITY_TRAIN == 255, 19, CITY_TRAIN), np.ones((8, 8), np.uint8))[:, 8:24]
    for i in range(2):  # aachen: converted from labelIds; bochum: labelTrainIds read as they are
        s = ds[i]
        check_contract(s, 16, "cityscapes")
        assert torch.equal(s["seg"], torch.from_numpy(expect.astype(np.int64)))
    ign = CityscapesDataset(root, split="train", img_size=16, resize_short=16, crop="center", flip=False,
                            void_as_class=False)
    assert ign.num_classes == 19
    assert torch.equal(ign[0]["seg"], torch.from_numpy(np.kron(CITY_TRAIN, np.ones((8, 8), np.uint8))[:, 8:24]
                                                       .astype(np.int64)))
    test = CityscapesDataset(root, split="test", img_size=16)
    assert len(test) == 1 and test[0]["meta"]["file"].startswith("leftImg8bit/val/frankfurt/")
    small = CityscapesDataset(root, split="train", img_size=8, resize_scale=2.0)  # the config's form
    assert small.resize_short == 16 and small[0]["img"].shape == (3, 8, 8)


def test_cityscapes_label_table():
    assert ID_TO_TRAINID[7] == 0 and ID_TO_TRAINID[33] == 18 and ID_TO_TRAINID[23] == 10
    assert ID_TO_TRAINID[0] == 255 and ID_TO_TRAINID[29] == 255 and ID_TO_TRAINID[255] == 255
    assert ID_TO_TRAINID[34] == -1  # not a Cityscapes id
    assert sorted(v for v in ID_TO_TRAINID.tolist() if 0 <= v < 255) == list(range(19))


def test_cityscapes_bad_label_id(tmp_path):
    root = make_cityscapes(tmp_path / "cityscapes")
    p = root / "gtFine/val/frankfurt/frankfurt_000000_000294_gtFine_labelIds.png"
    _save(p, np.full((16, 32), 40, np.uint8))
    with pytest.raises(DatasetError, match="frankfurt_000000_000294_gtFine_labelIds.png") as e:
        CityscapesDataset(root, split="test", img_size=16)[0]
    assert "40" in str(e.value)


# ---------------------------------------------------------------------------------------------- errors
def test_missing_root_gives_one_error_with_tree(tmp_path, monkeypatch):
    monkeypatch.delenv("BENCH_DATA_ROOT", raising=False)
    with pytest.raises(DatasetNotFoundError) as e:
        OutdoorScenesDataset(tmp_path / "nowhere", split="train")
    msg = str(e.value)
    assert str(tmp_path / "nowhere") in msg and "OutdoorSeg/" in msg and "OutdoorSceneTest300_anno" in msg
    assert "--data-root" in msg and "BENCH_DATA_ROOT" in msg and "data/outdoor" in msg
    with pytest.raises(DatasetNotFoundError, match="leftImg8bit/val"):
        (tmp_path / "cs/leftImg8bit/train").mkdir(parents=True)
        CityscapesDataset(tmp_path / "cs", split="test")
    with pytest.raises(DatasetNotFoundError, match="val_large"):
        Places2Dataset(tmp_path / "places2", split="test")


def test_corrupt_image_out_of_range_and_size_mismatch(tmp_path):
    root = make_ost(tmp_path / "outdoor", n_test=3)
    (root / "OutdoorSceneTest300/OST_001.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    _save(root / "OutdoorSceneTest300_anno/OST_002.png", np.full((32, 32), 12, np.uint8))
    _save(root / "OutdoorSceneTest300_anno/OST_003.png", np.zeros((30, 40), np.uint8))
    ds = OutdoorScenesDataset(root, split="test", img_size=32)
    with pytest.raises(DatasetError, match=r"cannot read image .*OST_001\.png.*skip_bad"):
        ds[0]
    with pytest.raises(DatasetError, match=r"OST_002\.png has values 12 outside the class range 0\.\.7"):
        ds[1]
    with pytest.raises(DatasetError, match=r"OST_003\.png is 32x32 but its label .*OST_003\.png is 40x30"):
        ds[2]
    # validate=True without skip_bad reports all three at construction, in one error
    with pytest.raises(DatasetError, match="3 bad file"):
        OutdoorScenesDataset(root, split="test", img_size=32, validate=True)


def test_skip_bad_on_access_and_validated(tmp_path):
    root = make_ost(tmp_path / "outdoor", n_test=3)
    (root / "OutdoorSceneTest300/OST_002.png").write_bytes(b"garbage")
    ds = OutdoorScenesDataset(root, split="test", img_size=32, skip_bad=True, validate=False)
    assert len(ds) == 3
    s = ds[1]  # bad -> the next good item, deterministically
    assert s["meta"]["index"] == 2 and s["meta"]["file"] == "OutdoorSceneTest300/OST_003.png"
    assert ds.bad_files == [("OutdoorSceneTest300/OST_002.png", "unreadable image")]
    ds[1]
    assert len(ds.bad_files) == 1  # recorded once
    # test split + skip_bad validates up front by default: bad files dropped, list final before iterating
    ev = OutdoorScenesDataset(root, split="test", img_size=32, skip_bad=True)
    assert len(ev) == 2 and [ev[i]["meta"]["file"] for i in range(2)] == [
        "OutdoorSceneTest300/OST_001.png", "OutdoorSceneTest300/OST_003.png"]
    assert ev.bad_files == [("OutdoorSceneTest300/OST_002.png", "unreadable image")]


def test_missing_label_files(tmp_path):
    root = make_ost(tmp_path / "outdoor", n_test=2)
    (root / "OutdoorSceneTest300_anno/OST_002.png").unlink()
    with pytest.raises(DatasetError, match=r"OST_002\.png -> expected .*OutdoorSceneTest300_anno/OST_002\.png"):
        OutdoorScenesDataset(root, split="test", img_size=32)
    ds = OutdoorScenesDataset(root, split="test", img_size=32, skip_bad=True)
    assert len(ds) == 1 and ds.bad_files[0][0] == "OutdoorSceneTest300/OST_002.png"


def test_max_samples_first_n_sorted(tmp_path):
    root = make_ost(tmp_path / "outdoor", n_test=3)
    ds = OutdoorScenesDataset(root, split="test", img_size=32, max_samples=2)
    assert [ds[i]["meta"]["file"] for i in range(len(ds))] == ["OutdoorSceneTest300/OST_001.png",
                                                                "OutdoorSceneTest300/OST_002.png"]


def _folder_item(root: Path, name: str, **kw):
    """An ImageFolderDataset (test split, 16² crops) over root/images and the item named ``name``."""
    ds = ImageFolderDataset(root, split="test", img_size=16, **kw)
    files = [ds.get_data_info(i)["file"] for i in range(len(ds))]
    return ds, ds.get_data_info(files.index(f"images/{name}"))


def test_16bit_images_keep_their_high_byte(tmp_path):
    """Pillow's convert('RGB') clips 16-bit grey to white; every 16-bit sample becomes v >> 8 instead, as
    Pillow itself does for 16-bit RGB PNGs (cv2 writes those)."""
    import cv2

    root = tmp_path / "folder"
    (root / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 65536, (16, 20), dtype=np.uint16)
    Image.fromarray(grey).save(root / "images/grey16.png")                                # mode I;16
    Image.frombytes("I;16B", (20, 16), grey.astype(">u2").tobytes()).save(root / "images/grey16b.tif")
    rgb = rng.integers(0, 65536, (16, 20, 3), dtype=np.uint16)
    cv2.imwrite(str(root / "images/rgb48.png"), rgb[..., ::-1])                            # 48-bit RGB PNG
    ds, info = _folder_item(root, "grey16.png")
    assert Image.open(info["img_path"]).mode == "I;16"
    want = np.repeat((grey >> 8).astype(np.uint8)[..., None], 3, axis=2)
    np.testing.assert_array_equal(ds.read_image(info), want)
    ds, info = _folder_item(root, "grey16b.tif")
    assert Image.open(info["img_path"]).mode == "I;16B"
    np.testing.assert_array_equal(ds.read_image(info), want)
    ds, info = _folder_item(root, "rgb48.png")
    np.testing.assert_array_equal(ds.read_image(info), (rgb >> 8).astype(np.uint8))
    # an 8-bit image stored as 16 bits (v * 257) reads back exactly; so does mode I from a PNG (older Pillow)
    from bench.datasets.base import _rgb8

    levels = np.arange(256, dtype=np.uint16).reshape(16, 16)
    Image.fromarray(levels * 257).save(root / "images/levels.png")
    with Image.open(root / "images/levels.png") as im:
        as_i = im.convert("I")
        as_i.format = "PNG"
        np.testing.assert_array_equal(_rgb8(im, "levels.png")[..., 0], levels)
        np.testing.assert_array_equal(_rgb8(as_i, "levels.png")[..., 1], levels)
    # a whole sample: not clipped to white
    s = ImageFolderDataset(root, split="test", img_size=16, crop="resize")[0]
    assert float(s["img"].mean()) < 0.5


def test_float_and_int32_images_are_refused(tmp_path):
    root = tmp_path / "folder"
    (root / "images").mkdir(parents=True)
    Image.fromarray(np.full((16, 16), 0.5, np.float32)).save(root / "images/a_float.tif")
    Image.fromarray(np.full((16, 16), 300, np.int32)).save(root / "images/b_int32.tif")
    _save(root / "images/c_ok.png", _rgb(16, 16))
    ds, info = _folder_item(root, "a_float.tif")
    with pytest.raises(DatasetError, match=r"a_float\.tif has floating-point pixels .*Fix: save it as"):
        ds.read_image(info)
    with pytest.raises(DatasetError, match=r"b_int32\.tif has 32-bit integer pixels"):
        ds.read_image(_folder_item(root, "b_int32.tif")[1])
    ok = ImageFolderDataset(root, split="test", img_size=16, skip_bad=True)
    assert len(ok) == 1 and ok.bad_files == [("images/a_float.tif", "unsupported pixel format"),
                                             ("images/b_int32.tif", "unsupported pixel format")]


def test_images_below_min_side_are_refused(tmp_path):
    root = tmp_path / "folder"
    _save(root / "images/a_tiny.png", _rgb(1, 1))
    _save(root / "images/b_thin.png", _rgb(3, 40))           # short side 3 < 16 // 4
    _save(root / "images/c_ok.png", _rgb(4, 40))             # short side 4 = 16 // 4: accepted
    ds = ImageFolderDataset(root, split="test", img_size=16)
    assert ds.min_side == 4
    with pytest.raises(DatasetError, match=r"a_tiny\.png is 1x1: its short side is below min_side=4 px.*Fix"):
        ds[0]
    with pytest.raises(DatasetError) as e:
        ds[1]
    assert e.value.reason == "image too small"
    check_contract(ds[2], 16, "folder", labels=False)
    ev = ImageFolderDataset(root, split="test", img_size=16, skip_bad=True)
    assert len(ev) == 1 and ev[0]["meta"]["file"] == "images/c_ok.png"
    assert ev.bad_files == [("images/a_tiny.png", "image too small"), ("images/b_thin.png", "image too small")]
    assert ImageFolderDataset(root, split="test", img_size=256).min_side == 64       # the default: img_size // 4
    assert len(ImageFolderDataset(root, split="test", img_size=16, min_side=0, validate=True)) == 3
    with pytest.raises(DatasetError, match="min_side=5"):
        ImageFolderDataset(root, split="test", img_size=16, min_side=5)[2]
    with pytest.raises(ValueError, match="min_side"):
        ImageFolderDataset(root, split="test", img_size=16, min_side=-1)


# ---------------------------------------------------------------------------------------------- masks
def test_fixed_mask_set_i_mod_n(tmp_path):
    ms = FakeMaskSet(32, n=3)
    ds = ToyScenesDataset(tmp_path, split="test", img_size=32, num_images=5, cache=False, mask_set=ms)
    for i in range(5):
        s = ds[i]
        assert torch.equal(s["mask"][0], torch.from_numpy(ms[i % 3].astype(np.float32)))
        assert s["meta"]["mask_id"] == ms.names[i % 3]
        assert s["meta"]["hole_ratio"] == pytest.approx(ms[i % 3].mean())
    with pytest.raises(DatasetError, match="img_size"):
        ToyScenesDataset(tmp_path, split="test", img_size=64, num_images=2, cache=False, mask_set=ms)


def test_mask_set_from_path(tmp_path):
    masks = pytest.importorskip("masks")
    ms = masks.make_mask_set(tmp_path / "ms", dict(type="freeform"), count=2, seed=1, size=32, progress=False)
    ds = ToyScenesDataset(tmp_path, split="test", img_size=32, num_images=3, cache=False, mask_set=str(ms.root))
    assert ds[2]["meta"]["mask_id"] == ms.names[0] and torch.equal(ds[2]["mask"][0].byte(), torch.from_numpy(ms[0]))


def test_random_training_masks_reproducible(tmp_path):
    kw = dict(split="train", img_size=32, num_images=2, cache=False, masks=FakeGenerator(32), seed=7)
    a, b = ToyScenesDataset(tmp_path, **kw), ToyScenesDataset(tmp_path, **kw)
    first = [a[0]["mask"] for _ in range(3)]
    assert torch.equal(first[0], b[0]["mask"]) and not torch.equal(first[0], first[1])
    assert torch.equal(first[1], b[0]["mask"])  # second visit of b equals second visit of a
    a.set_epoch(1)
    b.set_epoch(1)
    assert torch.equal(a[1]["mask"], b[1]["mask"]) and a[0]["meta"]["mask_id"] is None
    c = ToyScenesDataset(tmp_path, **dict(kw, seed=8))
    assert not torch.equal(c[0]["mask"], first[0])


def test_mask_generator_config_through_registry(tmp_path):
    pytest.importorskip("masks")
    ds = ToyScenesDataset(tmp_path, split="train", img_size=32, num_images=1, cache=False,
                          masks=dict(type="center", hole_ratio=0.5))
    m = ds[0]["mask"][0]
    assert m.shape == (32, 32) and m.sum() == 16 * 16


# ---------------------------------------------------------------------------------------------- toy
def test_toy_render_deterministic_and_varied():
    a_img, a_lab = render_scene(scene_rng(0, "train", 5), 64)
    b_img, b_lab = render_scene(scene_rng(0, "train", 5), 64)
    assert np.array_equal(a_img, b_img) and np.array_equal(a_lab, b_lab)
    assert a_img.shape == (64, 64, 3) and a_img.dtype == np.uint8 and a_lab.shape == (64, 64)
    c_img, _ = render_scene(scene_rng(0, "test", 5), 64)  # test split: another stream
    assert not np.array_equal(a_img, c_img)
    img256, lab256 = render_scene(scene_rng(0, "train", 0), 256)
    assert img256.shape == (256, 256, 3) and set(np.unique(lab256)) <= set(range(8)) | {255}


def test_toy_every_class_appears():
    seen = set()
    for i in range(12):
        _, lab = render_scene(scene_rng(0, "train", i), 64)
        seen |= set(np.unique(lab).tolist())
    assert set(range(8)) <= seen and 255 in seen


def test_toy_cache_matches_memory_and_is_reused(tmp_path):
    cached = ToyScenesDataset(tmp_path / "toy", split="test", img_size=32, num_images=4)
    mem = ToyScenesDataset(tmp_path / "other", split="test", img_size=32, num_images=4, cache=False)
    for i in (0, 3):
        s, t = cached[i], mem[i]
        check_contract(s, 32, "toy")
        assert torch.equal(s["img"], t["img"]) and torch.equal(s["seg"], t["seg"])
        assert s["meta"]["file"] == t["meta"]["file"] == f"32-s0/test/images/{i:05d}.png"
    assert (tmp_path / "toy/32-s0/test/labels/00003.png").is_file()
    assert (tmp_path / "toy/32-s0/test/manifest.json").is_file()
    assert cached.generate(4) == 0  # manifest says done: nothing re-rendered
    (tmp_path / "toy/32-s0/test/images/00001.png").write_bytes(b"broken")
    with pytest.raises(DatasetError, match=r"00001\.png.*delete"):
        ToyScenesDataset(tmp_path / "toy", split="test", img_size=32, num_images=4)[1]
    small = ToyScenesDataset(tmp_path / "toy2", split="train", img_size=32, max_samples=3)
    assert len(small) == 3 and len(list((tmp_path / "toy2/32-s0/train/images").iterdir())) == 3


# ---------------------------------------------------------------------------------------------- others
def test_folder_dataset_with_labels(tmp_path):
    root = tmp_path / "folder"
    _save(root / "images/a/x.jpg", _rgb(20, 20))
    _save(root / "images/b.png", _rgb(20, 20, 1))
    _save(root / "labels/a/x.png", np.full((20, 20), 2, np.uint8))
    _save(root / "labels/b.png", np.full((20, 20), 255, np.uint8))
    ds = ImageFolderDataset(root, split="test", img_size=16, seg_dir="labels", num_classes=3)
    assert len(ds) == 2 and ds.num_classes == 3
    check_contract(ds[0], 16, "folder")
    assert ds[0]["meta"]["file"] == "images/a/x.jpg" and int(ds[0]["seg"][0, 0]) == 2
    unl = ImageFolderDataset(root, split="train", img_size=16)
    check_contract(unl[1], 16, "folder", labels=False)
    with pytest.raises(DatasetError, match="outside the class range 0..1"):
        ImageFolderDataset(root, split="test", img_size=16, seg_dir="labels", num_classes=2)[0]


def test_places2_list_file_and_val(tmp_path):
    root = tmp_path / "places2"
    _save(root / "data_large/a/abbey/00000001.jpg", _rgb(24, 32))
    _save(root / "val_large/Places365_val_00000001.jpg", _rgb(24, 32, 1))
    (root / "places365_train_standard.txt").write_text("/a/abbey/00000001.jpg 0\n/a/abbey/00000002.jpg 0\n")
    train = Places2Dataset(root, split="train", img_size=16)
    assert len(train) == 2 and train.num_classes == 0
    check_contract(train[0], 16, "places2", labels=False)
    with pytest.raises(DatasetError, match=r"00000002\.jpg does not exist"):
        train[1]
    test = Places2Dataset(root, split="test", img_size=16)
    assert test[0]["meta"]["file"] == "val_large/Places365_val_00000001.jpg"


def test_collate_keeps_meta_list(tmp_path):
    root = make_ost(tmp_path / "outdoor", n_test=2)
    ds = OutdoorScenesDataset(root, split="test", img_size=32)
    batch = inpaint_collate([ds[0], ds[1]])
    assert batch["img"].shape == (2, 3, 32, 32) and batch["mask"].shape == (2, 1, 32, 32)
    assert batch["seg"].shape == (2, 32, 32) and batch["seg"].dtype == torch.int64
    assert isinstance(batch["meta"], list) and [m["index"] for m in batch["meta"]] == [0, 1]
    loader = torch.utils.data.DataLoader(ds, batch_size=2, collate_fn=inpaint_collate)
    assert next(iter(loader))["meta"][1]["file"] == "OutdoorSceneTest300/OST_002.png"
    with pytest.raises(ValueError, match="keys"):
        inpaint_collate([ds[0], {k: v for k, v in ds[1].items() if k != "seg"}])
    from mmengine.registry import FUNCTIONS as ROOT_FUNCTIONS, DefaultScope
    assert FUNCTIONS.get("inpaint_collate") is inpaint_collate
    with DefaultScope.overwrite_default_scope("bench"):
        assert ROOT_FUNCTIONS.get("inpaint_collate") is inpaint_collate  # what mmengine's Runner does


@pytest.mark.parametrize("name", ["toy", "outdoor", "cityscapes", "places2", "folder"])
def test_dataset_configs(name):
    from mmengine.config import Config

    cfg = Config.fromfile(str(CONFIGS / f"{name}.py"))
    assert cfg.dataset_name == name and cfg.data_subdir == name
    assert "img_size" not in cfg  # the preset owns it
    assert {"num_classes", "center_hole_ratio", "train_dataset", "test_dataset"} <= set(cfg.keys())
    assert cfg.train_dataset.split == "train" and cfg.test_dataset.split == "test"
    assert DATASETS.get(cfg.train_dataset.type) is DATASETS.get(cfg.test_dataset.type) is not None
    assert cfg.center_hole_ratio == (0.375 if name == "cityscapes" else 0.5)


def test_toy_config_builds(tmp_path):
    from mmengine.config import Config

    cfg = Config.fromfile(str(CONFIGS / "toy.py"))
    ds = DATASETS.build(dict(cfg.test_dataset, data_root=str(tmp_path / "toy"), img_size=32, num_images=2))
    assert len(ds) == 2 and ds.num_classes == cfg.num_classes
    check_contract(ds[1], 32, "toy")


def test_describe_datasets(tmp_path):
    make_ost(tmp_path / "outdoor", n_train=3, n_test=2)
    make_cityscapes(tmp_path / "cityscapes")
    rows = {r["name"]: r for r in describe_datasets(tmp_path)}
    assert set(rows) == {"toy", "outdoor", "cityscapes", "places2", "folder"}
    assert rows["outdoor"]["found"] and (rows["outdoor"]["n_train"], rows["outdoor"]["n_test"]) == (3, 2)
    assert rows["cityscapes"]["found"] and (rows["cityscapes"]["n_train"], rows["cityscapes"]["n_test"]) == (2, 1)
    assert rows["toy"]["found"] and rows["toy"]["n_train"] == 1000
    assert not rows["places2"]["found"] and rows["places2"]["n_test"] is None
    assert "val_large" in rows["places2"]["expected_tree"] and rows["places2"]["path"] == str(tmp_path / "places2")
