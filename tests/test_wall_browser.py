"""The wall (/wall) in Debian's Chromium on a copy of the demo city: one screen with no
scrollbars at 1920×1080 and 3840×2160, every KPI tile visible, main figures ≥ 48 px at
1920×1080, offline, no dialog; then refresh cycles with ?refresh=1 and the server's memory.
Screenshots go to build/screenshots/."""

from __future__ import annotations

import shutil

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

HEADING = "城市网格化管理指挥大屏"
TILE = "[data-testid='wall-tile']"
MAP_FRAME = "[data-testid='stIFrame']"


@pytest.fixture(scope="module")
def wall_db(demo_city, tmp_path_factory):
    db, _ = demo_city
    return shutil.copy(db, tmp_path_factory.mktemp("wall_browser") / "grid.duckdb")


def _check_screen(page, rec, name: str, min_font: float | None) -> None:
    page.frame_locator(MAP_FRAME).locator(".leaflet-container").first.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    size = page.evaluate("""() => ({sh: document.documentElement.scrollHeight,
        sw: document.documentElement.scrollWidth, ih: innerHeight, iw: innerWidth})""")
    assert size["sh"] <= size["ih"] and size["sw"] <= size["iw"], size
    tiles = page.locator(TILE)
    assert tiles.count() == 7
    for i in range(7):
        assert tiles.nth(i).is_visible()
        box = tiles.nth(i).bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= size["ih"], box
    if min_font is not None:
        sizes = page.eval_on_selector_all(
            ".wall-figure", "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))")
        assert len(sizes) == 7 and min(sizes) >= min_font, sizes
    assert not page.locator("[data-testid='stException']").count()
    screenshot(page, name)
    assert rec.outside() == [], rec.outside()[:5]
    assert rec.dialogs == []


@pytest.mark.parametrize("width,height,min_font", [(1920, 1080, 48), (3840, 2160, None)])
@pytest.mark.parametrize("today", ["2026-11-22", "2026-11-23"])
def test_wall_fits_the_screen_offline(wall_db, width, height, min_font, today):
    """2026-11-22: the demo's last day (fresh data, a full week of categories);
    2026-11-23: a Monday with no data yet (the stale banner shows)."""
    with running_app(wall_db, today=today) as base, browser_page(width, height) as (page, rec):
        for query, name in (("", "all"), ("?district=青秀区", "district")):
            page.goto(f"{base}/wall{query}")
            wait_ready(page, HEADING if not query else HEADING + " · 青秀区", TILE)
            stale = page.get_by_text("数据已超过").count() > 0
            assert stale == (today == "2026-11-23")
            _check_screen(page, rec, f"wall-{name}-{today}-{width}x{height}", min_font)
        assert rec.unexpected_errors() == [], rec.unexpected_errors()[:5]


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_wall_rotates_between_views(wall_db, width, height):
    with running_app(wall_db) as base, browser_page(width, height) as (page, rec):
        page.goto(f"{base}/wall?rotate=2&refresh=2")
        wait_ready(page, HEADING, TILE, idle=False)
        # KPIs + map first, then rankings + lists (no tiles), then back
        page.wait_for_function("() => document.querySelectorAll('.wall-tile').length === 0 "
                               "&& document.querySelectorAll('.wall-table').length >= 3",
                               timeout=30_000)
        page.wait_for_timeout(300)
        size = page.evaluate("""() => ({sh: document.documentElement.scrollHeight,
            sw: document.documentElement.scrollWidth, ih: innerHeight, iw: innerWidth,
            bottom: Math.max(...[...document.querySelectorAll('.wall-box')]
                                 .map(e => e.getBoundingClientRect().bottom))})""")
        assert size["sh"] <= size["ih"] and size["sw"] <= size["iw"], size
        assert size["bottom"] <= size["ih"], size
        screenshot(page, f"wall-rotate-lists-{width}x{height}")
        page.wait_for_function("() => document.querySelectorAll('.wall-tile').length === 7",
                               timeout=30_000)
        assert rec.outside() == [] and rec.dialogs == []


def test_refresh_cycles_keep_memory_bounded(wall_db):
    psutil = pytest.importorskip("psutil")
    with running_app(wall_db) as base, browser_page() as (page, rec):
        server = _server_process(psutil, base)
        page.goto(f"{base}/wall?refresh=1")
        wait_ready(page, HEADING, TILE, idle=False)
        page.wait_for_timeout(3000)
        start = server.memory_info().rss
        faded = set()
        for _ in range(40):  # about 20 refresh cycles; nothing fades while one runs
            faded.add(page.evaluate("""() => Math.min(1, ...[...document.querySelectorAll(
                '[data-stale="true"]')].map(e => +getComputedStyle(e).opacity))"""))
            page.wait_for_timeout(500)
        assert faded == {1}, faded
        grown = server.memory_info().rss - start
        assert grown < 300 * 2**20, f"RSS grew {grown / 2**20:.0f} MB in 20 refreshes"
        assert not page.locator("[data-testid='stException']").count()
        assert rec.outside() == [] and rec.dialogs == []


def _tile(page, label: str) -> int:
    tile = page.locator(TILE).filter(has_text=label).first
    return int(tile.locator(".wall-figure").inner_text().replace(",", "").strip())


def test_an_import_shows_at_the_next_refresh(wall_db, tmp_path):
    """A CLI ingest while the wall is up: the next refresh shows it, with no page reload."""
    db = shutil.copy(wall_db, tmp_path / "grid.duckdb")
    labels = ("今日受理", "本周受理", "未结案", "超期未结")
    with running_app(db, today="2026-11-22") as base, browser_page() as (page, rec):
        page.goto(f"{base}/wall?refresh=2")
        wait_ready(page, HEADING, TILE, idle=False)
        before = {k: _tile(page, k) for k in labels}
        page.evaluate("() => { window.__sameDocument = true; }")
        ingest_open_cases(db, tmp_path, 40, "WALL")
        page.wait_for_function(
            "n => [...document.querySelectorAll('[data-testid=wall-tile]')].some(t => "
            "t.innerText.includes('今日受理') && t.querySelector('.wall-figure').innerText"
            ".replace(/,/g, '') == String(n))", arg=before["今日受理"] + 40, timeout=30_000)
        after = {k: _tile(page, k) for k in labels}
        assert after == {k: v + 40 for k, v in before.items()}
        assert page.evaluate("() => window.__sameDocument === true")  # not reloaded
        assert not page.locator("[data-testid='stException']").count()
        screenshot(page, "wall-after-import")
        assert rec.outside() == [] and rec.dialogs == []


def _server_process(psutil, base: str):
    port = int(base.rsplit(":", 1)[1])
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            return psutil.Process(conn.pid)
    pytest.skip("cannot find the streamlit server process")
