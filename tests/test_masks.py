"""Tests of the ``masks`` package: generators, fixed mask sets, NVIDIA loader."""
from __future__ import annotations

import json
import os
import re
import shutil

import numpy as np
import pytest
from PIL import Image

import masks
from bench.registry import MASK_GENERATORS
from masks import (MaskGenerationError, MaskSet, MaskSetError, bbox_mask, box_freeform_mask,
                   bucketed_freeform_mask, center_mask, default_mask_set, freeform_mask, load_nvidia_masks,
                   make_mask_set, make_mask_set_from_folder, random_bbox, show_mask_set, verify_mask_set)


def rng(*seed):
    return np.random.default_rng(list(seed))


# ---- generators ----------------------------------------------------------------------------------
@pytest.mark.parametrize("size,hole,top", [(256, 128, 64), (256, 96, 80), (64, 32, 16)])
def test_center_mask_exact(size, hole, top):
    m = center_mask(size, hole)
    assert m.dtype == np.uint8 and m.shape == (size, size)
    assert int(m.sum()) == hole * hole
    ys, xs = np.nonzero(m)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (top, top + hole - 1, top, top + hole - 1)
    assert ys.min() == size - 1 - ys.max()  # centred


def test_center_generator_and_rectangles():
    g = MASK_GENERATORS.build(dict(type="center", size=(200, 300), hole=(50, 100)))
    m = g(None)
    assert m.shape == (200, 300) and int(m.sum()) == 5000 and m[75:125, 100:200].all()
    assert MASK_GENERATORS.build(dict(type="center", size=256)).params["hole"] == [128, 128]  # hole_ratio 0.5
    with pytest.raises(ValueError, match="does not fit"):
        center_mask(64, 65)


@pytest.mark.parametrize("cfg", [
    dict(type="center", hole=16), dict(type="freeform"), dict(type="box_freeform"),
    dict(type="bucketed_freeform", ratio_range=(0.2, 0.3))])
def test_registered_generators_deterministic(cfg):
    g = MASK_GENERATORS.build(dict(cfg, size=(48, 64)))
    a, b = g(rng(7, 1)), g(rng(7, 1))
    assert a.dtype == np.uint8 and a.shape == (48, 64) and set(np.unique(a)) <= {0, 1}
    np.testing.assert_array_equal(a, b)
    params = json.loads(json.dumps(g.params))  # JSON-serialisable, includes the name
    assert params["type"] == cfg["type"]
    rebuilt = MASK_GENERATORS.build(params)
    np.testing.assert_array_equal(rebuilt(rng(7, 1)), a)


def test_freeform_varies_with_rng_and_stays_in_image():
    ms = [freeform_mask(64, rng(0, i)) for i in range(20)]
    assert len({m.tobytes() for m in ms}) == 20
    assert all(m.shape == (64, 64) and m.any() for m in ms)


def test_flip_option():
    flipped = 0
    for i in range(20):
        plain, f = freeform_mask(64, rng(1, i)), freeform_mask(64, rng(1, i), flip=True)
        variants = [plain, plain[:, ::-1], plain[::-1], plain[::-1, ::-1]]
        assert any(np.array_equal(f, v) for v in variants)
        flipped += not np.array_equal(f, plain)
    assert flipped > 5  # official flips are no-ops, so flip=False (default) never flips


def _ratios(fn, n, size):
    return np.array([fn(size, rng(123, i)).mean() for i in range(n)])


# Documented at 256×256 (docs anchors METHODS.md §2.4, 3,000 samples of the official code):
# strokes 0.150 (p5 0.036, p95 0.291); bbox ∪ strokes 0.311 (p5 0.206, p95 0.437).
@pytest.mark.parametrize("fn,mean,p5,p95", [
    (freeform_mask, 0.150, 0.036, 0.291),
    (box_freeform_mask, 0.311, 0.206, 0.437),
])
def test_deepfill_hole_statistics_256(fn, mean, p5, p95):
    r = _ratios(fn, 3000, 256)
    assert abs(r.mean() - mean) < 0.02
    assert abs(np.percentile(r, 5) - p5) < 0.02
    assert abs(np.percentile(r, 95) - p95) < 0.03


