"""Colours, classes, labels and the legend of the app's map layers (Chinese and English).

Counts and densities use fixed 1-2-5 classes on ColorBrewer's YlOrRd, Gi* bins the usual
red/blue diverging scheme, emerging categories one colour each; text is escaped with
:func:`esc` before it reaches HTML.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analytics.emerging import CATEGORIES, CATEGORY_LABELS_ZH

# --- labels -----------------------------------------------------------------------------

_T = {
    "records": ("件数", "Records"),
    "street": ("街道/区", "Street / district"),
    "density": ("每平方公里件数", "Records per km²"),
    "gi_bin": ("热点分析 Gi*", "Gi* hot spot"),
    "emerging": ("时空热点模式", "Emerging pattern"),
    "name": ("点位", "Point"),
    "type": ("类型", "Type"),
    "zero": ("0（无记录）", "0 (no records)"),
    "cells": ("网格单元", "Cells"),
    "districts": ("区县界", "District outlines"),
    "streets": ("街道界", "Street outlines"),
    "communities": ("社区界", "Community outlines"),
    "fringe": ("城乡结合部", "Urban-rural fringe"),
    "points": ("考察点位", "Inspection points"),
    "selected": ("选中单元", "Selected cell"),
}

GI_LABELS = {
    3: ("热点（99%置信）", "Hot spot, 99% confidence"),
    2: ("热点（95%置信）", "Hot spot, 95% confidence"),
    1: ("热点（90%置信）", "Hot spot, 90% confidence"),
    0: ("不显著", "Not significant"),
    -1: ("冷点（90%置信）", "Cold spot, 90% confidence"),
    -2: ("冷点（95%置信）", "Cold spot, 95% confidence"),
    -3: ("冷点（99%置信）", "Cold spot, 99% confidence"),
}
GI_COLOURS = {3: "#d62f27", 2: "#ed7551", 1: "#fab984", 0: "#e6e6e6",
              -1: "#c0ccbe", -2: "#849eba", -3: "#4575b5"}

EMERGING_COLOURS = {
    "new_hotspot": "#ff2b2b", "consecutive_hotspot": "#fc8d59",
    "intensifying_hotspot": "#7f0000", "persistent_hotspot": "#b30000",
    "diminishing_hotspot": "#fdbb84", "historical_hotspot": "#e3b9a8",
    "oscillating_hotspot": "#e7298a", "sporadic_hotspot": "#fa9fb5",
    "new_coldspot": "#0570b0", "consecutive_coldspot": "#74a9cf",
    "intensifying_coldspot": "#023858", "persistent_coldspot": "#045a8d",
    "diminishing_coldspot": "#a6bddb", "historical_coldspot": "#c6cadf",
    "oscillating_coldspot": "#7570b3", "sporadic_coldspot": "#bcbddc",
    "no_pattern": "#e6e6e6",
}

#: Sequential classes (ColorBrewer YlOrRd, 7 classes) for counts and densities.
SEQUENTIAL = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026")
ZERO_COLOUR = "#e6e6e6"
#: Point-type colours (Tableau 20), given in the order of the full list of types.
POINT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896",
                 "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5")


def _t(key: str, lang: str) -> str:
    zh, en = _T[key]
    return en if lang == "en" else zh


def emerging_label(code: str, lang: str = "zh") -> str:
    """``new_hotspot`` → 新增热点 / New hot spot."""
    if lang == "en":
        text = code.replace("_hotspot", " hot spot").replace("_coldspot", " cold spot")
        return text.replace("_", " ").capitalize()
    return CATEGORY_LABELS_ZH.get(code, code)


def esc(value) -> str:
    """Text for HTML: escaped (``&``, ``<``, ``>``, quotes); missing values give ''."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)



# --- colours and legend -----------------------------------------------------------------

