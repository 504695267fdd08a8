"""Fixed evaluation mask sets: a folder of PNGs plus ``manifest.json``.

Layout of a set folder::

    00000.png 00001.png ...   8-bit grayscale ("L") PNG, 255 = hole, 0 = known, all of one size
    manifest.json             see below

``manifest.json`` (schema version 1)::

    schema          "inpaint-bench/maskset"
    schema_version  1
    generator       registry name of the generator ("freeform", "center", "nvidia_irregular", ...)
    params          the generator's ``params`` (JSON), enough to rebuild it with MASK_GENERATORS
    seed            int, or null for sets not drawn from an RNG (copied folders)
    size            [H, W]
    count           number of masks
    sha256          whole-set hash, see :func:`set_sha256`
    mean_hole_ratio mean of the per-file hole ratios (informational)
    created_with    versions of numpy / Pillow / Python (informational, not hashed)
    files           [{name, hole_ratio, sha256, pixel_sha256}, ...] in index order; ``sha256`` is the
                    hash of the PNG file bytes (what ``sha256sum`` prints), ``pixel_sha256`` the hash of
                    the decoded mask (H×W uint8 0/1, C order, ``tobytes()``). Folder-made sets also have
                    ``source`` (the original file name).

Mask *i* is drawn with ``np.random.default_rng([seed, i])``, so a set depends only on (generator,
params, seed, size, count) and is byte-identical on every machine with the same Pillow/zlib (PNGs are
written with fixed options and no metadata). The whole-set hash is built from the *pixel* hashes, so it
identifies the same masks even where a different zlib compresses the PNGs differently.

Every read ``ms[i]`` is checked against the manifest (pixel sha256, hole ratio) and
:meth:`MaskSet.verify_set_hash` checks the manifest against its own hash, so neither a changed mask
nor an edited manifest field reaches a result unnoticed. :func:`mask_set_key` names a set in results folders.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from PIL import Image

from bench.io import atomic_write_bytes, atomic_write_json
from masks.generators import as_size, build_mask_generator

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "MANIFEST",
    "MaskSetError",
    "MaskSet",
    "make_mask_set",
    "verify_mask_set",
    "default_mask_set",
    "show_mask_set",
    "set_sha256",
    "encode_mask_png",
    "read_mask_png",
    "mask_name",
    "mask_set_key",
    "DEFAULT_SETS",
]

SCHEMA = "inpaint-bench/maskset"
SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
_NAME_RE = re.compile(r"^\d{5,}\.png$")
_REQUIRED = {"schema_version": int, "generator": str, "params": dict, "size": list, "count": int,
             "sha256": str, "files": list}
_FILE_KEYS = ("name", "hole_ratio", "sha256", "pixel_sha256")


class MaskSetError(ValueError):
    """A mask set (or mask folder) is missing, malformed, changed, or would be overwritten."""


# ---- PNG and hashes -----------------------------------------------------------------------------
def mask_name(index: int) -> str:
    """File name of mask ``index``: ``00000.png``, ``00001.png``, ..."""
    return f"{index:05d}.png"


def encode_mask_png(mask: np.ndarray) -> bytes:
    """A {0, 1} H×W mask as deterministic 8-bit grayscale PNG bytes (255 = hole).

    Fixed options: mode "L", ``compress_level=6``, ``optimize=False``, no metadata chunks (Pillow writes
    no time stamp unless asked), so equal masks give equal bytes for a given Pillow/zlib.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask must be H×W, got shape {mask.shape}")
    img = Image.fromarray(np.where(mask != 0, 255, 0).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6, optimize=False)
    return buf.getvalue()


