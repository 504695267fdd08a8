"""One sub-package per method; importing this package registers every method.

Adding a method = one sub-package (model, losses, ``configs/``) whose ``__init__`` calls
``bench.registry.register_method``; the CLI needs no edit.
"""
import importlib
import pkgutil

_SKIP = {"common"}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.ispkg and _info.name not in _SKIP:
        importlib.import_module(f"{__name__}.{_info.name}")