def test_width_scaling_keeps_statistics_at_64():
    r = _ratios(freeform_mask, 1000, 64)
    assert abs(r.mean() - 0.150) < 0.02
    unscaled = np.array([freeform_mask(64, rng(123, i), scale_width=False).mean() for i in range(200)])
    assert unscaled.mean() > r.mean() + 0.1  # 256-pixel widths on a 64 image: much bigger holes


def test_official_box():
    for i in range(200):
        top, left, h, w = random_bbox(256, rng(5, i))
        assert (h, w) == (128, 128) and 0 <= top < 128 and 0 <= left < 128
        m = bbox_mask(256, (top, left, h, w), rng(6, i))
        ys, xs = np.nonzero(m)
        bh, bw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        assert 96 <= bh <= 128 and 96 <= bw <= 128 and bh % 2 == 0 and bw % 2 == 0  # same shrink both sides
        assert int(m.sum()) == bh * bw
        assert ys.min() - top == top + h - 1 - ys.max()
    assert random_bbox(64, rng(0))[2:] == (32, 32)  # scaled with the size


@pytest.mark.parametrize("bucket", masks.NVIDIA_BUCKETS)
def test_bucketed_masks_fall_in_bucket(bucket):
    lo, hi = bucket
    r = np.array([bucketed_freeform_mask(64, rng(9, i), bucket).mean() for i in range(15)])
    assert ((r > lo) & (r <= hi)).all(), r


def test_bucketed_gives_up_with_clear_error():
    with pytest.raises(MaskGenerationError, match=r"after 3 attempts"):
        bucketed_freeform_mask(64, rng(0), (0.98, 0.99), max_attempts=3, max_strokes=2)
    with pytest.raises(ValueError, match="ratio_range"):
        bucketed_freeform_mask(64, rng(0), (0.5, 0.2))


# ---- fixed mask sets ------------------------------------------------------------------------------
GEN = dict(type="freeform")


def _files(d):
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def test_same_seed_byte_identical_different_seed_differs(tmp_path):
    a = make_mask_set(tmp_path / "a", GEN, count=12, seed=3, size=64, progress=False)
    b = make_mask_set(tmp_path / "b", GEN, count=12, seed=3, size=64, progress=False)
    c = make_mask_set(tmp_path / "c", GEN, count=12, seed=4, size=64, progress=False)
    fa, fb, fc = _files(a.root), _files(b.root), _files(c.root)
    assert len(fa) == 13 and fa == fb  # 12 PNGs + manifest, byte for byte
    assert a.sha256 == b.sha256 != c.sha256
    assert sum(fa[n] != fc[n] for n in a.names) >= 11
    # masks are generator(default_rng([seed, i])), stored as 255 = hole
    g = MASK_GENERATORS.build(dict(GEN, size=64))
    np.testing.assert_array_equal(a[5], g(np.random.default_rng([3, 5])))
    assert set(np.unique(np.asarray(Image.open(a.path(5))))) <= {0, 255}
    assert Image.open(a.path(0)).mode == "L"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folders left


def test_manifest_and_access(tmp_path):
    ms = make_mask_set(tmp_path / "s", dict(GEN, size=(32, 48)), count=5, seed=1, progress=False)
    m = json.loads((ms.root / "manifest.json").read_text())
    assert (m["generator"], m["seed"], m["size"], m["count"]) == ("freeform", 1, [32, 48], 5)
    assert m["params"]["type"] == "freeform" and m["params"]["num_strokes"] == [1, 4]
    assert [f["name"] for f in m["files"]] == [f"{i:05d}.png" for i in range(5)]
    loaded = MaskSet.load(ms.root)
    assert len(loaded) == 5 and loaded.size == (32, 48) and loaded.sha256 == m["sha256"]
    np.testing.assert_allclose(loaded.hole_ratios, [loaded[i].mean() for i in range(5)])
    assert loaded[-1].shape == (32, 48) and loaded[4].dtype == np.uint8
    with pytest.raises(IndexError):
        loaded[5]
    assert loaded.verify() == []


