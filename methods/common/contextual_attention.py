"""Patch-based masked attention: DeepFill's contextual attention and the class-restricted core SWAP uses.

One core, :func:`masked_patch_attention`, serves both:

* :class:`ContextualAttention`: DeepFill v2 (Yu et al., ICCV 2019; ``contextual_attention`` of the
  official ``inpaint_ops.py``, summarised in ``shared/anchors/METHODS.md`` §2.2). Every query patch attends
  to every *fully valid* background patch.
* ``methods.swap.swap.SemanticWiseAttention`` passes a per-position class map: a query may only attend to
  known patches of its own class (an extra boolean "class compatibility" mask inside the same core).
  With a single class everywhere it is exactly :class:`ContextualAttention` with the same settings.

How the core works (feature ``x`` B×C×H×W, hole mask ``mask`` with 1 = hole):

1. **Matching grid.** ``x`` is downsampled by ``rate`` (DeepFill's rate-2 trick; nearest as DeepFill, or
   average pooling). Matching patches are ``ksize``×``ksize`` (3×3), stride 1, on that grid (Hs×Ws).
   Keys are L2-normalised with ``max(norm, 1e-4)`` (DeepFill); queries too when ``normalize_query``
   (DeepFill does not; SWAP's Eq. 2 does).
2. **Scores** = query·key (a cosine when both are normalised); optional **fuse**: the score between
   query p and key q becomes the sum over offsets d in a ``fuse_k``×``fuse_k`` window of score(p+d, q+d)
   (DeepFill's two identity-kernel convolutions, written without its flattening wrap-around at row ends).
3. **Masking**: a key is attendable iff its whole matching window is known (the mask is max-pooled to the
   grid, so a valid key's full-resolution reconstruction patch is hole-free); with a class map, also iff its
   class equals the query's. Forbidden scores are set to ``-inf`` *before* the softmax (``softmax_scale``·score),
   so forbidden keys get weight exactly 0. DeepFill instead multiplies scores by the 0/1 validity before and
   after the softmax (the weights of valid keys then sum to < 1); we renormalise over valid keys.
4. A query with no attendable key (no valid patch at all, or none of its class) **keeps its own feature**
   (its own reconstruction patch). ``fallback='all'`` first retries such a query with all valid keys
   (i.e. ignores the class restriction for it).
5. **Reconstruction** at full resolution with the raw background patches: kernel ``2·rate``, stride ``rate``
   (DeepFill: 4×4 patches, stride 2 for rate 2), pasted back by overlap-add (``fold`` = DeepFill's
   ``conv2d_transpose``) and divided by the number of overlapping patches (DeepFill divides by a constant 4,
   which darkens the first row/column; equal in the interior).
6. ``update='all'`` returns the reconstruction everywhere (DeepFill v2); ``update='hole'`` keeps known
   positions of ``x`` bit-for-bit and only replaces hole positions (SWAP); it also skips query chunks whose
   reconstruction patches do not touch the hole (their ``match`` is -1).

Memory: queries are processed in chunks of about ``chunk_size`` positions (whole rows of the matching grid,
plus a ``fuse_k // 2`` row halo for the fuse), so the score tensor is at most chunk×(Hs·Ws), never
(H·W)² at full resolution. No Python loop over classes or patches.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.registry import MODELS

__all__ = ["ContextualAttention", "masked_patch_attention", "hole_mask_to", "labels_to"]


def hole_mask_to(mask: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """Binary hole mask (B×1×h×w, 1 = hole) at ``like``'s spatial size.

    Shrinking uses max pooling (a cell with any hole pixel is a hole), growing uses nearest neighbour.
    ``None`` means no hole.
    """
    b, _, h, w = like.shape
    if mask is None:
        return like.new_zeros(b, 1, h, w)
    mask = (mask > 0.5).to(like.dtype)
    if mask.shape[-2:] == (h, w):
        return mask
    if mask.shape[-2] >= h and mask.shape[-1] >= w:
        return F.adaptive_max_pool2d(mask, (h, w))
    return F.interpolate(mask, size=(h, w), mode="nearest")


def labels_to(labels: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Class map (B×h×w, integer) resized by nearest neighbour to ``size``."""
    if labels.shape[-2:] == tuple(size):
        return labels.long()
    return F.interpolate(labels[:, None].float(), size=size, mode="nearest")[:, 0].long()


