"""``inpaint_collate``: batch sample dicts (``collate_fn=dict(type='inpaint_collate')``).

Registered in ``bench.registry.FUNCTIONS`` (scope ``bench``) and, under the same name, in mmengine's root
``FUNCTIONS``: mmengine's ``Runner.build_dataloader`` looks the name up with ``FUNCTIONS.get(name)`` on the
root registry, which does not search child scopes for an unprefixed name (``'bench.inpaint_collate'``
works with the child alone).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS

from bench.registry import FUNCTIONS


@FUNCTIONS.register_module()
def inpaint_collate(batch: Sequence[dict]) -> dict:
    """Stack the tensors of a list of sample dicts; keep ``meta`` as a list of dicts.

    ``img`` → B×3×H×W, ``mask`` → B×1×H×W, ``seg`` → B×H×W (only when every sample has one).
    Any other tensor key is stacked too; any other non-tensor key becomes a list.

    Raises:
        ValueError: on an empty batch, or when only some samples carry a key (e.g. ``seg``).
    """
    if len(batch) == 0:
        raise ValueError("inpaint_collate got an empty batch")
    keys = list(batch[0].keys())
    for i, sample in enumerate(batch):
        if set(sample.keys()) != set(keys):
            raise ValueError(f"inpaint_collate: sample {i} has keys {sorted(sample)} but sample 0 has "
                             f"{sorted(keys)} (mixing labelled and unlabelled datasets in one batch?)")
    out = {}
    for key in keys:
        values = [s[key] for s in batch]
        if key != "meta" and isinstance(values[0], torch.Tensor):
            out[key] = torch.stack(values, 0)
        else:
            out[key] = list(values)
    return out


if MMENGINE_FUNCTIONS.get("inpaint_collate") is None:
    MMENGINE_FUNCTIONS.register_module(name="inpaint_collate", module=inpaint_collate)