def read_mask_png(path, size=None, *, threshold: int = 127, data: bytes | None = None) -> np.ndarray:
    """Read a mask PNG as uint8 H×W with 1 = hole (pixel > ``threshold``).

    Raises :class:`MaskSetError` naming the file when it cannot be decoded or has the wrong size.
    """
    path = Path(path)
    try:
        with Image.open(io.BytesIO(data) if data is not None else path) as img:
            img.load()
            if img.mode not in ("L", "1", "P", "I", "I;16", "LA", "RGB", "RGBA"):
                raise MaskSetError(f"{path}: unsupported image mode {img.mode!r} for a mask")
            gray = img.convert("L") if img.mode != "L" else img
            arr = np.asarray(gray)
    except FileNotFoundError:
        raise MaskSetError(f"{path}: mask file is missing") from None
    except MaskSetError:
        raise
    except Exception as e:  # PIL raises several types for broken files
        raise MaskSetError(f"{path}: cannot read mask image ({type(e).__name__}: {e})") from None
    if size is not None and arr.shape != as_size(size):
        raise MaskSetError(f"{path}: mask is {arr.shape[0]}x{arr.shape[1]}, expected "
                           f"{as_size(size)[0]}x{as_size(size)[1]}")
    return (arr > threshold).astype(np.uint8)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _pixel_sha256(mask01: np.ndarray) -> str:
    return _sha256(np.ascontiguousarray(mask01, dtype=np.uint8).tobytes())