def class_breaks(values: np.ndarray, n: int = len(SEQUENTIAL)) -> list[float]:
    """Lower bounds of up to ``n`` classes of the positive values, on a 1-2-5 sequence.

    The first bound is the 1-2-5 step at or below the smallest positive value; the last
    class is open-ended. Fixed steps keep the legend readable and stable from one filter
    to the next (1, 2, 5, 10, 20, 50, 100+ for counts).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    if len(v) == 0:
        return []
    lo, hi = float(v.min()), float(v.max())
    e = math.floor(math.log10(lo))
    steps = [m * 10.0 ** k for k in range(e, math.floor(math.log10(hi)) + 2) for m in (1, 2, 5)]
    start = max(i for i, s in enumerate(steps) if s <= lo * (1 + 1e-9))
    out = [s for s in steps[start:] if s <= hi * (1 + 1e-9)]
    return out[:n]


def _fmt(x: float) -> str:
    return f"{x:g}" if x >= 1 else f"{x:.2g}"


def style_cells(cells: pd.DataFrame, mode: str, lang: str = "zh"
                ) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Colour ``c`` and tooltip value ``v`` of each cell for ``mode``, and the legend.

    ``cells`` has the columns of :func:`analytics.celldetail.cell_layer` (at least h3,
    count, value, street, district). Returns a copy with ``c`` and ``v`` added and the
    legend as (colour, label) pairs, labels as plain text (escape them to draw them).
    """
    out = cells.copy()
    counts = out["count"].to_numpy(dtype=np.int64)
    legend: list[tuple[str, str]] = []
    if mode in ("count", "density"):
        value = out["value"].to_numpy(dtype=float)
        breaks = class_breaks(value)
        colours = np.full(len(out), ZERO_COLOUR, dtype=object)
        if breaks:
            idx = np.searchsorted(np.asarray(breaks), value, side="right") - 1
            pos = value > 0
            colours[pos] = np.asarray(SEQUENTIAL, dtype=object)[np.clip(idx[pos], 0, None)]
        if (value <= 0).any():
            legend.append((ZERO_COLOUR, _t("zero", lang)))
        for i, b in enumerate(breaks):
            if i + 1 < len(breaks):
                nxt = breaks[i + 1]
                if mode == "count":
                    label = _fmt(b) if nxt - b <= 1 else f"{_fmt(b)}–{_fmt(nxt - 1)}"
                else:
                    label = f"{_fmt(b)} – {_fmt(nxt)}"
            else:
                label = f"≥ {_fmt(b)}"
            legend.append((SEQUENTIAL[i], label))
        out["c"] = colours
        if mode == "count":
            out["v"] = counts.astype(str)
        else:
            out["v"] = [f"{x:.1f}" for x in value]
    elif mode == "gi_bin":
        bins = out["gi_bin"].to_numpy(dtype=np.int64)
        out["c"] = [GI_COLOURS[int(b)] for b in bins]
        out["v"] = [GI_LABELS[int(b)][1 if lang == "en" else 0] for b in bins]
        legend = [(GI_COLOURS[b], GI_LABELS[b][1 if lang == "en" else 0])
                  for b in (3, 2, 1, 0, -1, -2, -3)]
    elif mode == "emerging":
        cats = out["category"].fillna("no_pattern").to_numpy(dtype=object)
        out["c"] = [EMERGING_COLOURS.get(c, ZERO_COLOUR) for c in cats]
        out["v"] = [emerging_label(c, lang) for c in cats]
        present = set(cats)
        legend = [(EMERGING_COLOURS[c], emerging_label(c, lang)) for c in CATEGORIES
                  if c in present]
    else:
        raise ValueError(f"unknown layer mode {mode!r}")
    return out, legend


def point_colours(types: Sequence[str]) -> dict[str, str]:
    """A fixed colour per inspection-point type, in the order of ``types``."""
    return {t: POINT_COLOURS[i % len(POINT_COLOURS)] for i, t in enumerate(types)}
