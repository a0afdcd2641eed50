"""Streamlit entry: ``streamlit run app.py`` (or ``python cli.py serve``).

Thin by design: the pages in ``views/`` lay out and call ``analytics/``. Stable URL paths
(docs/app.md, "URL paths"): ``/`` and ``/map`` (situation map), ``/backlog``, ``/fringe``,
``/briefing`` (the weekly briefing's files), ``/import``, ``/settings`` and ``/wall`` (the
wall screen). The database is opened read-only per load; the caches are keyed on the file's
version, so a CLI import shows at the next rerun without a restart.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from ui.common import LANGUAGES, language, tr  # noqa: E402
from views import backlog, briefing, data_import, fringe, settings, situation, wall  # noqa: E402


def pages() -> list:
    """The pages with their stable URL paths; the map answers at / and at /map.

    No page icons: emoji need a colour font the intranet machines may lack, and Streamlit's
    Material icons are fetched from a font CDN (the browser test caught it)."""
    return [
        st.Page(situation.render, title=tr("态势地图", "Situation map"),
                url_path="home", default=True),
        st.Page(situation.render, title=tr("态势地图", "Situation map"),
                url_path="map"),
        st.Page(backlog.render, title=tr("积案督办", "Backlog"), url_path="backlog"),
        st.Page(fringe.render, title=tr("城乡结合部", "Urban-rural fringe"),
                url_path="fringe"),
        st.Page(briefing.render, title=tr("周报导出", "Weekly briefing"), url_path="briefing"),
        st.Page(data_import.render, title=tr("数据导入", "Import"), url_path="import"),
        st.Page(settings.render, title=tr("设置", "Settings"), url_path="settings"),
        st.Page(wall.render, title=tr("指挥大屏", "Wall"), url_path="wall"),
    ]


def main() -> None:
    st.set_page_config(page_title=tr("城市网格化管理分析", "City grid management analytics"),
                       layout="wide")
    all_pages = pages()
    nav = st.navigation(all_pages, position="hidden")
    if nav.url_path == "wall":  # the wall screen has no sidebar
        nav.run()
        return
    with st.sidebar:
        st.markdown(f"### {tr('城市网格化管理', 'City grid management')}")
        for page in all_pages[1:]:  # the map once, at /map
            st.page_link(page)
        choice = st.radio(tr("语言 Language", "Language 语言"), list(LANGUAGES),
                          index=list(LANGUAGES).index(language()),
                          format_func=LANGUAGES.get, horizontal=True, key="lang_choice")
        if choice != language():
            st.session_state["lang"] = choice
            st.rerun()
        st.divider()
    nav.run()


main()