def test_refuses_to_overwrite_different_set(tmp_path):
    out = tmp_path / "s"
    first = make_mask_set(out, GEN, count=4, seed=1, size=32, progress=False)
    again = make_mask_set(out, GEN, count=4, seed=1, size=32, progress=False)  # identical: reused
    assert again.sha256 == first.sha256
    with pytest.raises(MaskSetError, match=r"different mask set.*seed.*Delete"):
        make_mask_set(out, GEN, count=4, seed=2, size=32, progress=False)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.txt").write_text("x")
    with pytest.raises(MaskSetError, match="junk.*not a mask set"):
        make_mask_set(tmp_path / "junk", GEN, count=2, seed=1, size=32, progress=False)
    with pytest.raises(ValueError, match="size"):
        make_mask_set(tmp_path / "t", dict(GEN, size=32), count=2, seed=1, size=64, progress=False)
    assert verify_mask_set(out).sha256 == first.sha256


def test_race_loser_loads_winner(tmp_path, monkeypatch):
    winner = make_mask_set(tmp_path / "w", GEN, count=3, seed=5, size=32, progress=False)
    out = tmp_path / "s"
    real_rename = os.rename

    def racing_rename(src, dst):  # another process finishes first
        shutil.copytree(winner.root, dst)
        return real_rename(src, dst)

    monkeypatch.setattr(masks.maskset.os, "rename", racing_rename)
    got = make_mask_set(out, GEN, count=3, seed=5, size=32, progress=False)
    assert got.root == out and got.sha256 == winner.sha256
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_verify_detects_flipped_pixel_missing_and_extra(tmp_path):
    ms = make_mask_set(tmp_path / "s", GEN, count=6, seed=0, size=32, progress=False)
    arr = np.asarray(Image.open(ms.path(2))).copy()
    arr[0, 0] = 255 - arr[0, 0]
    Image.fromarray(arr).save(ms.path(2))
    os.remove(ms.path(4))
    (ms.root / "99999.png").write_bytes(b"x")
    problems = MaskSet.load(ms.root).verify()
    text = "\n".join(problems)
    assert "00002.png: file changed" in text and "00002.png: mask pixels changed" in text
    assert "00004.png: missing" in text and "99999.png: extra file" in text
    assert not any(p.startswith(("00000", "00001", "00003", "00005")) for p in problems)
    assert MaskSet.load(ms.root).verify(quick=True) == ["00004.png: missing"]
    with pytest.raises(MaskSetError, match=r"(?s)00002\.png.*00004\.png: missing"):
        verify_mask_set(ms.root)


def test_verify_detects_edited_manifest(tmp_path):
    ms = make_mask_set(tmp_path / "s", GEN, count=2, seed=0, size=32, progress=False)
    m = json.loads((ms.root / "manifest.json").read_text())
    m["seed"] = 1
    (ms.root / "manifest.json").write_text(json.dumps(m))
    assert any("manifest.json: set sha256" in p for p in MaskSet.load(ms.root).verify(quick=True))


def test_load_errors_name_the_file(tmp_path):
    with pytest.raises(MaskSetError, match="does not exist"):
        MaskSet.load(tmp_path / "nope")
    d = tmp_path / "d"
    d.mkdir()
    with pytest.raises(MaskSetError, match=r"manifest\.json is missing.*bench masks make"):
        MaskSet.load(d)
    (d / "manifest.json").write_text("{not json")
    with pytest.raises(MaskSetError, match=r"manifest\.json is not valid JSON"):
        MaskSet.load(d)
    (d / "manifest.json").write_text(json.dumps({"schema_version": 1, "generator": "x"}))
    with pytest.raises(MaskSetError, match=r"manifest\.json is malformed: missing key 'params'"):
        MaskSet.load(d)


