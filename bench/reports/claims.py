"""The paper's claims as data, each checked against the reproduced numbers (never written by hand).

A claim is an ordering of cells, best first: ``order`` = [(method, variant), ...] on one dataset, mask set and
metric (``better`` respects the metric's direction). ``kind='best'`` is the same with the subject first and
"better than each of the others" instead of a chain. ``kind='external'`` is a claim this harness cannot run
(the user study). ``mask_set=None`` (Table 2, whose mask set the paper does not state) is checked on every
mask set where all cells exist.

Status: ``reproduced`` (every comparison holds on the reproduced means), ``not reproduced`` (one fails), or
``not run`` (a cell is missing or null). A status computed from runs that differ from the paper's protocol
is flagged ``off_protocol`` (shown with †). A cell whose outputs are constant in the hole (``!``) or whose
per-image results equal another method's (``≡``) is named in ``warnings`` and in the detail: the status stands,
but such a comparison does not show that a method learned.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from bench.reports import paper_numbers as paper
from bench.reports.aggregate import best_config, isnum
from bench.reports.runs import HIGHER_BETTER, METRIC_LABELS, dataset_label, mask_label, method_label

OURS = paper.OURS
BASELINES = (("gatedconv", "default"), ("pennet", "default"), ("edgeconnect", "default"), ("sgenet", "default"))
_SHORT = {"outdoor": "OST", "cityscapes": "Cityscapes"}
_HOLES = {"center": "centre holes", "irregular": "irregular holes"}


def _best(ds, ms, metric, adjective):
    return {"id": f"t1-{ds}-{ms}-{metric}-best", "source": "Table 1 / Sec. 4.3", "kind": "best",
            "text": f"SWAP has the {adjective} {METRIC_LABELS[metric]} of the five methods on {_SHORT[ds]} "
                    f"{_HOLES[ms]}",
            "dataset": ds, "mask_set": ms, "metric": metric, "order": [OURS, *BASELINES]}


CLAIMS = [
    {"id": "t1-outdoor-center-psnr-swap-vs-sgenet", "source": "Table 1 / Sec. 4.3", "kind": "order",
     "text": "SWAP beats SGE-Net in PSNR on OST centre holes", "dataset": "outdoor", "mask_set": "center",
     "metric": "psnr", "order": [OURS, ("sgenet", "default")]},
    *[_best(ds, ms, "psnr", "highest") for ds in ("outdoor", "cityscapes") for ms in ("center", "irregular")],
    *[_best(ds, ms, "fid", "lowest") for ds in ("outdoor", "cityscapes") for ms in ("center", "irregular")],
    *[_best(ds, "irregular", "ssim", "highest") for ds in ("outdoor", "cityscapes")],
    *[{"id": f"t2-{ds}-miou-order", "source": "Table 2 / Sec. 4.5.3", "kind": "order",
       "text": f"mIoU on {_SHORT[ds]}: SWAP > SGE-Net > SPG-Net", "dataset": ds, "mask_set": None,
       "metric": "miou", "order": [OURS, ("sgenet", "default"), ("spgnet", "default")]}
      for ds in ("outdoor", "cityscapes")],
    *[{"id": f"t3-outdoor-{metric}-order", "source": "Table 3 / Sec. 4.5.4", "kind": "order",
       "text": f"Full > SWAP > Att > Base in {METRIC_LABELS[metric]} on OST (better = "
               f"{'higher' if HIGHER_BETTER[metric] else 'lower'})",
       "dataset": "outdoor", "mask_set": paper.TABLE3_MASK_SET, "metric": metric,
       "order": [("swap", "full"), ("swap", "swap"), ("swap", "att"), ("swap", "base")]}
      for metric in ("psnr", "ssim", "fid")],
    {"id": "t3-outdoor-swap-vs-att-fid", "source": "Sec. 4.5.1", "kind": "order",
     "text": "the SWAP module beats contextual attention: Ours (SWAP) has a lower FID than Ours (Att) on OST",
     "dataset": "outdoor", "mask_set": paper.TABLE3_MASK_SET, "metric": "fid",
     "order": [("swap", "swap"), ("swap", "att")]},
    {"id": "t3-outdoor-coloss-psnr", "source": "Sec. 4.5.4", "kind": "order",
     "text": "the coherence losses help: Ours (Full) has a higher PSNR than Ours (SWAP) on OST",
     "dataset": "outdoor", "mask_set": paper.TABLE3_MASK_SET, "metric": "psnr",
     "order": [("swap", "full"), ("swap", "swap")]},
    {"id": "user-study", "source": "Sec. 4.4", "kind": "external",
     "text": "SWAP gets the most first places in the user study (51.8 % of 2,000 rankings; SGE-Net 21.3 %, "
             "EdgeConnect 13.5 %, GatedConv 7.8 %, PEN-Net 5.6 %)"},
]


@dataclass
class ClaimResult:
    id: str
    text: str
    source: str
    status: str  # reproduced | not reproduced | not run
    detail: str = ""
    off_protocol: bool = False
    paper_holds: bool | None = None
    values: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)


def _label(method, variant, ablation: bool = False):
    if method == "swap" and (variant != "full" or ablation):
        return paper.SWAP_VARIANT_NAMES.get(variant, variant)
    return method_label(method, variant)


def _paper_value(claim, method, variant, mask_set):
    ds, metric = claim["dataset"], claim["metric"]
    if claim["id"].startswith("t3"):
        return paper.table3_value(ds, paper.TABLE3_MASK_SET, variant, metric)
    if metric == "miou":
        return paper.table2_value(ds, method, variant)
    return paper.table1_value(ds, mask_set, method, variant, metric)


def _pairs(claim):
    o = claim["order"]
    return [(o[0], x) for x in o[1:]] if claim["kind"] == "best" else list(zip(o[:-1], o[1:]))


def _holds(a, b, metric) -> bool:
    return a > b if HIGHER_BETTER.get(metric, True) else a < b


def _check_on(claim, agg, mask_set):
    """(status, detail, off_protocol, values, warnings) on one mask set."""
    metric = claim["metric"]
    abl = claim["id"].startswith("t3")

    def _label_(m, v):
        return _label(m, v, abl)

    vals, off, missing, warn = {}, [], [], []
    for m, v in claim["order"]:
        cfg = best_config(agg, claim["dataset"], mask_set, m, v)
        lab = _label_(m, v)
        if cfg is None:
            missing.append(f"no run of {lab}")
            continue
        if getattr(cfg, "constant", False):
            warn.append(f"{lab}: outputs constant inside the hole (!)")
        if getattr(cfg, "identical_to", None):
            warn.append(f"{lab}: per-image results identical to {' and '.join(cfg.identical_to)}'s (≡)")
        mean = getattr(cfg, f"{metric}_mean")
        if not isnum(mean):
            why = (cfg.reasons or {}).get(metric, "null")
            missing.append(f"{METRIC_LABELS[metric]} of {lab} is null ({why})")
            continue
        vals[(m, v)] = float(mean)
        if cfg.off_protocol:
            off.append(f"{lab}: " + "; ".join(cfg.off_protocol))
    where = f"{dataset_label(claim['dataset'])}, {mask_label(mask_set)}"
    if missing:
        return "not run", f"{where}: " + "; ".join(missing), bool(off), vals, warn
    failed = [(a, b) for a, b in _pairs(claim) if not _holds(vals[a], vals[b], metric)]
    dec = 3 if metric in ("ssim", "miou") else 2
    sym = ">" if HIGHER_BETTER.get(metric, True) else "<"
    if claim["kind"] == "best":
        s, rest = claim["order"][0], claim["order"][1:]
        detail = f"{_label_(*s)} {vals[s]:.{dec}f} vs " + ", ".join(f"{_label_(*r)} {vals[r]:.{dec}f}" for r in rest)
    else:
        detail = f" {sym} ".join(f"{_label_(*k)} {vals[k]:.{dec}f}" for k in claim["order"])
    detail = f"{where}, {METRIC_LABELS[metric]}: {detail}"
    if failed:
        detail += "; fails: " + ", ".join(f"{_label_(*a)} vs {_label_(*b)}" for a, b in failed)
    if off:
        detail += " (†: " + " | ".join(off) + ")"
    if warn:
        detail += " (warning: " + "; ".join(warn) + ")"
    return ("not reproduced" if failed else "reproduced"), detail, bool(off), vals, warn


def paper_holds(claim) -> bool | None:
    """Whether the claim holds on the paper's own printed numbers (a sanity check of the claims list)."""
    if claim["kind"] == "external":
        return None
    ms = claim["mask_set"] or "center"
    vals = {}
    for m, v in claim["order"]:
        pv = _paper_value(claim, m, v, ms)
        if not isnum(pv):
            return None
        vals[(m, v)] = pv
    return all(_holds(vals[a], vals[b], claim["metric"]) for a, b in _pairs(claim))


