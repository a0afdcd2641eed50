"""Benchmark: filling missing deadlines (analytics.deadlines.fill_due_at) for 1,000,000
cases of 40 categories, working days and working hours, 30 % with a deadline given.

    python bench/deadlines.py

Printed: the three timings and the number of deadlines computed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analytics.deadlines import fill_due_at  # noqa: E402

_DAY = 86_400


def main() -> int:
    rng = np.random.default_rng(0)
    size = 1_000_000
    start = np.datetime64("2025-01-01T00:00:00").astype(np.int64)
    recv = (start + rng.integers(0, 2 * 365 * _DAY, size)).astype("datetime64[s]")
    cats = np.array([f"类别{i}" for i in range(40)] + [None], dtype=object)
    cat = pd.Series(cats[rng.integers(0, len(cats), size)], dtype="string[pyarrow]")
    limits = {f"类别{i}": (i % 15 + 1 if i % 4 else f"{i % 8 + 1}h") for i in range(30)}
    given = np.where(rng.random(size) < 0.3, recv + np.timedelta64(3 * _DAY, "s"),
                     np.datetime64("NaT", "s"))
    settings = {"deadlines.categories": limits}
    fill_due_at(recv[:10], cat[:10], given[:10], settings)  # warm up imports
    took = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = fill_due_at(recv, cat, given, settings)
        took.append(time.perf_counter() - t0)
    print(f"fill_due_at: {size:,} rows, 40 categories, {int(res.computed.sum()):,} computed: "
          + ", ".join(f"{t:.3f} s" for t in took) + f"; warnings: {res.warnings}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
