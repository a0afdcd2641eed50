"""End to end in Debian's Chromium: every page at 1920×1080, offline, no console errors,
no script run from data, and an import landing while the app is open.

Starts ``streamlit run app.py`` against a copy of the demo city. Screenshots are saved to
build/screenshots/ for a person to look at.
"""

import datetime as dt
import shutil

import pandas as pd
import pytest

from tests.browser import (
    browser_available,
    browser_page,
    ingest_open_cases,
    running_app,
    screenshot,
    wait_ready,
)

pytestmark = pytest.mark.skipif(browser_available() is not None,
                                reason=browser_available() or "")

METRIC = "[data-testid='stMetric']"
PAGES = [("", "态势地图", METRIC), ("map", "态势地图", METRIC), ("backlog", "积案督办", METRIC),
         ("fringe", "城乡结合部", METRIC), ("import", "数据导入", "[data-testid='stFileUploader']"),
         ("briefing", "周报导出", "[data-testid='stButton']"),
         ("settings", "设置", "[data-testid='stButton']")]
XSS = ["<script>alert('xss1')</script>", "<img src=x onerror=alert('xss2')>",
       "${alert('xss3')}", "`alert('xss4')`"]


@pytest.fixture(scope="module")
def app_db(demo_city, tmp_path_factory):
    db, _ = demo_city
    tmp = tmp_path_factory.mktemp("browser")
    return shutil.copy(db, tmp / "grid.duckdb")


def test_every_page_offline_with_headings_and_no_errors(app_db):
    with running_app(app_db) as base, browser_page() as (page, rec):
        times = {}
        for path, heading, ready in PAGES:
            page.goto(f"{base}/{path}")
            times[path or "/"] = wait_ready(page, heading, ready)
            if path in ("", "map"):
                frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
                frame.locator(".leaflet-container").first.wait_for(timeout=30_000)
                frame.locator(".leaflet-overlay-pane canvas").first.wait_for(timeout=30_000)
            assert not page.locator("[data-testid='stException']").count(), path
            screenshot(page, f"page-{path or 'home'}")
        assert rec.outside() == [], rec.outside()[:5]
        assert rec.unexpected_errors() == [], rec.unexpected_errors()[:5]
        assert rec.dialogs == []
        print("page ready (s):", {k: round(v, 2) for k, v in times.items()})


def test_untrusted_text_is_shown_as_text(synthetic_city, tmp_path):
    from ingest.pipeline import ingest_file

    db = shutil.copy(synthetic_city[0], tmp_path / "x.duckdb")
    at = (108.3301, 22.8301)
    rows = [{"工单编号": f"X{i}", "受理时间": "2026-11-20 10:00", "问题大类": "市容环境",
             "问题描述": text, "地址": text, "经度": at[0], "纬度": at[1], "处置时限": "2026-11-21 10:00"}
            for i, text in enumerate(XSS)]
    pd.DataFrame(rows).to_csv(tmp_path / "x.csv", index=False)
    ingest_file(db, "complaints", tmp_path / "x.csv", crs="wgs84", now=dt.datetime(2026, 11, 23))
    pts = [{"点位编号": f"P{i}", "点位名称": text, "点位类型": "背街小巷", "经度": at[0] + 0.001 * i,
            "纬度": at[1]} for i, text in enumerate(XSS)]
    pd.DataFrame(pts).to_csv(tmp_path / "p.csv", index=False)
    ingest_file(db, "points", tmp_path / "p.csv", crs="wgs84", now=dt.datetime(2026, 11, 23))
    import h3

    cell = h3.cell_to_parent(h3.latlng_to_cell(at[1], at[0], 12), 9)
    with running_app(db) as base, browser_page() as (page, rec):
        page.goto(f"{base}/map?cell={cell}")
        wait_ready(page, "态势地图")
        for text in XSS:
            page.get_by_text(text, exact=False).first.wait_for(timeout=30_000)
        screenshot(page, "xss-map")
        for path, heading, _ in PAGES[2:4]:  # this city has no fringe zone: no tiles there
            page.goto(f"{base}/{path}")
            wait_ready(page, heading)
            assert not page.locator("[data-testid='stException']").count(), path
        assert rec.dialogs == [], rec.dialogs


def test_an_import_lands_while_the_app_is_open(app_db, tmp_path):
    with running_app(app_db) as base, browser_page() as (page, rec):
        page.goto(f"{base}/backlog")
        wait_ready(page, "积案督办", METRIC)
        before = _metric(page, "未结案")
        ingest_open_cases(app_db, tmp_path, 50, "NEW")
        page.reload()
        wait_ready(page, "积案督办", METRIC)
        assert not page.locator("[data-testid='stException']").count()
        assert not page.locator("[data-testid='stAlert']").filter(has_text="错误").count()
        assert _metric(page, "未结案") == before + 50  # the new open cases, no restart
        screenshot(page, "after-import")
        assert rec.dialogs == []


def _metric(page, label: str) -> int:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    value = box.locator("[data-testid='stMetricValue']").inner_text()
    return int(value.replace(",", "").strip())
