"""mmengine glue: weights-only checkpoint loading, safe and bit-exact resume (``bench.engine.resume``),
distributed set-up."""
from .checkpoint import CheckpointError, load_run_checkpoint, mmengine_allow_list, mmengine_safe_globals

__all__ = ["CheckpointError", "load_run_checkpoint", "mmengine_allow_list", "mmengine_safe_globals"]
