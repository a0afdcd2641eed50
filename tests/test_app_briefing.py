"""The briefing page gives the same files as the export-weekly command (issue 6)."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT
from views.briefing import recent_weeks

SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from views.briefing import render
render()
"""


def test_recent_weeks():
    import datetime as dt

    assert recent_weeks(dt.date(2026, 11, 23), 3) == ["2026-W47", "2026-W46", "2026-W45"]
    assert recent_weeks(dt.date(2027, 1, 6), 2) == ["2026-W53", "2026-W52"]


def test_button_gives_the_cli_files(demo_city, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    db, _ = demo_city
    monkeypatch.setenv("GRID_DB", str(db))
    monkeypatch.setenv("GRID_TODAY", "2026-11-23")
    monkeypatch.setenv("GRID_SETTINGS", str(tmp_path / "none.toml"))
    script = tmp_path / "page.py"
    script.write_text(SCRIPT.format(root=str(ROOT)), encoding="utf-8")
    at = AppTest.from_file(str(script), default_timeout=180)
    at.run()
    assert not at.exception
    assert at.selectbox(key="briefing_week").value == "2026-W47"
    at.button(key="briefing_go").click().run()
    assert not at.exception
    out = tmp_path / "cli"
    r = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--db", str(db), "export-weekly",
                        "--week", "2026-W47", "--out", str(out)], capture_output=True, text=True,
                       timeout=300, env={**__import__("os").environ,
                                         "GRID_SETTINGS": str(tmp_path / "none.toml")})
    assert r.returncode == 0, r.stderr
    from views import briefing

    files = briefing._export(str(db), None, "2026-W47", __import__("datetime").date(2026, 11, 23))
    for ext in (".xlsx", ".geojson"):
        name, data = files[ext]
        assert (out / name).read_bytes() == data, ext
    labels = [b.label for b in at.get("download_button")]
    assert len(labels) == 4, labels


if __name__ == "__main__":
    pytest.main([__file__])
