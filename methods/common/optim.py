"""An optimizer-wrapper constructor that returns one ``OptimWrapper`` per sub-module.

mmengine has no multi-optimizer constructor of its own (mmagic's lives in mmagic). Config form::

    optim_wrapper = dict(
        constructor='MultiOptimWrapperConstructor',
        generator=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))),
        disc=dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.999))))

Each key names an attribute of the model (``model.generator``, ``model.disc``); the result is an
``OptimWrapperDict`` with the same keys, which ``GANInpaintor.train_step`` receives.
"""
from __future__ import annotations

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict

from bench.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiOptimWrapperConstructor:
    """Build an ``OptimWrapperDict`` keyed by sub-module name.

    Args:
        optim_wrapper_cfg (dict): ``{submodule_name: optim_wrapper_cfg}``.
        paramwise_cfg (dict | None): per-submodule paramwise configs, same keys.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: dict | None = None):
        if not isinstance(optim_wrapper_cfg, dict) or not optim_wrapper_cfg:
            raise TypeError("MultiOptimWrapperConstructor needs {submodule: optim_wrapper cfg}")
        self.optim_wrapper_cfg = optim_wrapper_cfg
        self.paramwise_cfg = paramwise_cfg or {}

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if hasattr(model, "module"):
            model = model.module
        wrappers = {}
        for key, cfg in self.optim_wrapper_cfg.items():
            sub = getattr(model, key, None)
            if sub is None:
                raise AttributeError(
                    f"optim_wrapper has key {key!r} but {type(model).__name__} has no sub-module of that name")
            cfg = dict(cfg)
            cfg.setdefault("type", "OptimWrapper")
            wrappers[key] = DefaultOptimWrapperConstructor(cfg, self.paramwise_cfg.get(key))(sub)
        return OptimWrapperDict(**wrappers)
