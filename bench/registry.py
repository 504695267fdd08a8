"""Registries of inpaint-bench, children of mmengine's root registries (scope ``bench``).

Everything pluggable is built from a dict config through one of these:

* ``MODELS``: methods (mmengine ``BaseModel`` subclasses), their networks, losses and data preprocessors.
* ``DATASETS``: datasets returning the sample dict of ``docs/ARCHITECTURE.md``.
* ``METRICS``: streaming metrics (mmengine ``BaseMetric``).
* ``MASK_GENERATORS``: mask generators (``masks/``).
* ``FUNCTIONS``: plain functions built by name, e.g. ``collate_fn=dict(type='inpaint_collate')``.
* ``OPTIM_WRAPPER_CONSTRUCTORS``: the multi-optimizer constructor used by GAN methods.
* ``METHODS``: one :class:`MethodSpec` per method (name, variants, configs, origin) for ``bench methods``.

Nothing here imports the upper layers (CLI, runner, reports): methods and masks import this module.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import Registry

SCOPE = "bench"

MODELS = Registry("model", parent=MMENGINE_MODELS, scope=SCOPE, locations=["methods"])
DATASETS = Registry("dataset", parent=MMENGINE_DATASETS, scope=SCOPE, locations=["bench.datasets"])
METRICS = Registry("metric", parent=MMENGINE_METRICS, scope=SCOPE, locations=["bench.metrics"])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    "optimizer wrapper constructor",
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    scope=SCOPE,
    locations=["methods.common"],
)
MASK_GENERATORS = Registry("mask generator", scope=SCOPE, locations=["masks"])


def _scope_children() -> dict:
    """Empty ``bench`` children of mmengine's other root registries the Runner builds from (hooks, loops,
    optimizers, ...): with ``default_scope='bench'`` mmengine looks for a ``bench`` child first and warns on
    every build when there is none; lookups fall through to mmengine's own modules."""
    import mmengine.registry as root

    names = ("HOOKS", "LOOPS", "OPTIMIZERS", "OPTIM_WRAPPERS", "PARAM_SCHEDULERS", "DATA_SAMPLERS",
             "LOG_PROCESSORS", "VISUALIZERS", "VISBACKENDS", "MODEL_WRAPPERS", "WEIGHT_INITIALIZERS")
    return {n: Registry(getattr(root, n).name, parent=getattr(root, n), scope=SCOPE) for n in names}


_SCOPE_CHILDREN = _scope_children()
FUNCTIONS = Registry("function", parent=MMENGINE_FUNCTIONS, scope=SCOPE, locations=["bench.datasets"])


@dataclass(frozen=True)
class MethodSpec:
    """What ``bench`` knows about a method before building it.

    Args:
        name (str): registry name used on the command line (``bench run --method NAME``).
        config_dir (Path): the method's ``configs/`` folder. A run's config file is
            ``<config_dir>/<name>[_<variant>]_<preset>.py`` (variant omitted for ``default``).
        variants (tuple[str]): variant names; the first is the default.
        origin (str): where the method comes from (paper, official code, re-implementation).
        trainable (bool): False for classical methods that skip training (e.g. ``telea``).
        reimplementation (bool): True where no official code exists and ours is written from the paper.
        predicts_segmentation (bool): whether predictions carry segmentation logits (mIoU, Table 2).
        in_demo (bool): whether ``bench demo`` trains and evaluates it.
    """

    name: str
    config_dir: Path
    variants: tuple = ("default",)
    origin: str = ""
    trainable: bool = True
    reimplementation: bool = False
    predicts_segmentation: bool = False
    in_demo: bool = True
    paper_name: str = ""
    extra: dict = field(default_factory=dict)

    def config_path(self, variant: str | None, preset: str) -> Path:
        variant = variant or self.variants[0]
        if variant not in self.variants:
            raise KeyError(
                f"method {self.name!r} has no variant {variant!r}; choose one of {', '.join(self.variants)}")
        stem = self.name if variant == "default" else f"{self.name}_{variant}"
        path = self.config_dir / f"{stem}_{preset}.py"
        if not path.is_file():
            have = sorted(p.name for p in self.config_dir.glob("*.py"))
            raise FileNotFoundError(
                f"no config {path} for method {self.name!r}, variant {variant!r}, preset {preset!r}; "
                f"configs present: {', '.join(have) or 'none'}")
        return path

    @property
    def display_name(self) -> str:
        return self.paper_name or self.name


METHODS: dict[str, MethodSpec] = {}


def register_method(spec: MethodSpec) -> MethodSpec:
    """Record a method's spec (called from ``methods/<name>/__init__.py``)."""
    if spec.name in METHODS and METHODS[spec.name] != spec:
        raise KeyError(f"method {spec.name!r} is registered twice")
    METHODS[spec.name] = spec
    return spec


_MODULES = ("masks", "methods", "bench.datasets", "bench.metrics")


def plugin_modules() -> list[str]:
    """Extra modules named in ``BENCH_PLUGINS`` (comma-separated), imported like mmengine's
    ``custom_imports``: a method defined outside this repository registers itself on import."""
    return [m.strip() for m in os.environ.get("BENCH_PLUGINS", "").split(",") if m.strip()]


def register_all_modules() -> None:
    """Import every module that registers something, and make ``bench`` mmengine's default scope."""
    from mmengine.registry import DefaultScope

    for name in (*_MODULES, *plugin_modules()):
        try:
            importlib.import_module(name)
        except ImportError as e:
            if name in _MODULES:
                raise
            raise ImportError(f"BENCH_PLUGINS names module {name!r}, which cannot be imported ({e}); "
                              f"fix PYTHONPATH or the variable") from e
    if not DefaultScope.check_instance_created(SCOPE):
        DefaultScope.get_instance(SCOPE, scope_name=SCOPE)
