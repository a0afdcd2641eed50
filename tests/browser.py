"""Helpers for the end-to-end browser tests: start ``streamlit run app.py`` on a free local
port, drive Debian's Chromium with Playwright (never ``playwright install``), record every
request, console error and dialog.

Screenshots go to ``build/screenshots/`` (not committed) so that a person can look at them.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def browser_available() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not shutil.which("chromium"):
        return "Debian's chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install playwright)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(db: Path, *, today: str = "2026-11-23", settings: Path | None = None):
    """``streamlit run app.py`` against ``db``; yields the base URL; stops it afterwards."""
    port = free_port()
    env = dict(os.environ, GRID_DB=str(db), GRID_TODAY=today,
               STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    if settings is not None:
        env["GRID_SETTINGS"] = str(settings)
    log = open(db.parent / f"streamlit-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("the app did not answer within 60 s; see " + log.name)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@dataclass
class Recorder:
    """Everything the page asked for or complained about."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)

    def unexpected_errors(self) -> list[str]:
        """Console errors, less Streamlit's own probing of a deep URL for its base path
        (``/backlog/_stcore/health`` answers 404 before ``/_stcore/health`` is tried),
        which the browser logs as failed loads; any other failed load is kept, by URL."""
        probes = [u for code, u in self.failed
                  if code == 404 and re.search(r"/[^/]+/_stcore/(health|host-config)$", u)]
        other = [f"{code} {u}" for code, u in self.failed if u not in probes]
        errors = [e for e in self.console_errors if not e.startswith("Failed to load resource")]
        loads = [e for e in self.console_errors if e.startswith("Failed to load resource")]
        if len(loads) > len(probes):
            errors += other or loads[len(probes):]
        return errors

    def outside(self) -> list[str]:
        """Requests to any host other than this machine."""
        return [u for u in self.requests
                if urlparse(u).scheme in ("http", "https", "ws", "wss")
                and urlparse(u).hostname not in ("127.0.0.1", "localhost", "::1")]


@contextmanager
def browser_page(width: int = 1920, height: int = 1080):
    """A Playwright page in Debian's Chromium with a recorder attached."""
    from playwright.sync_api import sync_playwright

    rec = Recorder()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), headless=True,
                                     args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="zh-CN")
        page = context.new_page()
        page.on("request", lambda req: rec.requests.append(req.url))
        page.on("response", lambda r: rec.failed.append((r.status, r.url))
                if r.status >= 400 else None)
        page.on("console", lambda msg: rec.console_errors.append(msg.text)
                if msg.type == "error" else None)

        def on_dialog(dialog):
            rec.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        try:
            yield page, rec
        finally:
            context.close()
            browser.close()


def wait_ready(page, heading: str, selector: str | None = None,
               timeout_ms: int = 60_000, idle: bool = True) -> float:
    """Wait until the page shows ``heading`` (and ``selector``, when given) and Streamlit has
    been idle (no running indicator) for half a second; returns the seconds it took.

    ``idle=False`` skips the idle wait, for a page that refreshes itself every second or
    two (the wall with ``?refresh=1``) and so may never be idle for long on a busy machine.
    """
    t0 = time.monotonic()
    page.get_by_role("heading", name=heading).first.wait_for(timeout=timeout_ms)
    if selector:
        page.locator(selector).first.wait_for(timeout=timeout_ms)
    if not idle:
        return time.monotonic() - t0
    quiet_since = None
    while time.monotonic() - t0 < timeout_ms / 1000:
        running = page.locator("[data-testid='stStatusWidget']").count() > 0
        if running:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 0.5:
            return quiet_since - t0
        page.wait_for_timeout(100)
    raise TimeoutError(f"page with heading {heading!r} still running after {timeout_ms} ms")


def screenshot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def ingest_open_cases(db: Path, folder: Path, n: int, prefix: str) -> str:
    """``python cli.py ingest complaints`` of ``n`` open 市容环境 cases received 2026-11-22
    10:00, due 12:00 (so overdue by that evening), as a separate process, the way a city's
    import runs beside the app; returns its standard output."""
    import pandas as pd

    rows = [{"工单编号": f"{prefix}{i}", "受理时间": "2026-11-22 10:00", "问题大类": "市容环境",
             "经度": 108.33, "纬度": 22.83, "处置时限": "2026-11-22 12:00",
             "处理状态": "处置中"} for i in range(n)]
    path = Path(folder) / f"{prefix}.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), "ingest",
                        "complaints", str(path), "--crs", "wgs84"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and f"inserted={n}" in r.stdout, r.stdout + r.stderr
    return r.stdout