def test_default_sets(tmp_path):
    c = default_mask_set("center", 64, tmp_path, progress=False)
    assert c.root.name == "center-64x64-h32-n1-s0" and len(c) == 1
    np.testing.assert_array_equal(c[0], center_mask(64, 32))
    c96 = default_mask_set("center", 256, tmp_path, hole=96, progress=False)
    assert c96.root.name == "center-256x256-h96-n1-s0" and int(c96[0].sum()) == 96 * 96
    irr = default_mask_set("irregular", 32, tmp_path, count=4, progress=False)
    assert irr.root.name == "irregular-32x32-n4-s2021" and irr.generator == "freeform" and irr.seed == 2021
    assert default_mask_set("irregular", 32, tmp_path, count=4).sha256 == irr.sha256  # reused
    os.remove(irr.path(1))
    with pytest.raises(MaskSetError, match=r"(?s)00001\.png: missing.*Delete"):
        default_mask_set("irregular", 32, tmp_path, count=4)
    with pytest.raises(ValueError, match="hole"):
        default_mask_set("irregular", 32, tmp_path, hole=8)
    with pytest.raises(KeyError, match="center"):
        default_mask_set("nope", 32, tmp_path)


def test_show_mask_set(tmp_path):
    ms = make_mask_set(tmp_path / "s", GEN, count=5, seed=0, size=32, progress=False)
    sheet, hist = show_mask_set(ms.root, tmp_path / "out" / "sheet.png", max_masks=4)
    assert sheet.name == "sheet.png" and hist.name == "sheet_hist.png"
    assert Image.open(sheet).size == (2 + 2 * 34, 2 + 2 * 34)  # 2x2 grid of 32 px with 2 px gaps
    assert Image.open(hist).size[0] > 100


# ---- NVIDIA irregular test masks ------------------------------------------------------------------
FAKE = (0, 1999, 2000, 2001, 3999, 4000, 11999)


@pytest.fixture
def nvidia_folder(tmp_path):
    d = tmp_path / "testing_mask_dataset"
    d.mkdir()
    for i in FAKE:  # 16×16, white = hole; hole rows encode the index so we can check which file was read
        a = np.zeros((16, 16), np.uint8)
        a[: 1 + i % 15, :4] = 255
        Image.fromarray(a).save(d / f"{i:05d}.png")
    return d


def test_nvidia_bucket_indexing(nvidia_folder):
    allm = load_nvidia_masks(nvidia_folder, strict=False)
    assert allm.names == [f"{i:05d}.png" for i in FAKE] and allm.size == (16, 16)
    b1 = load_nvidia_masks(nvidia_folder, bucket=1, strict=False)
    assert b1.names == ["02000.png", "02001.png", "03999.png"] and b1.ratio_range == (0.1, 0.2)
    assert load_nvidia_masks(nvidia_folder, bucket=0, strict=False).names == ["00000.png", "01999.png"]
    assert load_nvidia_masks(nvidia_folder, bucket=5, strict=False).names == ["11999.png"]
    m = b1[1]  # 02001.png: rows [0, 1 + 2001 % 15) hole, white = hole
    assert m.dtype == np.uint8 and int(m.sum()) == (1 + 2001 % 15) * 4
    small = load_nvidia_masks(nvidia_folder, bucket=1, size=8, strict=False)
    # nearest neighbour (PIL samples pixel centres)
    assert small[1].shape == (8, 8) and int(small[1].sum()) == int(m[1::2, 1::2].sum())
    np.testing.assert_allclose(b1.hole_ratios, [b1[i].mean() for i in range(3)])
    with pytest.raises(IndexError):
        b1[3]
    with pytest.raises(MaskSetError, match=r"no masks of bucket 3"):
        load_nvidia_masks(nvidia_folder, bucket=3, strict=False)