def set_sha256(generator: str, params: dict, seed, size, count: int, files: Iterable[dict]) -> str:
    """Whole-set hash: SHA-256 of the UTF-8 bytes of the canonical JSON (``sort_keys=True``,
    separators ``(",", ":")``, ASCII) of::

        {"schema_version": 1, "generator": ..., "params": ..., "seed": ..., "size": [H, W],
         "count": N, "masks": [[name, pixel_sha256], ...] sorted by name}

    It changes with any pixel of any mask, any renamed/missing/extra mask and any parameter, and it
    does not depend on how the PNGs were compressed.
    """
    payload = {
        "schema_version": SCHEMA_VERSION,
        "generator": generator,
        "params": params,
        "seed": seed,
        "size": list(as_size(size)),
        "count": int(count),
        "masks": sorted([str(f["name"]), str(f["pixel_sha256"])] for f in files),
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return _sha256(text.encode("utf-8"))


def _versions() -> dict:
    import PIL

    return {"numpy": np.__version__, "pillow": PIL.__version__, "python": platform.python_version()}


# ---- the set ------------------------------------------------------------------------------------
class MaskSet:
    """A fixed on-disk mask set. ``ms[i]`` is mask *i* as uint8 H×W {0, 1} (1 = hole).

    Build with :meth:`load` (or :func:`make_mask_set` / :func:`default_mask_set`). Nothing but the
    manifest is read until a mask is indexed.
    """

    def __init__(self, root, manifest: dict):
        self.root = Path(root)
        self.manifest = manifest
        self._files = manifest["files"]
        self._names = [f["name"] for f in self._files]
        # how to repair this set, for error messages (default_mask_set says "delete it, it is regenerated")
        self.fix = (f"delete the folder {self.root} and regenerate it with `bench masks make ... --out "
                    f"{self.root}` (same generator, seed and count give the same masks)")

    # -- loading
    @classmethod
    def load(cls, root) -> "MaskSet":
        """Read ``root/manifest.json``; :class:`MaskSetError` (naming the file and the fix) if absent or bad."""
        root = Path(root)
        fix = (f"recreate it (`bench masks make ... --out {root}`, or delete the folder and let the "
               f"default set be regenerated)")
        if not root.is_dir():
            raise MaskSetError(f"mask set folder {root} does not exist; create it with `bench masks make` "
                               f"or pass the right folder")
        path = root / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise MaskSetError(f"{path} is missing: {root} is not a mask set; {fix}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise MaskSetError(f"{path} is not valid JSON ({e}); {fix}") from None
        problems = _manifest_problems(manifest)
        if problems:
            raise MaskSetError(f"{path} is malformed: {'; '.join(problems)}; {fix}")
        return cls(root, manifest)

    # -- sequence protocol
    def __len__(self) -> int:
        return len(self._files)

    def _index(self, i) -> int:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"mask index must be an int, got {type(i).__name__}")
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"mask index {i} out of range for a set of {n} masks ({self.root})")
        return int(i) % n

    def path(self, i) -> Path:
        return self.root / self._names[self._index(i)]

    def __getitem__(self, i) -> np.ndarray:
        """Mask ``i``, checked against the manifest on every read (pixel sha256 and hole ratio), so a
        changed file is never used silently; :class:`MaskSetError` naming the file and the fix otherwise.

        Hashing a 256×256 mask costs ~0.09 ms beside ~0.5 ms of PNG decoding (1000 reads: 0.54 s → 0.60 s,
        measured on 2 cores), so nothing is cached.
        """
        k = self._index(i)
        path = self.root / self._names[k]
        mask = read_mask_png(path, self.size)
        entry = self._files[k]
        digest = _pixel_sha256(mask)
        if digest != entry["pixel_sha256"]:
            raise MaskSetError(f"{path}: mask pixels differ from {MANIFEST} (pixel sha256 {digest[:16]}…, "
                               f"manifest {str(entry['pixel_sha256'])[:16]}…): the file was changed; {self.fix}")
        ratio = float(np.count_nonzero(mask)) / mask.size
        if not isinstance(entry["hole_ratio"], (int, float)) or abs(ratio - entry["hole_ratio"]) > 1e-9:
            raise MaskSetError(f"{path}: hole ratio {ratio:.6f} differs from {MANIFEST}'s {entry['hole_ratio']!r} "
                               f"(the manifest was edited); {self.fix}")
        return mask

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self) -> str:
        return (f"MaskSet({str(self.root)!r}, generator={self.generator!r}, n={len(self)}, "
                f"size={self.size[0]}x{self.size[1]}, sha256={self.sha256[:12]}…)")

    # -- metadata
    @property
    def names(self) -> list[str]:
        return list(self._names)

    @property
    def paths(self) -> list[Path]:
        return [self.root / n for n in self._names]

    @property
    def hole_ratios(self) -> np.ndarray:
        return np.array([f["hole_ratio"] for f in self._files], dtype=np.float64)

    @property
    def sha256(self) -> str:
        return self.manifest["sha256"]

    @property
    def size(self) -> tuple[int, int]:
        return as_size(self.manifest["size"])

    @property
    def generator(self) -> str:
        return self.manifest["generator"]

    @property
    def params(self) -> dict:
        return self.manifest["params"]

    @property
    def seed(self):
        return self.manifest.get("seed")

    def mask_id(self, i) -> str:
        """Stable id of mask *i* for per-image results: ``<set sha256[:12]>/<file name>``."""
        return f"{self.sha256[:12]}/{self._names[self._index(i)]}"

    # -- integrity
    def verify_set_hash(self) -> str:
        """Recompute the whole-set hash from this manifest's entries and fields; return it.

        :func:`set_sha256` covers ``generator``, ``params``, ``seed``, ``size``, ``count`` and every
        (name, pixel_sha256), so an edited field makes the recomputed hash differ from ``sha256`` and
        :class:`MaskSetError` (naming manifest.json and the fix) is raised: what results copy from the
        manifest is then what was hashed. Cheap (no mask is read); evaluation calls it once per set.
        """
        m = self.manifest
        path = self.root / MANIFEST
        problems = _manifest_problems(m)
        if not problems and (m["files"] != self._files or [f["name"] for f in self._files] != self._names):
            problems.append("file entries changed since the set was loaded")
        if not problems:
            expected = set_sha256(m["generator"], m["params"], m.get("seed"), m["size"], m["count"], self._files)
            if expected != m["sha256"]:
                problems.append(f"set sha256 {m['sha256']} does not match its generator/params/seed/size/count "
                                f"and file entries (recomputed {expected}): the manifest was edited")
        if problems:
            raise MaskSetError(f"{path}: {'; '.join(problems)}; {self.fix}")
        return m["sha256"]

    def verify(self, quick: bool = False) -> list[str]:
        """Problems found, as human-readable strings naming the file (empty list = all good).

        ``quick=True`` only checks the manifest's own hash and that every file exists (no reads);
        otherwise every PNG is read and its file hash, pixel hash, size and hole ratio rechecked, and
        unexpected files in the folder are reported.
        """
        m = self.manifest
        problems = []
        expected = set_sha256(m["generator"], m["params"], m.get("seed"), m["size"], m["count"], self._files)
        if expected != m["sha256"]:
            problems.append(f"{MANIFEST}: set sha256 {m['sha256']} does not match its contents "
                            f"(recomputed {expected}); the manifest was edited")
        present = {p.name for p in self.root.iterdir() if p.is_file()} if self.root.is_dir() else set()
        for entry in self._files:
            name = entry["name"]
            if name not in present:
                problems.append(f"{name}: missing")
                continue
            if quick:
                continue
            data = (self.root / name).read_bytes()
            if _sha256(data) != entry["sha256"]:
                problems.append(f"{name}: file changed (sha256 {_sha256(data)[:16]}…, manifest "
                                f"{entry['sha256'][:16]}…)")
            try:
                mask = read_mask_png(self.root / name, self.size, data=data)
            except MaskSetError as e:
                problems.append(f"{name}: {str(e).split(': ', 1)[-1]}")
                continue
            if _pixel_sha256(mask) != entry["pixel_sha256"]:
                problems.append(f"{name}: mask pixels changed ({int(np.count_nonzero(mask))} hole pixels, "
                                f"hole ratio {mask.mean():.4f} vs manifest {entry['hole_ratio']:.4f})")
        if not quick:
            known = set(self._names) | {MANIFEST}
            for extra in sorted(present - known):
                if not extra.startswith("."):
                    problems.append(f"{extra}: extra file not in {MANIFEST}")
        return problems


