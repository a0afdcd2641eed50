"""One definition of the records that count (analytics/records.py).

* No module but analytics/records.py writes the void rule or the "inspection found
  problems" rule as SQL.
* Changing the void rule in that one place changes the hotspots, the backlog and the wall
  together, to the values an independent pandas computation predicts.
* The access scope (district ids) is a real filter: hotspot counts with one district in
  scope equal that district's counts computed from the raw records with the h3 library.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path

import duckdb
import h3
import pandas as pd
import pytest

from analytics import records
from analytics.backlog import BacklogQuery, compute_backlog
from analytics.hotspots import HotspotQuery, compute_hotspots
from analytics.records import Records
from analytics.wall import wall_numbers
from tests.test_backlog import LIMITS, T1, T2
from tests.test_backlog import city as backlog_city  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[1]
RULES = re.compile(r"status\s*(<>|!=)\s*'void'|IS\s+DISTINCT\s+FROM\s+'void'|problems\s*>\s*0",
                   re.IGNORECASE)
START, END = dt.date(2026, 10, 26), dt.date(2026, 11, 22)
NOW = dt.datetime(2026, 11, 22, 15, 30)


def _sql_strings(tree: ast.AST) -> list[str]:
    """String constants of a module (f-string parts included), docstrings left out."""
    docs = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docs.add(id(body[0].value))
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]


#: Written on purpose without analytics: the benchmark's pandas baseline reads the cases its
#: own way, an independent competitor of compute_backlog (as the tests are).
INDEPENDENT = {"bench/backlog.py"}


def test_only_records_writes_the_rules():
    skip = {"tests", ".git", ".venv", "venv", "node_modules", "__pycache__"}
    offenders = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if (skip & set(rel.parts) or rel.as_posix() == "analytics/records.py"
                or rel.as_posix() in INDEPENDENT):
            continue
        strings = _sql_strings(ast.parse(path.read_text(encoding="utf-8")))
        offenders += [f"{rel}: {m.group(0)}" for s in strings for m in RULES.finditer(s)]
    assert offenders == []
    # the check itself finds the rules where they are written
    own = _sql_strings(ast.parse((ROOT / "analytics/records.py").read_text(encoding="utf-8")))
    assert any("<> 'void'" in s for s in own) and any("problems > 0" in s for s in own)


def test_scan_sees_sql_in_fstrings_not_docstrings():
    tree = ast.parse('"""status <> \'void\' in a docstring"""\n'
                     'x = f"SELECT 1 FROM c WHERE {a}status <> \'void\'"\n')
    found = [m.group(0) for s in _sql_strings(tree) for m in RULES.finditer(s)]
    assert found == ["status <> 'void'"]


# --- one rule, three statistics ---------------------------------------------------------

@pytest.fixture(scope="module")
def demo(demo_city):
    db, _ = demo_city
    con = duckdb.connect(str(db), read_only=True)
    comp = con.execute("SELECT complaint_id, received_at, status, district_id, located_by, "
                       "cell FROM complaints").df()
    insp = con.execute("SELECT inspected_at, problems, rectified_at FROM inspections").df()
    yield con, comp, insp
    con.close()


def _closed_too(alias: str = "", *, unknown_counts: bool = False) -> str:
    col = f"{alias}status"
    if unknown_counts:
        return f"coalesce({col}, '') NOT IN ('void', 'closed')"
    return f"{col} NOT IN ('void', 'closed')"


def _expected(comp: pd.DataFrame, insp: pd.DataFrame, counted: set[str]) -> dict:
    """hotspot n_records, backlog city filed, wall complaints_week by pandas, where a
    complaint counts when its status is in ``counted``."""
    ok = comp.status.isin(counted)
    lo, hi = pd.Timestamp(START), pd.Timestamp(END + dt.timedelta(days=1))
    rec = comp.received_at
    hot = (ok & (rec >= lo) & (rec < hi) & comp.district_id.notna()
           & (comp.located_by == "polygon") & comp.cell.notna())
    # backlog as of NOW, period [NOW - 7 days, NOW], both ends included; inspections with
    # problems are cases whose status is open until rectified
    t, s = pd.Timestamp(NOW), pd.Timestamp(NOW - dt.timedelta(days=7))
    filed_c = ok & (rec >= s) & (rec <= t)
    i_status = insp.rectified_at.isna().map({True: "open", False: "closed"})
    filed_i = ((insp.problems > 0) & i_status.isin(counted) & (insp.inspected_at >= s)
               & (insp.inspected_at <= t))
    monday = pd.Timestamp(NOW.date() - dt.timedelta(days=NOW.weekday()))
    week = ok & (rec >= monday) & (rec < t)
    return {"hot": int(hot.sum()), "filed": int(filed_c.sum() + filed_i.sum()),
            "week": int(week.sum())}


def _computed(con) -> dict:
    from config.settings import Settings

    hot = compute_hotspots(con, HotspotQuery(START, END, res=9))
    table = compute_backlog(con, BacklogQuery(NOW), Settings()).table
    wall = wall_numbers(con, NOW, None, Settings())
    return {"hot": hot.n_records, "filed": int(table[table.level == "city"].filed.iloc[0]),
            "week": wall.complaints_week}


def test_the_void_rule_is_one_place(demo, monkeypatch):
    con, comp, insp = demo
    statuses = set(comp.status.dropna()) | {"open", "closed"}
    before = _computed(con)
    assert before == _expected(comp, insp, statuses - {"void"})
    monkeypatch.setattr(records, "not_void", _closed_too)
    after = _computed(con)
    assert after == _expected(comp, insp, statuses - {"void", "closed"})
    assert all(after[k] < before[k] for k in before), (before, after)


