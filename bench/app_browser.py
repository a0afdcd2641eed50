"""Benchmark: the situation map of the whole demo city in headless Chromium.

    python bench/app_browser.py [--db data/grid.duckdb] [--repeat 3]

Starts ``streamlit run app.py`` on the demo database (resolution 9, last 4 weeks, the
default view) and, in Debian's Chromium at 1920×1080, times from navigation to "page ready":
the heading shown, Streamlit idle, and the Leaflet map drawn with its cells. The first visit
is cold (the server computes everything); the next ones hit the app's caches in a new
browser session each time. Also prints the map component's HTML size as the browser got it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import arguments  # noqa: E402


def main() -> int:
    p = arguments(__doc__)
    a = p.parse_args()

    from tests.browser import browser_available, browser_page, running_app, wait_ready

    why = browser_available()
    if why:
        print(f"cannot run: {why}")
        return 1
    db = Path(a.db)
    times = []
    with running_app(db) as base:
        for i in range(a.repeat + 1):
            with browser_page() as (page, rec):
                t0 = time.monotonic()
                page.goto(f"{base}/")
                wait_ready(page, "态势地图", "[data-testid='stMetric']")
                frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
                frame.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane path"
                              ).first.wait_for(timeout=60_000)
                times.append(time.monotonic() - t0)
                paths = frame.locator(".leaflet-overlay-pane canvas, path.leaflet-interactive"
                                      ).count()
                outside = rec.outside()
            print(f"{'cold' if i == 0 else 'warm'} visit {i}: page ready in {times[-1]:.2f} s; "
                  f"{paths:,} canvas/path elements; requests leaving this machine: {len(outside)}")
    print(f"cold {times[0]:.2f} s; warm best {min(times[1:]):.2f} s (aim: within 5 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
