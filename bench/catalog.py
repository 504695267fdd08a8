"""What ``bench methods`` prints: registered methods, variants, origins and paper-size parameter counts."""
from __future__ import annotations

from bench.registry import METHODS, register_all_modules


def count_parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())


def parameter_breakdown(model) -> dict[str, int]:
    """Parameters per top-level sub-module that has any (generator, disc, ...), plus the total."""
    out = {name: count_parameters(m) for name, m in model.named_children() if count_parameters(m)}
    out["total"] = count_parameters(model)
    return out


def describe_methods(counts: bool = True, dataset: str = "outdoor") -> list[dict]:
    """One dict per method; with ``counts``, the paper-preset model is built (on the CPU) and counted."""
    register_all_modules()
    rows = []
    for name in sorted(METHODS):
        spec = METHODS[name]
        row = {"name": name, "display_name": spec.display_name, "variants": list(spec.variants),
               "origin": spec.origin, "trainable": spec.trainable, "reimplementation": spec.reimplementation,
               "predicts_segmentation": spec.predicts_segmentation}
        if counts:
            try:
                from bench.runner import build_model, compose_config

                model = build_model(compose_config(name, dataset, "paper"), device="cpu")
                row["parameters"] = parameter_breakdown(model)
            except Exception as e:  # a broken method must not hide the others from the listing
                row["parameters_error"] = f"{type(e).__name__}: {e}"
        rows.append(row)
    return rows