# --- the access scope -------------------------------------------------------------------

def test_scope_keeps_only_the_districts_in_it(demo):
    con, comp, _ = demo
    ids = con.execute("SELECT jurisdiction_id FROM jurisdictions WHERE level = 'district' "
                      "ORDER BY 1").df().jurisdiction_id.tolist()
    one = ids[1]
    res = compute_hotspots(con, HotspotQuery(START, END, res=9, scope=(one,)))
    got = res.cells[res.cells["count"] > 0].set_index("h3")["count"].to_dict()
    lo, hi = pd.Timestamp(START), pd.Timestamp(END + dt.timedelta(days=1))
    mine = comp[(comp.status != "void") & comp.status.notna() & (comp.received_at >= lo)
                & (comp.received_at < hi) & (comp.district_id == one)
                & (comp.located_by == "polygon") & comp.cell.notna()]
    parents = [h3.cell_to_parent(h3.int_to_str(int(c)), 9) for c in mine.cell]
    want = pd.Series(parents).value_counts().to_dict()
    assert len(want) > 10 and got == want
    assert res.n_records == len(mine)
    # the study area stays the whole city: cells of the other districts are there, at zero
    whole = compute_hotspots(con, HotspotQuery(START, END, res=9))
    zero = whole.cells.h3[whole.cells["count"] == 0]
    assert set(zero) <= set(res.cells.h3) and whole.n_records > res.n_records
    # several districts add up; none in scope counts nothing
    two = compute_hotspots(con, HotspotQuery(START, END, res=9, scope=tuple(ids[:2])))
    first = compute_hotspots(con, HotspotQuery(START, END, res=9, scope=(ids[0],)))
    assert two.n_records == first.n_records + res.n_records
    assert compute_hotspots(con, HotspotQuery(START, END, res=9, scope=())).n_records == 0


def test_records_sql_is_named_and_filters(demo):
    con, comp, _ = demo
    rec = Records("complaints", dt.datetime(2026, 11, 16), dt.datetime(2026, 11, 23),
                  scope=("nope",))
    sql, params = rec.select(("rec_at",))
    assert "?" not in sql and set(params) == {"r_start", "r_stop", "r_scope0"}
    assert con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0] == 0
    sql, params = Records("all").select(("source",))
    n = dict(con.execute(f"SELECT source, count(*) FROM ({sql}) GROUP BY 1", params).fetchall())
    assert n["complaints"] == int((comp.status.notna() & (comp.status != "void")).sum())
    with pytest.raises(ValueError, match="source"):
        Records("faxes").select(("rec_at",))


# --- one preparation of the cases --------------------------------------------------------

def test_prepared_cases_give_the_same_figures(backlog_city):  # noqa: F811
    """One preparation (deadlines filled once) gives the figures and case lists of every T;
    a preparation under other handling limits registered later does not change it."""
    from analytics.backlog import BacklogError, prepare_cases
    from analytics.cases import overdue_cases
    from config.settings import Settings

    settings = Settings({"deadlines.categories": LIMITS})
    con = duckdb.connect(str(backlog_city), read_only=True)
    try:
        shared = prepare_cases(con, BacklogQuery(T1), settings)
        assert shared.filled > 0  # cases without a deadline: the fill is what is shared
        for t in (T1, T1 - dt.timedelta(days=7), T2):
            other = prepare_cases(con, BacklogQuery(t), Settings({"deadlines.categories": {}}))
            assert other.sql != shared.sql  # other fills, registered after the shared ones
            q = BacklogQuery(t, levels=("district", "street"))
            reused = compute_backlog(con, q, settings, cases=shared)
            alone = compute_backlog(con, q, settings)
            pd.testing.assert_frame_equal(alone.table, reused.table)
            assert (alone.warnings, alone.filled_deadlines) == (reused.warnings,
                                                               reused.filled_deadlines)
            pd.testing.assert_frame_equal(overdue_cases(con, t, settings=settings),
                                          overdue_cases(con, t, cases=shared))
        with pytest.raises(BacklogError, match="another source, category filter or scope"):
            compute_backlog(con, BacklogQuery(T1, source="complaints"), cases=shared)
        with pytest.raises(BacklogError, match="another source, category filter or scope"):
            overdue_cases(con, T1, categories=["市容环境"], cases=shared)
    finally:
        con.close()


def test_backlog_scope_keeps_its_districts_cases(backlog_city):  # noqa: F811
    """With one district in scope the city row is that district's row of the whole city:
    D1 holds every located case, D2 none."""
    from analytics.backlog import COUNT_COLUMNS
    from config.settings import Settings

    settings = Settings({"deadlines.categories": LIMITS})
    con = duckdb.connect(str(backlog_city), read_only=True)
    try:
        whole = compute_backlog(con, BacklogQuery(T1, levels=("district",)), settings).table
        rows = {}
        for d in ("D1", "D2"):
            t = compute_backlog(con, BacklogQuery(T1, levels=("district",), scope=(d,)),
                                settings).table
            rows[d] = t[t.level == "city"].iloc[0]
    finally:
        con.close()
    for d in ("D1", "D2"):
        want = whole[(whole.level == "district") & (whole.jurisdiction_id == d)].iloc[0]
        assert [rows[d][c] for c in COUNT_COLUMNS] == [want[c] for c in COUNT_COLUMNS], d
    assert rows["D1"]["filed"] > 0 and rows["D2"]["filed"] == 0
