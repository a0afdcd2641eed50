"""What the benchmark scripts share: the best of repeated timings and the demo database."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = ROOT / "data" / "grid.duckdb"

T = TypeVar("T")


def best(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """The shortest of ``repeat`` timings of ``fn()`` (seconds) and its last result."""
    times, out = [], None
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def demo_db(path: str | Path) -> Path:
    """``path``, after building the demo city there (``python cli.py demo --end 2026-11-22``,
    the day the benchmarks query) if it is missing."""
    db = Path(path)
    if not db.exists():
        print(f"{db} is missing: building the demo city first", flush=True)
        subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), "demo",
                        "--end", "2026-11-22"], check=True)
    return db


def arguments(doc: str | None, repeat: int = 3) -> argparse.ArgumentParser:
    """The options every benchmark takes: ``--db`` (the demo database) and ``--repeat``
    (timings per figure, the best is kept); a script adds its own."""
    p = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    p.add_argument("--db", default=str(DEFAULT_DB))
    p.add_argument("--repeat", type=int, default=repeat)
    return p
