"""Command line: ``python cli.py COMMAND …`` (the command table in README.md, "Command line").

Exit codes: 0 success; 2 bad arguments or unreadable input (one line naming the file,
field or row); 3 the database is busy with another import for longer than the wait.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _fail(message: str, code: int = 2) -> int:
    print(f"错误 error: {message}", file=sys.stderr)
    return code


def cmd_ingest(a: argparse.Namespace) -> int:
    from ingest.pipeline import ingest_file

    progress = sys.stderr.isatty()
    res = ingest_file(a.db, a.kind, a.file, mapping=a.mapping, crs=a.crs, encoding=a.encoding,
                      progress=progress)
    print(res.summary_line())
    for w in res.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for n in res.notes:
        print(f"note: {n}")
    if res.unchanged:
        print(f"unchanged={res.unchanged}")
    for row, field, reason in res.first_rejections:
        print(f"rejected {res.file_name} row {row} ({field}): {reason}")
    if res.rejected > len(res.first_rejections):
        print(f"… all {res.rejected} rejected rows are in table rejected_rows, batch_id={res.batch_id}")
    if a.rejected_out and res.rejected:
        from analytics.outputs import guard_cells
        from ingest.pipeline import rejected_frame
        guard_cells(rejected_frame(a.db, res.batch_id)).to_csv(a.rejected_out, index=False,
                                                                encoding="utf-8-sig")
        print(f"rejected rows written to {a.rejected_out}")
    return 0


def cmd_load_boundaries(a: argparse.Namespace) -> int:
    from ingest.boundaries import load_boundaries

    rep = load_boundaries(a.db, a.file, a.level, crs=a.crs, id_field=a.id_field,
                          name_field=a.name_field, parent_field=a.parent_field)
    print(rep.summary())
    return 0


def cmd_load_zones(a: argparse.Namespace) -> int:
    from ingest.zones import load_zones

    rep = load_zones(a.db, a.file, a.kind, crs=a.crs, name_field=a.name_field)
    print(rep.summary())
    return 0


def cmd_derive_fringe(a: argparse.Namespace) -> int:
    from ingest.zones import derive_fringe

    rep = derive_fringe(a.db, a.core, width_km=a.width_km, crs=a.crs)
    print(rep.summary())
    return 0


def cmd_demo(a: argparse.Namespace) -> int:
    from democity.build import build_demo

    end = None if a.end in (None, "today") else _date(a.end, "--end")
    info = build_demo(a.db, seed=a.seed, end=end, weeks=a.weeks, complaints=a.complaints,
                      out_dir=a.out_dir)
    for line in info.get("log", []):
        print(line)
    print(f"demo city ready: {info.get('db', a.db)}")
    return 0


def cmd_hotspots(a: argparse.Namespace) -> int:
    from analytics.hotspots import HotspotQuery, compute_hotspots
    from analytics.outputs import write_table
    from store.database import read_connection

    q = HotspotQuery(_date(a.start, "--start"), _date(a.end, "--end"), res=a.res, k=a.k,
                     source=a.source, categories=a.category or [], district=a.district,
                     zone=a.zone)
    with read_connection(a.db) as conn:
        res = compute_hotspots(conn, q)
    rows = res.rows(all_cells=a.all_cells)
    write_table(rows, a.out)
    hot = int((res.cells.gi_bin > 0).sum())
    cold = int((res.cells.gi_bin < 0).sum())
    print(f"cells={res.n_cells} records={res.n_records} hot={hot} cold={cold} "
          f"rows={len(rows)} -> {a.out}")
    if res.note:
        print(f"note: {res.note}")
    return 0


def _hotspot_query(a: argparse.Namespace, source: str | None = None):
    from analytics.hotspots import HotspotQuery

    return HotspotQuery(_date(a.start, "--start"), _date(a.end, "--end"), res=a.res, k=a.k,
                        source=source or getattr(a, "source", "complaints"),
                        categories=a.category or [], district=a.district,
                        zone=getattr(a, "zone", None))


def cmd_blindspots(a: argparse.Namespace) -> int:
    from analytics.blindspots import find_blindspots
    from analytics.outputs import write_table
    from store.database import read_connection

    q = _hotspot_query(a, "complaints")
    q.check()
    with read_connection(a.db) as conn:
        blind = find_blindspots(conn, q)
    write_table(blind, a.out)
    print(f"blind_spots={len(blind)} in_fringe={int(blind.in_fringe.sum()) if len(blind) else 0}"
          f" -> {a.out}")
    return 0


def cmd_fringe(a: argparse.Namespace) -> int:
    from analytics.fringe import fringe_focus
    from analytics.outputs import write_table
    from store.database import read_connection

    q = _hotspot_query(a)
    with read_connection(a.db) as conn:
        focus = fringe_focus(conn, q, kinds=a.kind or None)
    write_table(focus.summary, a.out, cell_column=None)
    if a.cells_out:
        write_table(focus.ranked, a.cells_out)
    for row in focus.summary.itertuples():
        print(f"{row.kind}: per_km2_in={row.per_km2_in:.2f} per_km2_out={row.per_km2_out:.2f} "
              f"hot_in={row.hot_cells_in}/{row.hot_cells_total}")
    if focus.note:
        print(f"note: {focus.note}")
    return 0


def cmd_emerging(a: argparse.Namespace) -> int:
    from analytics.emerging import EmergingQuery, compute_emerging
    from analytics.outputs import write_table
    from store.database import read_connection

    q = EmergingQuery(_date(a.end, "--end"), weeks=a.weeks, res=a.res, k=a.k,
                      time_step=a.time_step, source=a.source, categories=a.category or [],
                      district=a.district, zone=a.zone)
    with read_connection(a.db) as conn:
        res = compute_emerging(conn, q)
    rows = res.rows(all_cells=a.all_cells)
    write_table(rows, a.out)
    counts = rows.category.value_counts()
    summary = " ".join(f"{k}={v}" for k, v in counts.items() if k != "no_pattern")
    print(f"cells={res.n_cells} weeks={res.weeks[0]}..{res.weeks[-1]} {summary or 'no patterns'}"
          f" rows={len(rows)} -> {a.out}")
    if res.note:
        print(f"note: {res.note}")
    return 0


def cmd_repeats(a: argparse.Namespace) -> int:
    from analytics.outputs import write_table
    from analytics.repeats import find_repeats
    from store.database import read_connection

    with read_connection(a.db) as conn:
        places = find_repeats(conn, _date(a.start, "--start"), _date(a.end, "--end"),
                              min_count=a.min, res=a.res)
    write_table(places, a.out)
    print(f"places={len(places)} complaints={int(places.complaints.sum()) if len(places) else 0}"
          f" -> {a.out}")
    return 0


def _as_of(text: str, option: str) -> dt.datetime:
    """A time, or a bare date meaning the end of that day (24:00)."""
    try:
        if len(text.strip()) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text.strip()), dt.time()) + \
                dt.timedelta(days=1)
        return dt.datetime.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise ValueError(f"{option} {text!r}: expected a time like 2026-11-22T18:00 or a "
                         "date like 2026-11-22 (the end of that day)") from None


def cmd_backlog(a: argparse.Namespace) -> int:
    from analytics.backlog import BacklogQuery, compute_backlog
    from analytics.outputs import write_table
    from config.settings import load_settings
    from store.database import read_connection

    as_of = _as_of(a.as_of, "--as-of")
    start = dt.datetime.combine(_date(a.start, "--start"), dt.time()) if a.start else None
    q = BacklogQuery(as_of, start, levels=(a.level,), source=a.source,
                     categories=a.category or [])
    q.check()
    settings = load_settings(a.db, a.settings)
    with read_connection(a.db) as conn:
        res = compute_backlog(conn, q, settings)
    rows = res.level(a.level, detail=a.detail)
    write_table(rows, a.out, cell_column=None)
    city = rows.iloc[-1]
    print(f"period={res.start:%Y-%m-%d %H:%M}..{res.as_of:%Y-%m-%d %H:%M} rows={len(rows) - 1} "
          f"open={city.open} overdue={city.overdue} filed={city.filed} -> {a.out}")
    for w in res.warnings:
        print(f"warning: {w}")
    return 0


def cmd_export_weekly(a: argparse.Namespace) -> int:
    from analytics.briefing import parse_iso_week
    from config.settings import load_settings
    from ui.briefing_files import export_weekly

    parse_iso_week(a.week)  # a malformed or future week fails before the database is read
    settings = load_settings(a.db, a.settings)
    for path in export_weekly(a.db, a.week, a.out, settings=settings):
        print(path)
    return 0


def cmd_coverage(a: argparse.Namespace) -> int:
    from analytics.coverage import coverage_table
    from analytics.outputs import write_table
    from config.settings import load_settings
    from store.database import read_connection

    settings = load_settings(a.db, a.settings)
    with read_connection(a.db) as conn:
        table = coverage_table(conn, _date(a.start, "--start"), _date(a.end, "--end"), a.level,
                               settings)
    write_table(table, a.out, cell_column=None)
    city = table.iloc[-1]
    rate = "" if city.coverage_rate != city.coverage_rate else f"{city.coverage_rate:.4f}"
    print(f"rows={len(table) - 1} points={city.points} visits_due={city.visits_due} "
          f"visits_done={city.visits_done} coverage_rate={rate} -> {a.out}")
    return 0


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} {text!r}: expected a date like 2026-11-22") from None


def cmd_serve(a: argparse.Namespace) -> int:
    env = dict(os.environ)
    if a.db:
        env["GRID_DB"] = str(a.db)
    args = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
            "--server.port", str(a.port), "--server.headless", "true",
            "--browser.gatherUsageStats", "false"]
    return subprocess.call(args, env=env)


def _period(s: argparse.ArgumentParser) -> None:
    s.add_argument("--start", required=True, help="first day, YYYY-MM-DD")
    s.add_argument("--end", required=True, help="last day, YYYY-MM-DD (inclusive)")


def _cell_options(s: argparse.ArgumentParser, *, source: bool = True, zone: bool = True) -> None:
    """Options shared by the cell statistics: resolution, rings and the record filters."""
    s.add_argument("--res", type=int, default=9, help="H3 resolution 7-10")
    s.add_argument("--k", type=int, default=1, help="neighbourhood: rings of cells")
    if source:
        s.add_argument("--source", default="complaints",
                       choices=["complaints", "inspections", "all"])
    s.add_argument("--category", action="append", help="only this category (repeatable)")
    s.add_argument("--district", help="only this district (name or code)")
    if zone:
        s.add_argument("--zone", help="only this kind of zone, e.g. fringe")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python cli.py",
                                description="城市网格化管理分析 grid-management analytics")
    p.add_argument("--db", default=None,
                   help="database file (default data/grid.duckdb or $GRID_DB)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("demo", help="build the demo city (Nanning) from nothing")
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--end", default=None,
                   help="last day, YYYY-MM-DD, exported at 23:59 (default: today, exported at "
                        "the current minute of Nanning's local time)")
    s.add_argument("--weeks", type=int, default=26)
    s.add_argument("--complaints", type=int, default=200_000)
    s.add_argument("--out-dir", default="data/demo", help="where the raw demo files are written")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("load-boundaries", help="jurisdiction polygons (district/street/community/grid)")
    s.add_argument("file")
    s.add_argument("--level", required=True, choices=["district", "street", "community", "grid"])
    s.add_argument("--crs", default=None, help="wgs84 | gcj02 | bd09 | cgcs2000 (else the file's own)")
    s.add_argument("--id-field")
    s.add_argument("--name-field")
    s.add_argument("--parent-field")
    s.set_defaults(func=cmd_load_boundaries)

    s = sub.add_parser("load-zones", help="tagged areas such as the urban-rural fringe")
    s.add_argument("file")
    s.add_argument("--kind", required=True, help="fringe or any other kind of zone")
    s.add_argument("--crs", default=None)
    s.add_argument("--name-field")
    s.set_defaults(func=cmd_load_zones)

    s = sub.add_parser("derive-fringe", help="fringe = band outside the built-up core")
    s.add_argument("--core", required=True, help="polygon file of the built-up core")
    s.add_argument("--width-km", type=float, default=3.0)
    s.add_argument("--crs", default=None)
    s.set_defaults(func=cmd_derive_fringe)

    s = sub.add_parser("ingest", help="complaints, inspection points or inspections")
    s.add_argument("kind", choices=["complaints", "inspections", "points"])
    s.add_argument("file")
    s.add_argument("--mapping", help="TOML mapping file (docs/import.md)")
    s.add_argument("--crs", default=None, help="wgs84 | gcj02 | bd09 | cgcs2000")
    s.add_argument("--encoding", default="auto")
    s.add_argument("--rejected-out", help="also write the rejected rows to this CSV")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("hotspots", help="Getis-Ord Gi* hotspots with FDR bins")
    _period(s)
    _cell_options(s)
    s.add_argument("--all-cells", action="store_true", help="every cell of the study area")
    s.add_argument("--out", required=True, help=".csv, .geojson or .parquet")
    s.set_defaults(func=cmd_hotspots)

    s = sub.add_parser("emerging", help="emerging hot-spot categories over weekly bins")
    s.add_argument("--end", required=True, help="a day of the last week, YYYY-MM-DD")
    s.add_argument("--weeks", type=int, default=12, help="number of ISO weeks (at least 8)")
    s.add_argument("--time-step", type=int, default=1, help="earlier weeks in a neighbourhood")
    _cell_options(s)
    s.add_argument("--all-cells", action="store_true", help="also cells with no pattern")
    s.add_argument("--out", required=True, help=".csv, .geojson or .parquet")
    s.set_defaults(func=cmd_emerging)

    s = sub.add_parser("blindspots", help="complaint hotspots that inspections do not reach")
    _period(s)
    _cell_options(s, source=False, zone=False)
    s.add_argument("--out", required=True, help=".csv, .geojson or .parquet")
    s.set_defaults(func=cmd_blindspots)

    s = sub.add_parser("repeats", help="places with repeated complaints")
    _period(s)
    s.add_argument("--min", type=int, default=5, help="complaints that make a place repeated")
    s.add_argument("--res", type=int, default=12, help="fine cell resolution 10-12")
    s.add_argument("--out", required=True, help=".csv, .geojson or .parquet")
    s.set_defaults(func=cmd_repeats)

    s = sub.add_parser("fringe", help="fringe focus: density and hotspots inside vs outside")
    _period(s)
    _cell_options(s, zone=False)
    s.add_argument("--kind", action="append", help="zone kind (default: all, fringe first)")
    s.add_argument("--out", required=True, help="summary per zone kind: .csv or .parquet")
    s.add_argument("--cells-out", help="ranked hot cells inside each zone kind")
    s.set_defaults(func=cmd_fringe)

    s = sub.add_parser("backlog", help="backlog and on-time indicators per jurisdiction")
    s.add_argument("--as-of", required=True,
                   help="time T (2026-11-22T18:00), or a date meaning the end of that day")
    s.add_argument("--start", help="first day of the period (default T - 7 days)")
    s.add_argument("--level", required=True, choices=["district", "street", "community", "grid"])
    s.add_argument("--source", default="all", choices=["all", "complaints", "inspections"],
                   help="cases: complaints and unrectified inspection problems (default)")
    s.add_argument("--category", action="append", help="only this category (repeatable)")
    s.add_argument("--detail", action="store_true",
                   help="also the previous period's rates, the score and the grade")
    s.add_argument("--settings", help="settings file (default settings.toml by the database)")
    s.add_argument("--out", required=True, help=".csv or .parquet")
    s.set_defaults(func=cmd_backlog)

    s = sub.add_parser("coverage", help="inspection coverage and rectification per jurisdiction")
    _period(s)
    s.add_argument("--level", required=True, choices=["district", "street", "community", "grid"])
    s.add_argument("--settings", help="settings file (default settings.toml by the database)")
    s.add_argument("--out", required=True, help=".csv or .parquet")
    s.set_defaults(func=cmd_coverage)

    s = sub.add_parser("export-weekly", help="the weekly hotspot briefing (XLSX, DOCX, PNG, "
                       "GeoJSON)")
    s.add_argument("--week", required=True, help="ISO week, e.g. 2026-W47")
    s.add_argument("--settings", help="settings file (default settings.toml by the database)")
    s.add_argument("--out", required=True, help="folder for the briefing files")
    s.set_defaults(func=cmd_export_weekly)

    s = sub.add_parser("serve", help="start the app (same as streamlit run app.py)")
    s.add_argument("--port", type=int, default=8501)
    s.set_defaults(func=cmd_serve)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from analytics.errors import OptionError
    from ingest.errors import InputError
    from store.database import DatabaseBusyError, DatabaseMissingError

    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        return _fail(str(exc))
    except DatabaseMissingError as exc:
        return _fail(str(exc))
    except DatabaseBusyError as exc:
        return _fail(str(exc), 3)
    except OptionError as exc:  # an analytic's parameter: its flag in front of the words
        return _fail(f"--{exc.option}: {exc}" if exc.option else str(exc))
    except ValueError as exc:  # BoundaryError and bad option values derive from ValueError
        return _fail(str(exc))
    except FileNotFoundError as exc:
        return _fail(f"{exc.filename}: file not found")


if __name__ == "__main__":
    sys.exit(main())
