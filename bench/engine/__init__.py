"""mmengine glue: checkpoint allow-list, distributed set-up."""
from .checkpoint import load_run_checkpoint, mmengine_safe_globals

__all__ = ["load_run_checkpoint", "mmengine_safe_globals"]
