"""The analytics' notes, as the analytics really write them, shown in Chinese (ui/notes)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import scipy.sparse as sp

from analytics.emerging import space_time_gi
from analytics.gistar import gi_star
from ui.notes import NOTES_ZH, note_text


def _notes_from_the_code() -> dict[str, str]:
    """Each known note produced by the code that writes it, with the Chinese expected."""
    eye = sp.identity(3, format="csr")
    out = {
        gi_star(np.array([]), sp.csr_matrix((0, 0))).note: "研究区内没有网格单元",
        gi_star(np.array([4.0]), sp.identity(1, format="csr")).note:
            "只有一个网格单元：Gi* 至少需要两个",
        gi_star(np.array([2.0, 2.0, 2.0]), eye).note:
            "所有单元的计数相同：没有热点或冷点（方差为零）",
        space_time_gi(np.ones((3, 1)), eye).note: "只有 1 个周：时空 Gi* 至少需要两周",
        space_time_gi(np.ones((3, 4)), eye).note:
            "每个单元每周的计数都相同：没有热点或冷点（方差为零）",
    }
    return out


def test_every_note_of_the_code_has_its_chinese():
    for english, chinese in _notes_from_the_code().items():
        assert english and note_text(english, "zh") == chinese, english
        assert note_text(english, "en") == english


def test_notes_from_the_database(synthetic_city):
    import duckdb

    from analytics.emerging import EmergingQuery, compute_emerging
    from analytics.hotspots import FEW_RECORDS, HotspotQuery, compute_hotspots

    db = synthetic_city[0]
    con = duckdb.connect(str(db), read_only=True)
    try:
        empty = compute_hotspots(con, HotspotQuery(dt.date(2025, 1, 1), dt.date(2025, 1, 7)))
        # one day's 街面秩序 complaints of one district: fewer than FEW_RECORDS
        n = con.execute("SELECT count(*) FROM complaints WHERE district = '青秀区' AND "
                        "received_at >= '2026-11-22' AND received_at < '2026-11-23'").fetchone()[0]
        few = compute_hotspots(con, HotspotQuery(dt.date(2026, 11, 22), dt.date(2026, 11, 22),
                                                 district="青秀区", categories=["街面秩序"]))
        partial = compute_emerging(con, EmergingQuery(dt.date(2026, 11, 19), weeks=8))
    finally:
        con.close()
    assert note_text(empty.note, "zh") == "所选时段和筛选条件下没有记录"
    assert n > 0 and few.n_records < FEW_RECORDS and few.note
    assert note_text(few.note, "zh") == (
        f"仅有 {few.n_records} 条记录：样本过少，Gi* 显著性的参考价值有限"
        f"（建议至少 {FEW_RECORDS} 条），请谨慎解读")
    joined = "; ".join(partial.notes) if hasattr(partial, "notes") else partial.note
    assert "最后一周 2026-W47 不完整：只含截至 2026-11-19 的记录" in note_text(joined, "zh")


def test_unknown_notes_pass_through_and_parts_are_joined():
    assert note_text("something new", "zh") == "something new"
    assert note_text("no cells in the study area; something new", "zh") == \
        "研究区内没有网格单元；something new"
    assert note_text(None) == "" and note_text("", "zh") == ""
    assert len(NOTES_ZH) == 8


@pytest.mark.parametrize("pattern", [p for p, _ in NOTES_ZH])
def test_patterns_are_anchored(pattern):
    assert pattern.pattern.startswith("^") and pattern.pattern.endswith("$")
