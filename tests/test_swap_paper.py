"""The paper-size SWAP model (swap_full_paper.py) builds for k = 8 and k = 20 and runs at 256×256 on the CPU.

One thread: on the shared 2-core machine, 2 OpenMP threads are several times slower under contention.
"""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from bench.registry import MODELS, register_all_modules

torch.set_num_threads(1)
register_all_modules()
PAPER = Path(__file__).resolve().parents[1] / "methods" / "swap" / "configs" / "swap_full_paper.py"


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.slow
@pytest.mark.parametrize("k,size", [(8, 256), (20, 256)])
def test_paper_model_builds_and_runs(k, size):
    cfg = Config.fromfile(str(PAPER))
    model = MODELS.build(dict(cfg.model.to_dict(), num_classes=k)).eval()
    counts = {name: _count(getattr(model, name)) for name in ("generator", "disc", "disc_s", "disc_t")}
    print(f"\nSWAP paper size, k={k}: " + ", ".join(f"{n} {c:,}" for n, c in counts.items()))
    assert 5e6 < counts["generator"] < 60e6
    img = torch.rand(1, 3, size, size) * 2 - 1
    mask = torch.zeros(1, 1, size, size)
    mask[:, :, size // 4:3 * size // 4, size // 4 + 16:3 * size // 4 - 16] = 1
    with torch.inference_mode():
        out = model.generate(img, mask, return_attention=True)
        d = model.disc(img)
        seg = torch.zeros(1, k, size, size)
        ds = model.disc_s(torch.cat([img, seg], 1))
    assert out["raw"].shape == (1, 3, size, size) and torch.isfinite(out["raw"]).all()
    assert out["seg_logits"].shape == (1, k, size, size)
    assert [im.shape[-1] for im in out["images"]] == [size // 16, size // 8, size // 4, size // 2, size]
    assert out["attention"]["swap_match"].shape == (1, 32, 32)  # finest SWAP matched on the capped 32×32 grid
    assert len(d) == 3 and len(ds) == 2
