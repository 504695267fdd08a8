"""inpaint-bench: the harness (CLI, configs, datasets, runner, evaluation, metrics, results, reports).

Kept import-light: importing ``bench`` does not import torch or mmengine.
"""

__version__ = "0.1.0"