def check_claims(agg, claims=CLAIMS) -> list:
    out = []
    for c in claims:
        if c["kind"] == "external":
            out.append(ClaimResult(c["id"], c["text"], c["source"], "not run",
                                   "the paper's claim; this harness runs no user study"))
            continue
        if c["mask_set"] is None:
            sets = sorted({ms for ms in (agg.mask_set.unique() if agg is not None and not agg.empty else [])})
            results = [(ms, *_check_on(c, agg, ms)) for ms in sets]
            ran = [r for r in results if r[1] != "not run"]
            if not ran:
                detail = "; ".join(r[2] for r in results) or f"{dataset_label(c['dataset'])}: no run"
                out.append(ClaimResult(c["id"], c["text"], c["source"], "not run", detail,
                                       paper_holds=paper_holds(c)))
                continue
            status = "reproduced" if all(r[1] == "reproduced" for r in ran) else "not reproduced"
            out.append(ClaimResult(c["id"], c["text"], c["source"], status,
                                   " / ".join(r[2] for r in ran) + " (the paper does not state the mask set)",
                                   any(r[3] for r in ran), paper_holds(c),
                                   warnings=[w for r in ran for w in r[5]]))
            continue
        status, detail, off, vals, warn = _check_on(c, agg, c["mask_set"])
        out.append(ClaimResult(c["id"], c["text"], c["source"], status, detail, off, paper_holds(c),
                               {f"{m}/{v}": x for (m, v), x in vals.items()}, warn))
    return out