def _manifest_problems(m) -> list[str]:
    if not isinstance(m, dict):
        return ["top level is not a JSON object"]
    problems = []
    for key, typ in _REQUIRED.items():
        if key not in m:
            problems.append(f"missing key {key!r}")
        elif not isinstance(m[key], typ) or (typ is int and isinstance(m[key], bool)):
            problems.append(f"key {key!r} should be {typ.__name__}, got {type(m[key]).__name__}")
    if problems:
        return problems
    if m["schema_version"] != SCHEMA_VERSION:
        problems.append(f"schema_version {m['schema_version']} is not supported (this code reads "
                        f"{SCHEMA_VERSION})")
    try:
        as_size(m["size"])
    except ValueError as e:
        problems.append(f"bad size: {e}")
    if m["count"] != len(m["files"]):
        problems.append(f"count {m['count']} but {len(m['files'])} file entries")
    names = set()
    for k, f in enumerate(m["files"]):
        if not isinstance(f, dict) or any(key not in f for key in _FILE_KEYS):
            problems.append(f"files[{k}] needs keys {', '.join(_FILE_KEYS)}")
            continue
        name = f["name"]
        if not isinstance(name, str) or not _NAME_RE.match(name) or name in names:
            problems.append(f"files[{k}]: bad or duplicate name {name!r}")
        names.add(name)
    return problems


def verify_mask_set(root, quick: bool = False) -> MaskSet:
    """Load and fully verify a set; :class:`MaskSetError` listing every problem if anything is off."""
    ms = MaskSet.load(root)
    problems = ms.verify(quick=quick)
    if problems:
        listing = "\n  ".join(problems)
        raise MaskSetError(f"mask set {ms.root} failed verification ({len(problems)} problem(s)):\n  {listing}\n"
                           f"Delete the folder and recreate it with `bench masks make` (same generator, "
                           f"seed and count give the same masks).")
    return ms


