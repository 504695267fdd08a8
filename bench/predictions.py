"""Scoring predictions made outside the harness (LaMa's ``evaluate_predicts`` idea).

``export_masked`` writes, for every test image of a dataset and one fixed mask set, the image with its
hole (white) and the mask (255 = hole) under the image's own name; any external code fills them and
writes ``<name>.png`` into a predictions folder; ``bench eval --predictions DIR`` scores that folder with
the same metrics and writes the same ``metrics.json``. Missing, extra or wrongly sized files are all listed
by name before anything is scored: nothing is scored silently short.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from bench.io import atomic_write_bytes, atomic_write_json


class PredictionsError(ValueError):
    """A predictions folder that does not match the test set; the message lists every problem file."""


def export_name(meta_file: str) -> str:
    """``aachen/aachen_000000_000019_leftImg8bit.png`` -> ``aachen__aachen_000000_000019_leftImg8bit.png``."""
    return Path(meta_file).with_suffix("").as_posix().replace("/", "__") + ".png"


def _png(arr: np.ndarray) -> bytes:
    import io

    b = io.BytesIO()
    Image.fromarray(arr).save(b, format="PNG")
    return b.getvalue()


def _to_u8(t: torch.Tensor) -> np.ndarray:
    return ((t.clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()


def export_masked(dataset: str, mask_set: str, out_dir, preset: str = "paper", data_root=None,
                  method: str = "telea") -> int:
    """Write ``images/<name>.png`` (hole white), ``masks/<name>.png`` (255 = hole) and ``manifest.json``."""
    from bench.evaluation import build_test_dataset, resolve_mask_set
    from bench.runner import compose_config, data_fingerprint

    cfg = compose_config(method, dataset, preset, data_root=data_root)
    ms = resolve_mask_set(mask_set, cfg)
    ds = build_test_dataset(cfg, ms)
    out = Path(out_dir)
    names = []
    for i in range(len(ds)):
        s = ds[i]
        name = export_name(s["meta"]["file"])
        holed = s["img"] * (1 - s["mask"]) + s["mask"]
        atomic_write_bytes(out / "images" / name, _png(_to_u8(holed)))
        atomic_write_bytes(out / "masks" / name, _png((s["mask"][0].numpy() > 0.5).astype(np.uint8) * 255))
        names.append(name)
    atomic_write_json(out / "manifest.json", {"dataset": dataset, "mask_set": mask_set,
                                              "mask_set_sha256": ms.sha256, "preset": preset,
                                              "img_size": int(cfg.img_size),
                                              "data_fingerprint": data_fingerprint(cfg), "files": names})
    return len(names)


def check_predictions(pred_dir, dataset) -> list[Path]:
    """Every test image has exactly one readable prediction of the right size; raise listing all problems.

    Returns the prediction files in test-set order (what the evaluation key hashes)."""
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise PredictionsError(f"predictions folder {pred_dir} does not exist")
    expected = {}
    for i in range(len(dataset)):
        info = dataset.get_data_info(i) if hasattr(dataset, "get_data_info") else {}
        s = None if "file" in info else dataset[i]
        file = info.get("file") or s["meta"]["file"]
        expected[export_name(file)] = i
    have = {p.name for p in pred_dir.glob("*.png")}
    problems = [f"missing prediction: {pred_dir / n}" for n in sorted(set(expected) - have)]
    problems += [f"extra file (not a test image): {pred_dir / n}" for n in sorted(have - set(expected))]
    size = None
    for n in sorted(set(expected) & have):
        try:
            with Image.open(pred_dir / n) as im:
                size = size or _expected_size(dataset)
                if im.size != (size[1], size[0]):
                    problems.append(f"wrong size {im.size[0]}x{im.size[1]} (expected {size[1]}x{size[0]}): "
                                    f"{pred_dir / n}")
                elif im.mode not in ("RGB", "RGBA", "L", "P"):
                    problems.append(f"image mode {im.mode} (expected 8-bit RGB): {pred_dir / n}")
                else:
                    im.load()
        except Exception as e:  # noqa: BLE001 - PIL raises many types for a broken file
            problems.append(f"unreadable PNG ({type(e).__name__}: {e}): {pred_dir / n}")
    if problems:
        raise PredictionsError(f"{len(problems)} problem(s) in {pred_dir}:\n  " + "\n  ".join(problems)
                               + "\nFix: write one 8-bit RGB PNG per exported image, same name and size")
    return [pred_dir / n for n, _ in sorted(expected.items(), key=lambda kv: kv[1])]


def _expected_size(dataset) -> tuple[int, int]:
    s = dataset[0]
    return tuple(s["img"].shape[-2:])


def load_predictions(pred_dir, batch: dict) -> list[dict]:
    """Predictions of one batch in the model's predict format (``raw``, ``composite``, ``meta``)."""
    from methods.common import composite

    preds = []
    for i, meta in enumerate(batch["meta"]):
        path = Path(pred_dir) / export_name(meta["file"])
        try:
            with Image.open(path) as im:
                arr = np.asarray(im.convert("RGB"))
        except Exception as e:  # noqa: BLE001 - changed or broken since the check
            raise PredictionsError(f"cannot read prediction {path} ({type(e).__name__}: {e}); rewrite it as an "
                                   f"8-bit RGB PNG") from None
        raw = torch.from_numpy(arr).permute(2, 0, 1).float() / 127.5 - 1.0
        img, mask = batch["img"][i], batch["mask"][i]
        preds.append({"raw": raw, "composite": composite(raw, img, mask), "meta": meta})
    return preds
