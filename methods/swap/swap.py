"""Semantic-Wise Attention Propagation (SWAP, Sec. 3.2, Eq. 1-4) and its building block in the decoder.

:class:`SemanticWiseAttention` is the attention of Eq. 2-4: inside every class c of the predicted
segmentation, each missing-region patch attends to the known-region patches of class c only. It is the
shared masked-attention core (``methods.common.contextual_attention.masked_patch_attention``) with a class
map: scores of keys of another class are set to -inf before the softmax (exact zero weight), all classes in
one batched computation (no loop over classes).

:class:`SWAPBlock` is ``swap(ϕ^l, φ^{l+1}, Ŝ^l, M)`` of Eq. 1: contextual features f^l from the upsampled
decoder feature ϕ^l and the encoder skip φ^{l+1}, the attention, then "four groups of dilated
convolutions with different rates" (1, 2, 4, 8), implemented as AOT-style split-transform-merge
(:class:`methods.common.blocks.MultiDilationBlock`: parallel dilated branches, concatenated, fused, residual).
The same block with ``attention='contextual'`` (DeepFill contextual attention over all known patches,
the paper's "Att" ablation) or ``'none'`` (the "Base" ablation) builds the other variants.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.registry import MODELS
from methods.common.blocks import ConvNormAct, MultiDilationBlock
from methods.common.contextual_attention import masked_patch_attention

__all__ = ["SemanticWiseAttention", "SWAPBlock", "match_rate"]


def match_rate(h: int, w: int, match_size: int | None) -> int:
    """Smallest power-of-two rate with max(h, w) / rate <= match_size that divides h and w (1 if none needed)."""
    rate = 1
    if match_size:
        while max(h, w) // rate > match_size and h % (2 * rate) == 0 and w % (2 * rate) == 0:
            rate *= 2
    return rate


@MODELS.register_module()
class SemanticWiseAttention(nn.Module):
    """Class-restricted patch attention (SWAP, Eq. 2-4); parameter free.

    For every class c, a hole patch p_j^c attends to the known patches p_i^c of the same class:
    ``Df = <p_i/|p_i|, p_j/|p_j|>`` (Eq. 2, both normalised: ``normalize_query=True``),
    ``ω = softmax_i(softmax_scale · Df)`` over the known patches of class c (Eq. 3),
    ``p_j = Σ_i ω_ji p_i`` (Eq. 4), reconstruction with full-resolution patches.

    Eq. 3 has no temperature. Cosine scores lie in [-1, 1], so a plain softmax over hundreds of patches is
    almost uniform (the output would be the class mean); we use contextual attention's softmax scale 10
    (DeepFill, Yu et al. 2018/2019) as the default ``softmax_scale``. Patch size 3 and DeepFill's 3×3 score
    fusion are also taken from contextual attention (the paper gives neither).

    Matching runs on a capped grid: when the feature is larger than ``match_size`` it is downsampled by the
    smallest power-of-two rate that brings it to ``match_size`` (DeepFill's rate-2 trick, average pooling),
    and reconstruction uses the ``2·rate`` full-resolution patches. Queries are chunked (``chunk_size``), so
    memory is bounded by chunk × match_size², never (H·W)².

    Args:
        softmax_scale (float): multiplies the cosine affinity before the softmax (10).
        ksize (int): matching patch size on the matching grid (3).
        fuse (bool), fuse_k (int): DeepFill score fusion (True, 3).
        match_size (int | None): cap of the matching grid side (32); ``None`` = always full resolution.
        chunk_size (int): query positions scored at once.
        fallback (str): a hole patch whose class has no known patch: ``'keep'`` keeps its feature unchanged
            (default), ``'all'`` falls back to all known patches.
        semantic (bool): False ignores the classes (plain contextual attention over all known patches,
            the "Att" ablation); the only difference between the two.
        downsample (str): matching downsampling, ``'avg'`` (default) or ``'nearest'`` (DeepFill).

    ``forward(x, mask, seg, return_match=False)``: ``x`` B×C×H×W; ``mask`` B×1×h×w (1 = hole, any size);
    ``seg`` either B×k×h×w logits/probabilities (argmax taken) or a B×h×w label map, any size (resized by
    nearest neighbour to the matching grid). Known positions of ``x`` are returned unchanged.
    """

    def __init__(self, softmax_scale: float = 10.0, ksize: int = 3, fuse: bool = True, fuse_k: int = 3,
                 match_size: int | None = 32, chunk_size: int = 4096, fallback: str = "keep", semantic: bool = True,
                 downsample: str = "avg"):
        super().__init__()
        if fallback not in ("keep", "all"):
            raise ValueError(f"fallback must be 'keep' or 'all', got {fallback!r}")
        self.softmax_scale = float(softmax_scale)
        self.ksize, self.fuse, self.fuse_k = ksize, fuse, fuse_k
        self.match_size, self.chunk_size, self.fallback = match_size, chunk_size, fallback
        self.semantic, self.downsample = semantic, downsample

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None, seg: torch.Tensor | None = None,
                return_match: bool = False, return_weights: bool = False):
        labels = None
        if self.semantic:
            if seg is None:
                raise ValueError("SemanticWiseAttention(semantic=True) needs a segmentation")
            labels = seg.argmax(dim=1) if seg.dim() == 4 else seg
        rate = match_rate(x.shape[-2], x.shape[-1], self.match_size)
        return masked_patch_attention(
            x, mask, labels, ksize=self.ksize, rate=rate, softmax_scale=self.softmax_scale, fuse=self.fuse,
            fuse_k=self.fuse_k, normalize_query=True, downsample=self.downsample, update="hole",
            fallback=self.fallback, chunk_size=self.chunk_size, return_match=return_match,
            return_weights=return_weights)

    def extra_repr(self) -> str:
        return (f"softmax_scale={self.softmax_scale}, ksize={self.ksize}, fuse={self.fuse}, "
                f"match_size={self.match_size}, fallback={self.fallback!r}, semantic={self.semantic}")


class SWAPBlock(nn.Module):
    """``ϕ^{l+1} = swap(ϕ^l, φ^{l+1}, Ŝ^l, M)`` (Eq. 1).

    1. f = conv3×3(concat(upsample2×(ϕ^l), φ^{l+1})) → ``out_channels`` (the contextual feature f^l;
       nearest upsampling);
    2. attention on f (``'semantic'``: :class:`SemanticWiseAttention`; ``'contextual'``: the same without
       classes; ``'none'``: skipped);
    3. :class:`MultiDilationBlock` with rates (1, 2, 4, 8): four dilated 3×3 groups, concatenated, fused
       and added back (the paper's "merge ... followed by four groups of dilated convolutions").

    Args:
        in_channels (int): channels of ϕ^l. skip_channels (int): of φ^{l+1}. out_channels (int): of ϕ^{l+1}.
        attention (str): ``'semantic'`` | ``'contextual'`` | ``'none'``.
        attention_cfg (dict): :class:`SemanticWiseAttention` arguments.
        rates (tuple[int]): dilation rates of the four groups.
        act (str), norm (str): of the convolutions.
    """

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int, attention: str = "semantic",
                 attention_cfg: dict | None = None, rates=(1, 2, 4, 8), act: str = "lrelu", norm: str = "none"):
        super().__init__()
        if attention not in ("semantic", "contextual", "none"):
            raise ValueError(f"attention must be 'semantic', 'contextual' or 'none', got {attention!r}")
        self.context = ConvNormAct(in_channels + skip_channels, out_channels, 3, norm=norm, act=act)
        self.attention = None
        if attention != "none":
            self.attention = SemanticWiseAttention(**dict(attention_cfg or {}, semantic=attention == "semantic"))
        self.dilated = MultiDilationBlock(out_channels, rates=rates, act=act, norm=norm)

    def forward(self, phi: torch.Tensor, skip: torch.Tensor, seg: torch.Tensor | None, mask: torch.Tensor,
                return_match: bool = False):
        up = F.interpolate(phi, size=skip.shape[-2:], mode="nearest")
        f = self.context(torch.cat([up, skip], dim=1))
        info = None
        if self.attention is not None:
            res = self.attention(f, mask, seg, return_match=return_match)
            f, info = res if return_match else (res, None)
        out = self.dilated(f)
        return (out, info) if return_match else out