# ---- writing ------------------------------------------------------------------------------------
def _write_set(out_dir, masks: Callable[[int], np.ndarray], *, count: int, generator: str, params: dict,
               seed, size, progress: bool, sources: list[str] | None = None,
               extra: dict | None = None) -> MaskSet:
    """Write ``count`` masks into a temp folder beside ``out_dir``, then rename it into place."""
    out_dir = Path(out_dir)
    H, W = as_size(size)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    count = int(count)
    existing = _existing_set(out_dir)
    if existing is not None:
        differs = [k for k, v in (("generator", generator), ("params", params), ("seed", seed),
                                  ("size", [H, W]), ("count", count)) if existing.manifest.get(k) != v]
        if differs:
            raise MaskSetError(
                f"{out_dir} already holds a different mask set ({', '.join(differs)} differ: "
                f"{', '.join(f'{k}={existing.manifest.get(k)!r}' for k in differs)}); refusing to overwrite. "
                f"Delete {out_dir} or choose another output folder.")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-"))
    try:
        from tqdm.auto import tqdm

        files = []
        for i in tqdm(range(count), desc=f"masks → {out_dir.name}", unit="mask", disable=not progress,
                      leave=False):
            mask = np.asarray(masks(i))
            if mask.shape != (H, W):
                raise MaskSetError(f"mask {i} for {out_dir} is {mask.shape}, expected {(H, W)}")
            mask = (mask != 0).astype(np.uint8)
            data = encode_mask_png(mask)
            name = mask_name(i)
            (tmp / name).write_bytes(data)
            entry = {"name": name, "hole_ratio": float(np.count_nonzero(mask)) / (H * W),
                     "sha256": _sha256(data), "pixel_sha256": _pixel_sha256(mask)}
            if sources is not None:
                entry["source"] = sources[i]
            files.append(entry)
        manifest = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "generator": generator,
            "params": params,
            "seed": seed,
            "size": [H, W],
            "count": count,
            "sha256": set_sha256(generator, params, seed, (H, W), count, files),
            "mean_hole_ratio": float(np.mean([f["hole_ratio"] for f in files])),
            "created_with": _versions(),
            **(extra or {}),
            "files": files,
        }
        atomic_write_json(tmp / MANIFEST, manifest)
        if existing is not None:
            return _keep_existing(existing, manifest, out_dir)
        try:
            os.rename(tmp, out_dir)  # atomic; also replaces an empty folder
        except OSError:
            winner = _existing_set(out_dir)  # another process got there first
            if winner is None:
                raise
            return _keep_existing(winner, manifest, out_dir)
        tmp = None
        _fsync_dir(out_dir.parent)
        return MaskSet(out_dir, manifest)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _existing_set(out_dir: Path) -> MaskSet | None:
    """The set already at ``out_dir``; None if absent or an empty folder; error if something else is there."""
    if not out_dir.exists():
        return None
    if not out_dir.is_dir():
        raise MaskSetError(f"{out_dir} exists and is not a folder; choose another output path")
    if not (out_dir / MANIFEST).exists():
        if any(out_dir.iterdir()):
            raise MaskSetError(f"{out_dir} exists, is not empty and has no {MANIFEST} (not a mask set); "
                               f"refusing to write into it. Delete it or choose another output folder.")
        return None
    return MaskSet.load(out_dir)


def _keep_existing(existing: MaskSet, manifest: dict, out_dir: Path) -> MaskSet:
    if existing.sha256 != manifest["sha256"]:
        raise MaskSetError(
            f"{out_dir} already holds a mask set with the same parameters but different masks "
            f"(sha256 {existing.sha256[:16]}… vs newly generated {manifest['sha256'][:16]}…; made with "
            f"{existing.manifest.get('created_with')}, now {manifest['created_with']}); refusing to "
            f"overwrite. Delete {out_dir} to regenerate it, or keep using it as is.")
    return existing


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def make_mask_set(out_dir, generator, count: int, seed: int, size=None, progress: bool = True) -> MaskSet:
    """Draw ``count`` masks from ``generator`` into the fixed set folder ``out_dir``.

    Args:
        generator: a config dict (``{'type': 'freeform', ...}``, ``size`` optional) or a generator
            object (``__call__(rng)``, ``params``, ``size``), e.g. from ``MASK_GENERATORS.build``.
        count: number of masks.
        seed: mask *i* uses ``np.random.default_rng([seed, i])``: any subset can be regenerated alone
            and the set does not depend on the machine.
        size: int or (H, W); fills the config's size, must agree with it if both are given.

    Writing goes to a temp folder beside ``out_dir`` renamed into place at the end, so a killed run
    leaves no half set. If ``out_dir`` already holds the identical set it is returned; a different set
    (or a non-empty non-set folder) raises :class:`MaskSetError` and nothing is overwritten.
    """
    gen = build_mask_generator(generator, size)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    seed = int(seed)
    params = json.loads(json.dumps(gen.params))  # normalise tuples → lists, check it is JSON
    name = params.get("type") or getattr(gen, "name", type(gen).__name__)
    return _write_set(out_dir, lambda i: gen(np.random.default_rng([seed, i])), count=count,
                      generator=name, params=params, seed=seed, size=gen.size, progress=progress)


