"""Property tests of the masked patch-attention core, ContextualAttention and SWAP (SemanticWiseAttention)."""
import time

import pytest
import torch

from methods.common.contextual_attention import ContextualAttention, _fuse_scores, masked_patch_attention
from methods.swap.swap import SemanticWiseAttention, SWAPBlock, match_rate

torch.set_num_threads(1)


def _hole(b, h, w, box):
    m = torch.zeros(b, 1, h, w)
    y0, y1, x0, x1 = box
    m[:, :, y0:y1, x0:x1] = 1
    return m


def _two_class_labels(b, h, w):
    lab = torch.zeros(b, h, w, dtype=torch.long)
    lab[:, :, w // 2:] = 1
    return lab


@pytest.mark.parametrize("rate,fuse", [(1, True), (2, True), (2, False)])
def test_no_weight_on_known_patch_of_another_class(rate, fuse):
    torch.manual_seed(0)
    x = torch.randn(2, 6, 16, 16)
    mask = _hole(2, 16, 16, (4, 12, 3, 13))
    labels = torch.randint(0, 3, (2, 16, 16))
    _, info = masked_patch_attention(x, mask, labels, rate=rate, fuse=fuse, normalize_query=True, update="hole",
                                     return_weights=True, chunk_size=8)
    w = info["weights"]  # B×N×N
    hs, ws = info["grid"]
    lab_s = torch.nn.functional.interpolate(labels[:, None].float(), size=(hs, ws), mode="nearest")[:, 0].long()
    lab_s = lab_s.reshape(2, -1)
    other = lab_s[:, :, None] != lab_s[:, None, :]
    assert torch.all(w[other] == 0)  # exactly zero
    # rows with an attendable key are proper distributions
    has = w.sum(-1) > 0
    assert torch.allclose(w.sum(-1)[has], torch.ones_like(w.sum(-1)[has]), atol=1e-5)
    # every nonzero weight is on a fully valid key
    hole_s = torch.nn.functional.max_pool2d(mask, rate) if rate > 1 else mask
    valid = torch.nn.functional.max_pool2d(hole_s, 3, 1, 1).reshape(2, 1, -1) < 0.5
    assert torch.all(w[~valid.expand_as(w)] == 0)


@pytest.mark.parametrize("size,match_size", [(16, 32), (32, 16)])
def test_single_class_equals_contextual_attention(size, match_size):
    torch.manual_seed(1)
    x = torch.randn(2, 5, size, size)
    mask = _hole(2, size, size, (size // 4, 3 * size // 4, size // 4, size // 2 + 3))
    swap = SemanticWiseAttention(softmax_scale=10, match_size=match_size, chunk_size=64)
    rate = match_rate(size, size, match_size)
    ca = ContextualAttention(ksize=3, rate=rate, fuse_k=3, softmax_scale=10, fuse=True, normalize_query=True,
                             downsample="avg", update="hole", chunk_size=64)
    seg = torch.zeros(2, 4, size // 2, size // 2)
    seg[:, 2] = 1.0  # one class everywhere (logits)
    y_swap, i_swap = swap(x, mask, seg, return_match=True)
    y_ca, i_ca = ca(x, mask, return_match=True)
    assert torch.allclose(y_swap, y_ca, atol=1e-6)
    assert torch.equal(i_swap["match"], i_ca["match"])


def test_known_region_unchanged_and_hole_changed():
    torch.manual_seed(2)
    x = torch.randn(1, 4, 32, 32)
    mask = _hole(1, 64, 64, (16, 40, 10, 50))  # image-resolution mask, max-pooled to the feature size
    att = SemanticWiseAttention(match_size=16)
    y = att(x, mask, _two_class_labels(1, 64, 64))
    known = torch.nn.functional.adaptive_max_pool2d(mask, (32, 32)) < 0.5
    assert torch.equal(y[known.expand_as(y)], x[known.expand_as(x)])
    assert not torch.allclose(y[~known.expand_as(y)], x[~known.expand_as(x)])


def test_chunking_does_not_change_result():
    torch.manual_seed(3)
    x = torch.randn(2, 3, 24, 20)
    mask = _hole(2, 24, 20, (5, 15, 4, 14))
    labels = torch.randint(0, 2, (2, 24, 20))
    kw = dict(rate=2, fuse=True, normalize_query=True, update="all", return_match=True)
    y1, i1 = masked_patch_attention(x, mask, labels, chunk_size=1, **kw)  # one grid row per chunk
    y2, i2 = masked_patch_attention(x, mask, labels, chunk_size=10_000, **kw)
    assert torch.allclose(y1, y2, atol=1e-5)
    assert torch.equal(i1["match"], i2["match"])


def test_fuse_is_diagonal_box_sum():
    torch.manual_seed(4)
    hs, ws = 4, 5
    n = hs * ws
    s = torch.randn(1, n, n)
    fused = _fuse_scores(s, (0, hs, 0, hs), hs, ws, 3)
    ref = torch.zeros(n, n)
    for qy in range(hs):
        for qx in range(ws):
            for ky in range(hs):
                for kx in range(ws):
                    acc = 0.0
                    for dy in (-1, 0, 1):
                        for dx in (-1, 0, 1):
                            a, b_, c, d = qy + dy, qx + dx, ky + dy, kx + dx
                            if 0 <= a < hs and 0 <= b_ < ws and 0 <= c < hs and 0 <= d < ws:
                                acc += float(s[0, a * ws + b_, c * ws + d])
                    ref[qy * ws + qx, ky * ws + kx] = acc
    assert torch.allclose(fused[0], ref, atol=1e-5)


def test_best_match_finds_the_copied_patch():
    torch.manual_seed(5)
    x = torch.randn(1, 8, 12, 12)
    mask = _hole(1, 12, 12, (4, 8, 4, 8))
    x[:, :, 5, 5] = x[:, :, 1, 10] * 3.0  # same direction as a known position
    _, info = masked_patch_attention(x, mask, None, ksize=1, rate=1, fuse=False, normalize_query=True,
                                     softmax_scale=1e4, update="hole", return_match=True)
    assert int(info["match"][0, 5, 5]) == 1 * 12 + 10


def test_absent_class_keeps_feature_or_falls_back():
    torch.manual_seed(6)
    x = torch.randn(1, 4, 16, 16)
    mask = _hole(1, 16, 16, (4, 12, 4, 12))
    labels = torch.zeros(1, 16, 16, dtype=torch.long)
    labels[:, 3:13, 3:13] = 1  # class 1 only in (and 1 px around) the hole: every class-1 key touches the hole
    kw = dict(rate=1, fuse=True, normalize_query=True, update="hole", return_match=True)
    y, info = masked_patch_attention(x, mask, labels, fallback="keep", **kw)
    inner = (slice(None), slice(None), slice(5, 11), slice(5, 11))
    assert torch.allclose(y[inner], x[inner], atol=1e-6)  # covered only by class-1 queries: unchanged
    assert torch.all(info["match"][0, 4:12, 4:12] == -1)
    _, wi = masked_patch_attention(x, mask, labels, fallback="keep", return_weights=True, **kw)
    keyless = (info["match"] == -1).reshape(1, -1)
    assert torch.all(wi["weights"][keyless] == 0)  # a query without a same-class known patch attends nowhere
    y2, info2 = masked_patch_attention(x, mask, labels, fallback="all", **kw)
    assert torch.all(info2["match"][0, 4:12, 4:12] >= 0)
    assert not torch.allclose(y2[inner], x[inner])
    # no valid key at all (whole image is a hole): no NaN, features kept
    y3 = masked_patch_attention(x, torch.ones(1, 1, 16, 16), labels, rate=1, update="all")
    assert torch.allclose(y3, x, atol=1e-6)


def test_contextual_attention_deepfill_api():
    torch.manual_seed(7)
    ca = ContextualAttention(ksize=3, stride=1, rate=2, fuse_k=3, softmax_scale=10, fuse=True)
    x = torch.randn(2, 8, 16, 16)
    mask = _hole(2, 16, 16, (4, 12, 4, 12))
    y, info = ca(x, mask, return_match=True)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert info["match"].shape == (2, 8, 8) and info["rate"] == 2
    assert (info["match"] >= 0).all()  # every query has valid keys here
    with pytest.raises(NotImplementedError):
        ContextualAttention(stride=2)


def test_gradients_reach_every_swap_parameter():
    torch.manual_seed(8)
    block = SWAPBlock(6, 4, 8, attention="semantic", attention_cfg=dict(match_size=8))
    phi = torch.randn(2, 6, 8, 8, requires_grad=True)
    skip = torch.randn(2, 4, 16, 16)
    seg = torch.randn(2, 3, 8, 8)
    mask = _hole(2, 32, 32, (8, 24, 8, 20))
    out = block(phi, skip, seg, mask)
    (out ** 2).mean().backward()
    for name, p in block.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert phi.grad.abs().sum() > 0


def test_memory_bounded_at_128_features(monkeypatch):
    torch.manual_seed(9)
    x = torch.randn(1, 16, 128, 128)
    mask = _hole(1, 128, 128, (30, 100, 20, 90))
    seg = torch.randn(1, 8, 64, 64)
    att = SemanticWiseAttention(match_size=32, chunk_size=256)
    sizes = []
    real_bmm = torch.bmm

    def spy(a, b, **kw):
        out = real_bmm(a, b, **kw)
        sizes.append(out.numel())
        return out

    monkeypatch.setattr(torch, "bmm", spy)
    t0 = time.time()
    y, info = att(x, mask, seg, return_match=True)
    elapsed = time.time() - t0
    assert info["rate"] == 4 and info["grid"] == (32, 32)
    assert y.shape == x.shape and torch.isfinite(y).all()
    n_full = 128 * 128
    assert max(sizes) < n_full * n_full // 100  # never (H·W)² at full resolution
    assert max(sizes) <= (256 + 2 * 32) * 32 * 32 * 16 * 64  # chunk (+ halo) × keys, or the patch paste
    assert elapsed < 20