def test_nvidia_bad_inputs(nvidia_folder, tmp_path):
    with pytest.raises(MaskSetError, match=r"incomplete: 11993 of 12000 masks missing \(00001\.png"):
        load_nvidia_masks(nvidia_folder)
    with pytest.raises(ValueError, match="bucket"):
        load_nvidia_masks(nvidia_folder, bucket=6, strict=False)
    with pytest.raises(MaskSetError, match="does not exist.*test_mask.zip"):
        load_nvidia_masks(tmp_path / "missing")
    (nvidia_folder / "02002.png").write_bytes(b"not a png")
    broken = load_nvidia_masks(nvidia_folder, bucket=1, strict=False)
    with pytest.raises(MaskSetError, match=r"02002\.png: cannot read mask image"):
        broken[2]
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(nvidia_folder / "02002.png")
    with pytest.raises(MaskSetError, match=r"02002\.png: mask is 8x8, expected 16x16"):
        load_nvidia_masks(nvidia_folder, bucket=1, strict=False)[2]
    (nvidia_folder / "mask_a.png").write_bytes(b"")
    with pytest.raises(MaskSetError, match=r"mask_a\.png: unexpected file name"):
        load_nvidia_masks(nvidia_folder, strict=False)


def test_mask_set_from_nvidia_folder(nvidia_folder, tmp_path):
    ms = make_mask_set_from_folder(tmp_path / "nv1", nvidia_folder, bucket=1, size=8, strict=False,
                                   progress=False)
    assert ms.generator == "nvidia_irregular" and ms.seed is None and ms.size == (8, 8)
    assert ms.params["bucket"] == 1 and ms.params["ratio_range"] == [0.1, 0.2]
    assert [f["source"] for f in ms.manifest["files"]] == ["02000.png", "02001.png", "03999.png"]
    src = load_nvidia_masks(nvidia_folder, bucket=1, size=8, strict=False)
    for i in range(3):
        np.testing.assert_array_equal(ms[i], src[i])
    assert verify_mask_set(ms.root).sha256 == ms.sha256


# ---- integrity: checked reads, the manifest's own hash, result keys ---------------------------------
def _flip_pixel(path):
    arr = np.asarray(Image.open(path)).copy()
    arr[0, 0] = 255 - arr[0, 0]
    Image.fromarray(arr).save(path)


def _edit_manifest(root, rehash=False, **changes):
    m = json.loads((root / "manifest.json").read_text())
    m.update(changes)
    if rehash:  # a consistent forgery: the set hash recomputed over the edited fields
        m["sha256"] = masks.set_sha256(m["generator"], m["params"], m["seed"], m["size"], m["count"], m["files"])
    (root / "manifest.json").write_text(json.dumps(m))