# ---- default sets -------------------------------------------------------------------------------
#: The project's default evaluation sets (``default_mask_set``).
#: * ``center``: the paper's central square hole; side ``size // 2`` (128 on 256) unless ``hole`` is given
#:   (96 for Cityscapes); one mask (every image gets it), seed unused (0).
#: * ``irregular``: the paper's "randomly placing multiple irregular masks based on GatedConv", i.e. the
#:   official DeepFill v2 brush strokes (``freeform``, widths scaled by size/256); 1000 masks, seed 2021.
DEFAULT_SETS = {
    "center": {"generator": {"type": "center"}, "count": 1, "seed": 0},
    "irregular": {"generator": {"type": "freeform"}, "count": 1000, "seed": 2021},
}


def default_mask_set(name: str, size, root, hole=None, count: int | None = None, seed: int | None = None,
                     progress: bool = True) -> MaskSet:
    """The default set ``name`` at ``size``, made on first use under
    ``root/<name>-<H>x<W>[-h<hole>]-n<count>-s<seed>/`` and reused afterwards.

    On reuse only a cheap check runs (manifest hash, files present, parameters as expected). Two
    processes racing to create it are safe: the loser's atomic rename fails and it loads the winner's.
    """
    if name not in DEFAULT_SETS:
        raise KeyError(f"unknown default mask set {name!r}; choose one of {', '.join(DEFAULT_SETS)}")
    H, W = as_size(size)
    spec = DEFAULT_SETS[name]
    gen_cfg = dict(spec["generator"], size=[H, W])
    count = spec["count"] if count is None else count
    seed = spec["seed"] if seed is None else seed
    folder = f"{name}-{H}x{W}"
    if name == "center":
        hole = as_size(hole if hole is not None else (H // 2, W // 2))
        gen_cfg["hole"] = list(hole)
        folder += f"-h{hole[0]}" if hole[0] == hole[1] else f"-h{hole[0]}x{hole[1]}"
    elif hole is not None:
        raise ValueError(f"default mask set {name!r} has no hole size; `hole` is only for 'center'")
    out = Path(root) / f"{folder}-n{count}-s{seed}"
    if not (out / MANIFEST).exists():
        return make_mask_set(out, gen_cfg, count=count, seed=seed, progress=progress)
    fix = f"delete {out}; it is regenerated on next use"
    try:
        ms = MaskSet.load(out)
        ms.fix = fix
        ms.verify_set_hash()
    except MaskSetError as e:
        raise MaskSetError(f"default mask set {out} is damaged or was made differently:\n  {e}") from None
    problems = ms.verify(quick=True)
    expected = json.loads(json.dumps(build_mask_generator(gen_cfg).params))
    gen_name = expected.get("type", spec["generator"]["type"])
    for key, want in (("generator", gen_name), ("params", expected), ("seed", seed), ("size", [H, W]),
                      ("count", count)):
        if ms.manifest.get(key) != want:
            problems.append(f"{MANIFEST}: {key} is {ms.manifest.get(key)!r}, expected {want!r}")
    if problems:
        raise MaskSetError(f"default mask set {out} is damaged or was made differently:\n  "
                           + "\n  ".join(problems) + f"\nDelete {out}; it is regenerated on next use.")
    return ms


_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def mask_set_key(name_or_path: str, ms=None) -> str:
    """A safe folder / JSON key for a mask set in results (``eval_state/<key>/``, ``samples/<key>/``,
    ``metrics.json``): a registered default name (``center``, ``irregular``) is its own key; a path gives
    ``<folder name>-<first 8 hex of the set sha256>``, the name reduced to ``[A-Za-z0-9._-]`` with no
    ``..`` and no leading ``.``, so no key can leave the results folder or collide with a default name.
    """
    name = str(name_or_path)
    if name in DEFAULT_SETS:
        return name
    if ms is None:
        raise ValueError(f"mask_set_key({name!r}): a mask-set folder needs its loaded MaskSet (for the sha256)")
    digest = str(getattr(ms, "sha256", ""))[:8]
    if not re.fullmatch(r"[0-9a-f]{8}", digest):
        raise MaskSetError(f"{Path(name) / MANIFEST}: sha256 {getattr(ms, 'sha256', None)!r} is not a hex "
                           f"digest; the manifest was edited; delete the folder and recreate it with "
                           f"`bench masks make ... --out {name}`")
    base = Path(os.path.abspath(os.path.expanduser(name))).name      # '..' and trailing '/' resolved away
    base = re.sub(r"\.{2,}", ".", _KEY_UNSAFE.sub("_", base)).lstrip(".-_")[:64] or "maskset"
    return f"{base}-{digest}"


# ---- visualisation ------------------------------------------------------------------------------
def _as_maskset(source):
    return source if hasattr(source, "__getitem__") and hasattr(source, "names") else MaskSet.load(source)


def show_mask_set(source, out_png, max_masks: int = 64, thumb: int = 128) -> tuple[Path, Path]:
    """Write a contact sheet (``out_png``: grid of the first ``max_masks`` masks, holes white, each
    shrunk to at most ``thumb`` px) and a hole-ratio histogram (``<out_png stem>_hist.png``, all masks).

    ``source`` is a set folder or a loaded set (``MaskSet`` or a folder loader). Returns both paths.
    """
    ms = _as_maskset(source)
    out_png = Path(out_png)
    n = min(len(ms), max_masks)
    if n == 0:
        raise MaskSetError(f"{getattr(ms, 'root', source)}: mask set is empty, nothing to show")
    H, W = ms.size
    s = min(1.0, thumb / max(H, W))
    th, tw = max(1, round(H * s)), max(1, round(W * s))
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    pad = 2
    sheet = np.full((rows * (th + pad) + pad, cols * (tw + pad) + pad), 128, np.uint8)
    for k in range(n):
        img = Image.fromarray(ms[k] * np.uint8(255))
        if (th, tw) != (H, W):
            img = img.resize((tw, th), Image.Resampling.BOX)
        r, c = divmod(k, cols)
        y, x = pad + r * (th + pad), pad + c * (tw + pad)
        sheet[y:y + th, x:x + tw] = np.asarray(img)
    buf = io.BytesIO()
    Image.fromarray(sheet).save(buf, format="PNG")
    atomic_write_bytes(out_png, buf.getvalue())

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ratios = np.asarray(ms.hole_ratios, dtype=np.float64)
    fig = Figure(figsize=(5, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(ratios, bins=np.linspace(0, max(0.05, float(ratios.max())) + 1e-9, 41), color="0.3")
    ax.axvline(float(ratios.mean()), color="tab:red", lw=1, label=f"mean {ratios.mean():.3f}")
    ax.set_xlabel("hole ratio")
    ax.set_ylabel("masks")
    title = Path(getattr(ms, "root", out_png.stem)).name
    ax.set_title(f"{title}: {len(ratios)} masks, {H}x{W}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    hist_png = out_png.with_name(f"{out_png.stem}_hist.png")
    atomic_write_bytes(hist_png, buf.getvalue())
    return out_png, hist_png
