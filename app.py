"""Streamlit entry: ``streamlit run app.py`` (or ``python cli.py serve``).

Thin by design: every number shown comes from ``analytics/``; this file only lays out.
The database is opened read-only per refresh, so a CLI import can land while the app
runs; the cache is keyed on the file's version, so new data shows at the next rerun.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402

from analytics.overview import (  # noqa: E402
    cell_counts,
    district_overview,
    jurisdiction_shapes,
    zone_shapes,
)
from store.database import (  # noqa: E402
    DatabaseBusyError,
    DatabaseMissingError,
    database_version,
    db_path,
    read_connection,
)
from ui.citymap import draw_city_map  # noqa: E402

COLUMN_LABELS = {
    "district": "区县", "area_km2": "面积(km²)", "complaints": "投诉件数",
    "open_complaints": "未办结", "points": "考察点位", "inspections": "督查次数",
    "complaints_per_km2": "每平方公里投诉",
}


@st.cache_data(show_spinner="正在读取数据…")
def load_overview(path: str, version: tuple[int, int] | None) -> tuple[pd.DataFrame, bytes, int]:
    """Everything the page shows, for one version of the database file."""
    with read_connection(path) as conn:
        table = district_overview(conn)
        cells = cell_counts(conn, res=8)
        png = draw_city_map(jurisdiction_shapes(conn, "district"), cells,
                            zone_shapes(conn, "fringe"), title="投诉分布（H3 8级网格）")
        batches = conn.execute("SELECT count(*) FROM import_batches").fetchall()[0][0]
    return table, png, int(batches)


def main() -> None:
    st.set_page_config(page_title="城市网格化管理 · 态势总览", layout="wide")
    st.title("城市网格化管理 · 态势总览")
    path = str(db_path())
    try:
        table, png, batches = load_overview(path, database_version(path))
    except DatabaseMissingError:
        st.warning("还没有数据库。请先运行 `python cli.py demo` 生成示范城市，或导入本市数据。")
        return
    except DatabaseBusyError:
        st.warning("数据库正被其他程序独占打开，请稍后刷新。")
        return
    city = table.iloc[-1]
    cols = st.columns(4)
    cols[0].metric("投诉总量", f"{int(city.complaints):,}")
    cols[1].metric("未办结", f"{int(city.open_complaints):,}")
    cols[2].metric("考察点位", f"{int(city.points):,}")
    cols[3].metric("督查次数", f"{int(city.inspections):,}")
    left, right = st.columns([3, 2])
    with left:
        st.image(png, caption="区县界线与投诉密度（无底图，离线绘制）", width="stretch")
    with right:
        st.subheader("各区县统计")
        shown = table.drop(columns=["jurisdiction_id"]).round(
            {"area_km2": 1, "complaints_per_km2": 1}).rename(columns=COLUMN_LABELS)
        st.dataframe(shown, hide_index=True, width="stretch")
    st.caption(f"数据库：{path} · 导入批次 {batches}")


if __name__ == "__main__":
    main()