def test_reads_check_pixels_against_manifest(tmp_path):
    ms = make_mask_set(tmp_path / "s", GEN, count=4, seed=0, size=32, progress=False)
    _flip_pixel(ms.path(2))
    loaded = MaskSet.load(ms.root)
    loaded[1]  # untouched masks still read
    with pytest.raises(MaskSetError, match=r"00002\.png: mask pixels differ from manifest\.json.*bench masks make"):
        loaded[2]
    with pytest.raises(MaskSetError, match=r"00002\.png"):
        list(loaded)
    # an edited hole ratio (not part of any hash) is caught on read too
    m = json.loads((ms.root / "manifest.json").read_text())
    m["files"][0]["hole_ratio"] = 0.5
    (ms.root / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(MaskSetError, match=r"00000\.png: hole ratio .* differs from manifest\.json"):
        MaskSet.load(ms.root)[0]


def test_default_set_flipped_pixel_is_caught_on_read(tmp_path):
    c = default_mask_set("center", 32, tmp_path, progress=False)
    _flip_pixel(c.path(0))
    reused = default_mask_set("center", 32, tmp_path)  # the quick check reads no mask
    with pytest.raises(MaskSetError, match=r"(?s)00000\.png: mask pixels differ.*it is regenerated on next use"):
        reused[0]


@pytest.mark.parametrize("field,value", [("generator", "center"), ("params", {"type": "freeform"}),
                                         ("seed", 1), ("size", [32, 33]), ("count", 2)])
def test_verify_set_hash_catches_every_edited_field(tmp_path, field, value):
    ms = make_mask_set(tmp_path / "s", GEN, count=3, seed=0, size=32, progress=False)
    assert MaskSet.load(ms.root).verify_set_hash() == ms.sha256
    _edit_manifest(ms.root, **{field: value})
    with pytest.raises(MaskSetError, match=r"manifest\.json.*(edited|count).*bench masks make"):
        loaded = MaskSet.load(ms.root)  # 'count' is already refused here, as malformed
        loaded.verify_set_hash()
    # an edit of the loaded manifest in memory (what metrics.json would copy) is caught as well
    fresh = make_mask_set(tmp_path / "t", GEN, count=3, seed=0, size=32, progress=False)
    fresh.manifest[field] = value
    with pytest.raises(MaskSetError, match=r"manifest\.json"):
        fresh.verify_set_hash()


def test_default_set_reuse_catches_edited_fields_even_rehashed(tmp_path):
    c = default_mask_set("center", 32, tmp_path, progress=False)
    _edit_manifest(c.root, seed=5)
    with pytest.raises(MaskSetError, match=r"(?s)manifest\.json: set sha256 .*edited.*regenerated on next use"):
        default_mask_set("center", 32, tmp_path)
    shutil.rmtree(c.root)
    c = default_mask_set("center", 32, tmp_path, progress=False)
    _edit_manifest(c.root, rehash=True, generator="freeform")  # self-consistent, but not the default set
    with pytest.raises(MaskSetError, match=r"(?s)generator is 'freeform', expected 'center'.*Delete"):
        default_mask_set("center", 32, tmp_path)
    shutil.rmtree(c.root)
    c = default_mask_set("center", 32, tmp_path, progress=False)
    _edit_manifest(c.root, rehash=True, size=[16, 64])
    with pytest.raises(MaskSetError, match=r"(?s)size is \[16, 64\], expected \[32, 32\]"):
        default_mask_set("center", 32, tmp_path)


def test_mask_set_key_is_safe(tmp_path):
    from masks import mask_set_key

    ms = make_mask_set(tmp_path / "s", GEN, count=1, seed=0, size=16, progress=False)
    h = ms.sha256[:8]
    assert mask_set_key("center", None) == "center" and mask_set_key("irregular", ms) == "irregular"
    assert mask_set_key("/abs/dir", ms) == f"dir-{h}"
    assert mask_set_key("../x", ms) == f"x-{h}"
    assert mask_set_key("a/../../b", ms) == f"b-{h}"
    assert mask_set_key("dir/", ms) == f"dir-{h}"
    assert mask_set_key(str(ms.root), ms) == f"s-{h}"
    assert mask_set_key("./center", ms) == f"center-{h}"  # a folder never takes a default set's key
    for weird in ("..", ".", "/", ".hidden", "..x..y", "we ird/na$me:é", "-rf", "a\\..\\b"):
        key = mask_set_key(weird, ms)
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*-[0-9a-f]{8}", key), (weird, key)
        assert ".." not in key and "/" not in key and key.endswith(h)
    with pytest.raises(ValueError, match="needs its loaded MaskSet"):
        mask_set_key("some/dir", None)
    forged = MaskSet.load(ms.root)
    forged.manifest["sha256"] = "../../etc"
    with pytest.raises(MaskSetError, match=r"manifest\.json.*not a hex digest"):
        mask_set_key("some/dir", forged)
