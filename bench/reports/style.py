"""One figure style for every plot: Okabe-Ito colours (colour-blind safe), 7-pt type, column widths.

Figures are sized for a two-column paper: ``SINGLE`` (3.3 in) for plots, ``DOUBLE`` (6.9 in) for wide grids;
they are saved without tight cropping, so a PNG is exactly ``width_in * DPI`` pixels wide.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SINGLE = 3.3  # inches, one column
DOUBLE = 6.9  # inches, two columns
DPI = 200

OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7"}
# Fixed colour per method (registry name); ours in vermillion.
METHOD_COLORS = {"swap": OKABE_ITO["vermillion"], "gatedconv": OKABE_ITO["blue"], "pennet": OKABE_ITO["orange"],
                 "edgeconnect": OKABE_ITO["green"], "sgenet": OKABE_ITO["purple"], "spgnet": OKABE_ITO["sky"]}
SPARE = (OKABE_ITO["black"], "#777777", OKABE_ITO["sky"], OKABE_ITO["yellow"])
SWAP_VARIANT_COLORS = {"base": "#999999", "att": OKABE_ITO["sky"], "swap": OKABE_ITO["blue"],
                       "full": OKABE_ITO["vermillion"]}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")

RC = {
    "font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "xtick.labelsize": 6, "ytick.labelsize": 6,
    "legend.fontsize": 6, "legend.frameon": False, "axes.spines.top": False, "axes.spines.right": False,
    "axes.linewidth": 0.6, "lines.linewidth": 1.2, "lines.markersize": 3.5, "xtick.major.width": 0.6,
    "ytick.major.width": 0.6, "figure.dpi": DPI, "savefig.dpi": DPI, "pdf.fonttype": 3,
    "font.family": "DejaVu Sans", "axes.grid": True, "grid.linewidth": 0.3, "grid.color": "#dddddd",
}


@contextlib.contextmanager
def style():
    with plt.rc_context(RC):
        yield


class ColorMap:
    """Stable colour, marker and line style per (method, variant) label across all figures."""

    def __init__(self):
        self._spare = 0
        self._seen: dict = {}

    def __call__(self, method: str, variant: str = "default") -> dict:
        key = (method, variant)
        if key not in self._seen:
            if method == "swap" and variant != "full":
                color = SWAP_VARIANT_COLORS.get(variant, "#777777")
            elif method in METHOD_COLORS:
                color = METHOD_COLORS[method]
            else:
                color = SPARE[self._spare % len(SPARE)]
                self._spare += 1
            i = len(self._seen)
            self._seen[key] = {"color": color, "marker": MARKERS[i % len(MARKERS)],
                               "linestyle": LINESTYLES[i % len(LINESTYLES)]}
        return self._seen[key]


def save(fig, out_base: Path) -> list[Path]:
    """Write ``<out_base>.png`` and ``.pdf`` (exact size, no tight cropping) and close the figure."""
    out_base = Path(out_base)
    out_base.parent.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        p = out_base.with_suffix(f".{ext}")
        tmp = p.with_name(f".{p.name}.tmp")
        fig.savefig(tmp, format=ext, dpi=DPI)  # module global: read at call time
        tmp.replace(p)
        paths.append(p)
    plt.close(fig)
    return paths