def _fuse_scores(s: torch.Tensor, rows: tuple[int, int, int, int], hs: int, ws: int, k: int) -> torch.Tensor:
    """Diagonal box sum of a score chunk: out[p, q] = sum_d s[p + d, q + d], d in a k×k window.

    ``s`` holds queries of grid rows [a0, a1) (the chunk [r0, r1) plus its halo) against all Hs·Ws keys.
    Returns the scores of the rows [r0, r1) only. Outside the grid, scores count as 0 (zero padding).
    """
    a0, a1, r0, r1 = rows
    h = k // 2
    b = s.shape[0]
    s = s.reshape(b, a1 - a0, ws, hs, ws)
    top, bottom = h - (r0 - a0), h - (a1 - r1)
    s = F.pad(s, (h, h, h, h, h, h, top, bottom))
    n = r1 - r0
    out = None
    for dy in range(k):  # k*k shifted views (9 for fuse_k=3): a fixed-size stencil, not a loop over patches
        for dx in range(k):
            view = s[:, dy:dy + n, dx:dx + ws, dy:dy + hs, dx:dx + ws]
            out = view if out is None else out + view
    return out.reshape(b, n * ws, hs * ws)


def masked_patch_attention(
    x: torch.Tensor,
    mask: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
    *,
    ksize: int = 3,
    rate: int = 1,
    softmax_scale: float = 10.0,
    fuse: bool = True,
    fuse_k: int = 3,
    normalize_query: bool = False,
    downsample: str = "nearest",
    update: str = "all",
    fallback: str = "keep",
    chunk_size: int = 4096,
    return_match: bool = False,
    return_weights: bool = False,
):
    """The shared masked patch-attention core (see the module docstring for the algorithm).

    Args:
        x (Tensor): B×C×H×W features; H and W must be multiples of ``rate``.
        mask (Tensor | None): B×1×h×w hole mask (1 = hole), any size (resized with :func:`hole_mask_to`).
            ``None``: everything is known.
        labels (Tensor | None): B×h×w integer class map. When given, a query attends only to keys of the same
            class (labels are resized by nearest neighbour to the matching grid). ``None``: no class restriction.
        ksize (int): matching patch size on the matching grid (DeepFill: 3).
        rate (int): matching downsampling factor (DeepFill v2: 2). Reconstruction patches are ``2*rate``
            wide with stride ``rate`` at full resolution.
        softmax_scale (float): multiplies scores before the softmax (DeepFill: 10).
        fuse (bool), fuse_k (int): DeepFill's score fusion with a ``fuse_k``×``fuse_k`` identity kernel.
        normalize_query (bool): L2-normalise query patches too (cosine affinity, SWAP Eq. 2).
        downsample (str | callable): matching features: ``'nearest'`` (``x[..., ::rate, ::rate]``; DeepFill
            resizes by nearest neighbour), ``'avg'`` (average pooling), or ``f(x, (Hs, Ws)) -> B×C×Hs×Ws``
            (e.g. an exact port of TF's ``resize_nearest_neighbor``).
        update (str): ``'all'`` (every position reconstructed, DeepFill) or ``'hole'`` (known positions
            returned unchanged).
        fallback (str): for a query without any attendable key: ``'keep'`` its own feature, or ``'all'``
            retry with every valid key (ignoring the class restriction), then keep.
        chunk_size (int): approximate number of query positions scored at once.
        return_match (bool): also return the best-matching key per query.
        return_weights (bool): also return the full B×N×N weight matrix in ``info['weights']`` (tests and
            small inputs only: this is the N² tensor chunking avoids).

    Returns:
        Tensor B×C×H×W, or ``(Tensor, info)`` when ``return_match`` or ``return_weights``; ``info`` = dict(
        ``match`` (B×Hs×Ws long: flat key index ``ky*Ws + kx`` on the matching grid of the query's
        largest weight, -1 where the query had no attendable key), ``rate`` (int), ``grid`` ((Hs, Ws))).
    """
    if update not in ("all", "hole"):
        raise ValueError(f"update must be 'all' or 'hole', got {update!r}")
    if fallback not in ("keep", "all"):
        raise ValueError(f"fallback must be 'keep' or 'all', got {fallback!r}")
    if not callable(downsample) and downsample not in ("nearest", "avg"):
        raise ValueError(f"downsample must be 'nearest', 'avg' or a callable, got {downsample!r}")
    if ksize % 2 != 1 or (fuse and fuse_k % 2 != 1):
        raise ValueError("ksize and fuse_k must be odd")
    b, c, h, w = x.shape
    rate = int(rate)
    if rate < 1 or h % rate or w % rate:
        raise ValueError(f"feature size {h}x{w} must be a multiple of rate={rate}")
    hs, ws = h // rate, w // rate
    n = hs * ws
    hole = hole_mask_to(mask, x)  # B×1×H×W at feature resolution

    # 1) matching grid
    if rate > 1:
        if callable(downsample):
            xs = downsample(x, (hs, ws))
        else:
            xs = x[..., ::rate, ::rate] if downsample == "nearest" else F.avg_pool2d(x, rate)
        hole_s = F.max_pool2d(hole, rate)
    else:
        xs, hole_s = x, hole
    pad = ksize // 2
    keys = F.unfold(xs, ksize, padding=pad)  # B×(C·k²)×N
    keys_n = keys / keys.norm(dim=1, keepdim=True).clamp_min(1e-4)
    queries = keys_n if normalize_query else keys
    valid = (F.max_pool2d(hole_s, ksize, stride=1, padding=pad) < 0.5).reshape(b, 1, n)  # B×1×N
    lab = labels_to(labels, (hs, ws)).reshape(b, n) if labels is not None else None

    # raw reconstruction patches at full resolution: kernel 2r, stride r, padding r//2 before / r - r//2 after
    k_raw = 2 * rate
    lo, hi = rate // 2, rate - rate // 2
    raw = F.unfold(F.pad(x, (lo, hi, lo, hi)), k_raw, stride=rate)  # B×(C·4r²)×N
    raw_t = raw.transpose(1, 2)  # B×N×(C·4r²)

    if update == "hole":  # queries whose reconstruction patch touches the hole; chunks without any are skipped
        touches = F.unfold(F.pad(hole, (lo, hi, lo, hi)), k_raw, stride=rate).amax(dim=1) > 0.5  # B×N
    halo = fuse_k // 2 if fuse else 0
    rows_per_chunk = max(1, int(chunk_size) // ws)
    patches_t = raw_t.new_empty(raw_t.shape)  # filled chunk by chunk (no list of chunks + torch.cat copy)
    match_chunks, weight_chunks = [], []
    for r0 in range(0, hs, rows_per_chunk):  # chunks of query rows (bounded memory), not single patches
        r1 = min(hs, r0 + rows_per_chunk)
        a0, a1 = max(0, r0 - halo), min(hs, r1 + halo)
        if update == "hole" and not bool(touches[:, r0 * ws:r1 * ws].any()):
            patches_t[:, r0 * ws:r1 * ws] = raw_t[:, r0 * ws:r1 * ws]  # nothing to fill: keep (blended away below)
            if return_weights:
                weight_chunks.append(x.new_zeros(b, (r1 - r0) * ws, n))
            if return_match or return_weights:
                match_chunks.append(torch.full((b, (r1 - r0) * ws), -1, dtype=torch.long, device=x.device))
            continue
        q = queries[:, :, a0 * ws:a1 * ws]
        s = torch.bmm(q.transpose(1, 2), keys_n)  # B×nq×N
        if fuse:
            s = _fuse_scores(s, (a0, a1, r0, r1), hs, ws, fuse_k)
        allow = valid.expand(b, (r1 - r0) * ws, n)
        if lab is not None:
            lq = lab[:, r0 * ws:r1 * ws]
            allow = allow & (lq[:, :, None] == lab[:, None, :])
            if fallback == "all":
                none = ~allow.any(dim=-1, keepdim=True)
                allow = allow | (none & valid)
        has = allow.any(dim=-1, keepdim=True)  # B×nq×1
        logits = (s * softmax_scale).masked_fill(~allow, float("-inf")).masked_fill(~has, 0.0)
        weights = torch.softmax(logits, dim=-1).masked_fill(~has, 0.0)  # exact zeros at forbidden keys
        own = raw_t[:, r0 * ws:r1 * ws]
        if torch.is_grad_enabled() and (weights.requires_grad or raw_t.requires_grad):
            patches_t[:, r0 * ws:r1 * ws] = torch.where(has, torch.bmm(weights, raw_t), own)  # no key: keep own
        else:  # inference: written in place, without two chunk-sized temporaries (out= has no autograd)
            dst = patches_t[:, r0 * ws:r1 * ws]
            torch.bmm(weights, raw_t, out=dst)  # B×nq×(C·4r²)
            torch.where(has, dst, own, out=dst)
        if return_weights:
            weight_chunks.append(weights)
        if return_match or return_weights:
            match_chunks.append(torch.where(has[..., 0], weights.argmax(dim=-1), torch.full_like(has[..., 0], -1,
                                                                                               dtype=torch.long)))
    patches = patches_t.transpose(1, 2)  # B×(C·4r²)×N
    size = (h + rate, w + rate)
    summed = F.fold(patches, size, k_raw, stride=rate)
    count = F.fold(torch.ones_like(patches[:1, :k_raw * k_raw]), size, k_raw, stride=rate)
    y = (summed / count)[..., lo:lo + h, lo:lo + w]
    if update == "hole":
        y = torch.where(hole > 0.5, y, x)
    if not (return_match or return_weights):
        return y
    info = dict(match=torch.cat(match_chunks, dim=1).reshape(b, hs, ws), rate=rate, grid=(hs, ws))
    if return_weights:
        info["weights"] = torch.cat(weight_chunks, dim=1)
    return y, info


@MODELS.register_module()
class ContextualAttention(nn.Module):
    """DeepFill v2 contextual attention (no parameters).

    DeepFill v2's call is ``ContextualAttention(ksize=3, stride=1, rate=2, fuse_k=3, softmax_scale=10,
    fuse=True)`` applied to the 1/4-resolution feature (64×64 for a 256 input) with the hole mask:
    matching on the rate-2 downsampled feature with 3×3 patches, only fully valid patches attendable,
    reconstruction with 4×4 full-resolution patches (stride 2); output has the input's shape.

    Args:
        ksize (int): matching patch size (3).
        stride (int): matching stride; only 1 (DeepFill's value) is supported.
        rate (int): matching downsampling factor (2); reconstruction patches are ``2*rate`` (4×4), stride ``rate``.
        fuse_k (int): fuse kernel size (3).
        softmax_scale (float): softmax temperature inverse (10).
        fuse (bool): whether to fuse scores (True).
        normalize_query (bool): also L2-normalise query patches (False in DeepFill, whose scores are
            query·normalised key).
        downsample (str | callable): matching downsampling, ``'nearest'`` (DeepFill), ``'avg'`` or
            ``f(x, (Hs, Ws))`` (see :func:`masked_patch_attention`).
        update (str): ``'all'`` (DeepFill: every position is the attention reconstruction) or ``'hole'``
            (known positions keep the input).
        chunk_size (int): query positions scored at once (memory bound; does not change the result).

    Shapes:
        ``forward(x, mask=None, return_match=False)``: ``x`` B×C×H×W (H, W multiples of ``rate``),
        ``mask`` B×1×h×w with 1 = hole at any resolution (max-pooled / nearest-resized to H×W).
        Returns B×C×H×W, and with ``return_match`` also the info dict of :func:`masked_patch_attention`
        (``match``: best key per query on the (H/rate)×(W/rate) grid, for the attention-flow figure).
    """

    def __init__(self, ksize: int = 3, stride: int = 1, rate: int = 2, fuse_k: int = 3, softmax_scale: float = 10.0,
                 fuse: bool = True, normalize_query: bool = False, downsample="nearest",
                 update: str = "all", chunk_size: int = 4096):
        super().__init__()
        if stride != 1:
            raise NotImplementedError("only stride=1 matching (DeepFill's setting) is implemented")
        self.kwargs = dict(ksize=ksize, rate=rate, fuse_k=fuse_k, softmax_scale=softmax_scale, fuse=fuse,
                           normalize_query=normalize_query, downsample=downsample, update=update,
                           chunk_size=chunk_size)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None, return_match: bool = False):
        return masked_patch_attention(x, mask, None, return_match=return_match, **self.kwargs)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.kwargs.items())
