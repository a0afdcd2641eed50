"""The records a question counts: one definition from the database to every number.

Every statistic counts records of two sources (docs/hotspots.md, docs/indicators.md):

* complaints that are not void (作废 cases were never filed): :func:`not_void`;
* inspections that found problems: :func:`found_problems`.

These two functions are the only places that write those rules; :class:`Records` builds the
SQL of the records of a question from them and from its filters:

* the period ``[start, stop)`` as naive local timestamps (received_at / inspected_at);
* the source: ``complaints``, ``inspections`` or ``all`` (:data:`SOURCES`);
* categories: the complaint category / the inspection's problem category (with
  ``subcategories`` a complaint also matches by its subcategory, as the backlog counts);
* a district, by name or id;
* ``located``: only records located inside a district by their coordinates (the cell
  statistics: ``located_by = 'polygon'``);
* ``scope``: the jurisdictions a user may see, as a tuple of district-level jurisdiction ids
  (``district_id IN scope``); ``None`` (the default) is everything, an empty tuple nothing.
  It is the hook of the access-scoped query: every statistic built on :class:`Records`
  honours it the same way.

A zone (the urban-rural fringe) is a filter on cells, not on records: the study area of
:mod:`analytics.studyarea` applies it to the cells of the records found here.

The SQL uses DuckDB named parameters (``$r_start``, ``$r_cat0``, …; the prefix is
:attr:`Records.prefix`), so a caller may reuse it inside a larger query with its own named
parameters and never rewrites ``?`` placeholders.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The record sources a question may count.
SOURCES = ("complaints", "inspections", "all")

#: Per source: the table's time column, category column and the standard column
#: expressions (``{a}`` is the table alias prefix); other names are the table's own column.
_COLUMNS: dict[str, dict[str, str]] = {
    "complaints": {"source": "'complaints'", "rec_at": "{a}received_at",
                   "category": "{a}category", "subcategory": "{a}subcategory"},
    "inspections": {"source": "'inspections'", "rec_at": "{a}inspected_at",
                    "category": "{a}problem_category", "subcategory": "NULL::VARCHAR"},
}


def not_void(alias: str = "", *, unknown_counts: bool = False) -> str:
    """SQL condition: the case is not void.

    Parameters
    ----------
    alias : str
        Prefix of the status column (``"c."``).
    unknown_counts : bool
        Whether a case without a status counts (``IS DISTINCT FROM``, as the repeated
        complaints count them); by default it does not (``<>``).
    """
    col = f"{alias}status"
    return f"{col} IS DISTINCT FROM 'void'" if unknown_counts else f"{col} <> 'void'"


def found_problems(alias: str = "") -> str:
    """SQL condition: the inspection found problems (at least one)."""
    return f"{alias}problems > 0"


def in_cell(res: int, alias: str = "", param: str = "cell") -> str:
    """SQL condition: the fine cell stored with the row lies in the cell bound as ``$param``
    at resolution ``res`` (``h3_parent``; a cell at ``res`` is its own parent)."""
    return (f"{alias}cell IS NOT NULL AND h3_parent({alias}cell, {int(res)}) "
            f"= ${param}::UBIGINT")


def week_index(col: str = "rec_at", param: str = "week_origin") -> str:
    """SQL: the week of ``col`` counted from the Monday bound as ``$param`` (0, 1, …; whole
    weeks of 7 × 24 hours, so local Mondays start the weeks)."""
    return (f"CAST(floor(date_diff('second', ${param}::TIMESTAMP, {col}) / 604800.0) "
            "AS BIGINT)")


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """``[start 00:00, end + 1 day 00:00)``: inclusive local days as timestamps."""
    return (dt.datetime.combine(start, dt.time()),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))


@dataclass(frozen=True)
class Records:
    """Which records a question counts, and the SQL that yields them.

    Attributes
    ----------
    source : str
        complaints, inspections or all.
    start, stop : datetime, optional
        The period ``[start, stop)``; None leaves that side open.
    categories : tuple of str
        Complaint categories / inspection problem categories; empty means all.
    district : str, optional
        One district, by name or id.
    scope : tuple of str, optional
        District-level jurisdiction ids the records must lie in (``district_id``); None is
        everything.
    located : bool
        Only records located inside a district by their coordinates.
    void : bool
        Keep void complaints too (the backlog judges voidness per count).
    subcategories : bool
        A category filter also matches a complaint's subcategory.
    unknown_status_counts : bool
        A complaint without a status counts as not void.
    cell : tuple of (int, int), optional
        (cell, resolution): only records whose fine cell lies in that cell.
    needs : tuple of str
        Columns that must not be empty (``("cell",)``, ``("lon",)``; ``category`` is the
        inspection's problem category).
    prefix : str
        Prefix of the named parameters.
    """

    source: str = "complaints"
    start: dt.datetime | None = None
    stop: dt.datetime | None = None
    categories: tuple[str, ...] = ()
    district: str | None = None
    scope: tuple[str, ...] | None = None
    located: bool = False
    void: bool = False
    subcategories: bool = False
    unknown_status_counts: bool = False
    cell: tuple[int, int] | None = None
    needs: tuple[str, ...] = ()
    prefix: str = "r"

    def sources(self) -> tuple[str, ...]:
        """The tables counted, complaints first."""
        if self.source not in SOURCES:
            raise ValueError(f"the source must be one of {', '.join(SOURCES)}, "
                             f"not {self.source!r}")
        return ("complaints", "inspections") if self.source == "all" else (self.source,)

    def where(self, table: str, alias: str = "") -> tuple[str, dict]:
        """SQL condition selecting the counted records of ``table``, and its parameters."""
        a, p = alias, self.prefix
        conds: list[str] = []
        params: dict = {}
        if table == "complaints":
            if not self.void:
                conds.append(not_void(a, unknown_counts=self.unknown_status_counts))
        elif table == "inspections":
            conds.append(found_problems(a))
        else:
            raise ValueError(f"no records in table {table!r}")
        conds += [f"{_COLUMNS[table].get(col, '{a}' + col).format(a=a)} IS NOT NULL"
                  for col in self.needs]
        if self.cell is not None:
            conds.append(in_cell(self.cell[1], a, f"{p}_cell"))
            params[f"{p}_cell"] = self.cell[0]
        time = _COLUMNS[table]["rec_at"].format(a=a)
        if self.start is not None:
            conds.append(f"{time} >= ${p}_start")
            params[f"{p}_start"] = self.start
        if self.stop is not None:
            conds.append(f"{time} < ${p}_stop")
            params[f"{p}_stop"] = self.stop
        if self.located:
            conds.append(f"{a}district_id IS NOT NULL AND {a}located_by = 'polygon'")
        if self.district:
            conds.append(f"({a}district = ${p}_district OR {a}district_id = ${p}_district)")
            params[f"{p}_district"] = self.district
        if self.scope is not None:
            names = [f"${p}_scope{i}" for i in range(len(self.scope))]
            conds.append(f"{a}district_id IN ({', '.join(names)})" if names else "false")
            params.update(zip([n[1:] for n in names], self.scope, strict=True))
        if self.categories:
            names = [f"${p}_cat{i}" for i in range(len(self.categories))]
            params.update(zip([n[1:] for n in names], self.categories, strict=True))
            cat = _COLUMNS[table]["category"].format(a=a)
            cond = f"{cat} IN ({', '.join(names)})"
            if self.subcategories and table == "complaints":
                cond = f"({cond} OR {a}subcategory IN ({', '.join(names)}))"
            conds.append(cond)
        return " AND ".join(conds) or "true", params

    def select(self, columns: Sequence[str], *, alias: str | Mapping[str, str] = "",
               tables: Mapping[str, str] | None = None,
               exprs: Mapping[str, Mapping[str, str]] | None = None) -> tuple[str, dict]:
        """SQL of the counted records with ``columns`` (UNION ALL over the sources).

        Parameters
        ----------
        columns : sequence of str
            Output names: ``source``, ``rec_at`` (received_at / inspected_at), ``category``
            (category / problem_category), ``subcategory`` (NULL for inspections), or a
            column both tables have (cell, lon, lat, district, …).
        alias : str or mapping
            Alias prefix of the table (``"i."``) used in ``tables``, or one per source.
        tables : mapping, optional
            Per source, the FROM clause (default the table itself), e.g. with a join.
        exprs : mapping, optional
            Per source, column name → SQL expression overriding the standard one.
        """
        parts, params = [], {}
        for src in self.sources():
            a = alias if isinstance(alias, str) else alias.get(src, "")
            cols = []
            for col in columns:
                expr = (exprs or {}).get(src, {}).get(col)
                if expr is None:
                    expr = _COLUMNS[src].get(col, "{a}" + col).format(a=a)
                cols.append(col if expr == col else f"{expr} AS {col}")
            where, p = self.where(src, a)
            params.update(p)
            parts.append(f"SELECT {', '.join(cols)} FROM {(tables or {}).get(src, src)} "
                         f"WHERE {where}")
        return " UNION ALL ".join(parts), params
