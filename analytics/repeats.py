"""Repeated-complaint places (重复投诉): complaints piling up at one place (docs/repeats.md).

A *place* is a group of complaints received in the window that are linked by sharing a key:

* the **cell** key: the complaint's H3 cell at resolution ``res`` (10-12; default 12, the
  stored fine cell, a hexagon about 20 m across), when it has coordinates;
* the **address** key: the complaint's address after :func:`normalise_address`, when that
  gives one (placeholders, very short addresses and bare jurisdiction names give none).

Complaints and keys form a bipartite graph; its connected components are the places, so the
links chain: A and B share a cell, B and C share an address, so A, B and C are one place
even though A and C share nothing. A place is reported when it holds at least ``min_count``
complaints. ``docs/repeats.md`` states every rule.

Everything runs column-wise (Arrow compute kernels, one sparse connected-components call and
one DuckDB aggregation): there is no Python loop over complaints.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import overload

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from analytics.errors import OptionError
from analytics.records import Records, day_bounds

REPEAT_COLUMNS = [
    "place_id", "matched_by", "complaints", "open", "first_received", "last_received",
    "days_span", "main_category", "categories", "address", "h3", "cells", "district",
    "street", "community", "grid_id", "lon", "lat", "complaint_ids",
]

#: Resolutions a place's cell key may take (12 = the stored fine cell).
RESOLUTIONS = (10, 11, 12)

#: How many complaint ids the ``complaint_ids`` column lists (newest first).
MAX_IDS = 20

#: An address shorter than this after normalisation is too vague to be a key.
MIN_ADDRESS_CHARS = 4

#: Normalised texts that mean "no address" (compared after the normalisation steps).
PLACEHOLDERS = frozenset({
    "无", "暂无", "没有", "不详", "未知", "不明", "空", "null", "none", "nan", "nat", "na",
    "地址不详", "不详地址", "地址未知", "未知地址", "地址不明", "无地址", "暂无地址",
    "详细地址不详", "具体地址不详", "具体位置不详", "位置不详", "位置未知", "见描述", "见内容",
    "详见描述", "详见内容",
})

#: Province-level names written without 省 / 自治区 / 市 (stripped only before a city).
_PROVINCE_SHORT = (
    "北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|"
    "湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆"
)
_PROVINCE = rf"(?:[^省市]{{2,3}}省|[^市]{{2,8}}?自治区|{_PROVINCE_SHORT})"
#: Characters that end a 市 word that is not a city: 超市 夜市 菜市 集市 早市 花市 街市
_NOT_CITY = "超夜菜集早花街"
#: ``^(中国)(province)?(city)`` with a 2-4 character city name ending in 市; the match ends
#: at the first 市 of the text (no 市 inside it), so the rest is what follows that 市.
#: Without a province in front, a name ending 城市 is an estate (万科城市花园), not a city.
_CITY_PREFIX = (rf"^(?:中国)?(?:{_PROVINCE}[^市]{{1,3}}?[^市0-9a-z{_NOT_CITY}]市"
                rf"|[^市]{{1,3}}?[^市0-9a-z{_NOT_CITY}城]市)")
#: A province written in full (…省, …自治区) at the start, with no city after it.
_PROVINCE_ONLY = r"^(?:中国)?[^省市]{2,3}省"
_REGION_ONLY = r"^(?:中国)?[^市]{2,8}?自治区"
#: Whitespace (ASCII and Unicode), punctuation, symbols, control and format characters.
_NOISE = r"[\s\p{Z}\p{P}\p{S}\p{Cc}\p{Cf}]"
#: Vague words at the end: near, beside, opposite, at the gate, around, in the area of.
_VAGUE_TAIL = r"(?:附近|旁边|旁|对面|门口|周边|一带)+$"
#: Fewer than two characters that are not digits ("100号": a house number, no street).
_FEW_LETTERS = r"^[0-9]*(?:[^0-9][0-9]*)?$"
#: Texts that only hold ASCII and CJK unified ideographs are already NFKC-normal.
_NEEDS_NFKC = r"[^\x00-\x7f\x{4e00}-\x{9fff}]"


class RepeatsError(OptionError):
    """A repeats query that cannot be answered; the message names the option (--start…)."""


# ---------------------------------------------------------------------------------------
# address normalisation


def _on_subset(arr: pa.Array, mask: pa.Array, func) -> pa.Array:
    """Apply ``func`` to the values where ``mask`` is true only; keep the others."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return arr
    return pc.replace_with_mask(arr, mask, func(pc.filter(arr, mask)).cast(arr.type))


def _after_first(arr: pa.Array, token: str) -> pa.Array:
    """The text after the first occurrence of ``token`` (every value holds it)."""
    return pc.list_element(pc.split_pattern(arr, token, max_splits=1), 1)


def _strip_prefix(arr: pa.Array) -> pa.Array:
    """Drop a leading ``(中国)(province)(city)``, or a province written in full."""
    def city(sub: pa.Array) -> pa.Array:
        rest = _after_first(sub, "市")
        # 朝阳市场 is a market, not the city 朝阳: keep a 市 that is followed by 场
        return pc.if_else(pc.starts_with(rest, "场"), sub, rest)

    arr = _on_subset(arr, pc.match_substring_regex(arr, _CITY_PREFIX), city)
    arr = _on_subset(arr, pc.match_substring_regex(arr, _PROVINCE_ONLY),
                     lambda a: _after_first(a, "省"))
    arr = _on_subset(arr, pc.match_substring_regex(arr, _REGION_ONLY),
                     lambda a: _after_first(a, "自治区"))
    return arr


def _normalise_array(values: pa.Array | pa.ChunkedArray, distinct: bool = False) -> pa.Array:
    """Normalised addresses of an Arrow string array (null where there is no address key).

    Unless ``distinct`` says the values are already distinct, the steps run on the
    distinct values only and the result is mapped back.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.string())
    if len(values) == 0:
        return values
    if not distinct:  # exports repeat the same address many times: work on distinct texts
        enc = pc.dictionary_encode(values)
        return pc.take(_normalise_array(enc.dictionary, distinct=True), enc.indices)
    a = values
    a = _on_subset(a, pc.match_substring_regex(a, _NEEDS_NFKC),
                   lambda x: pc.utf8_normalize(x, "NFKC"))
    a = pc.utf8_lower(a)
    a = _on_subset(a, pc.match_substring_regex(a, _NOISE),
                   lambda x: pc.replace_substring_regex(x, _NOISE + "+", ""))
    a = _strip_prefix(a)
    a = _on_subset(a, pc.match_substring_regex(a, _VAGUE_TAIL),
                   lambda x: pc.replace_substring_regex(x, _VAGUE_TAIL, ""))
    vague = pc.or_(pc.less(pc.utf8_length(a), MIN_ADDRESS_CHARS),
                   pc.match_substring_regex(a, _FEW_LETTERS))
    vague = pc.or_(vague, pc.is_in(a, value_set=pa.array(sorted(PLACEHOLDERS), a.type)))
    return pc.if_else(pc.fill_null(vague, True), pa.scalar(None, a.type), a)


@overload
def normalise_address(values: str | None) -> str | None: ...
@overload
def normalise_address(values: pd.Series) -> pd.Series: ...
@overload
def normalise_address(values: pa.Array | pa.ChunkedArray) -> pa.Array: ...


def normalise_address(values):
    """Normalise addresses so that one place written in different ways gives one key.

    Steps, in order (``docs/repeats.md`` has examples):

    1. Unicode NFKC: full-width digits, letters, brackets and spaces to half-width.
    2. Latin letters to lower case.
    3. Remove all whitespace, punctuation and symbols, Chinese and ASCII (，。、；：（）【】-_·"').
    4. Strip a leading ``(中国)(province)(city)``: an optional province (``…省``,
       ``…自治区`` or a short name such as 广西) followed by a 2-4 character city name
       ending in the first 市 of the text, unless that 市 is followed by 场 (市场) or ends
       超市, 夜市, 菜市, 集市, 早市, 花市 or 街市, or ends 城市 with no province in front
       (万科城市花园); else strip a province written in full (…省, …自治区).
    5. Strip trailing vague words: 附近, 旁边, 旁, 对面, 门口, 周边, 一带 (repeatedly).
    6. No key (None) for an empty text, a placeholder (无, 不详, 未知, null, 地址不详…),
       fewer than 4 characters left, or fewer than 2 characters that are not digits.

    (:func:`find_repeats` also drops keys that are only a jurisdiction's name.)

    Parameters
    ----------
    values : str, None, pandas.Series or pyarrow array
        One address or a whole column; a column is processed with Arrow compute kernels on
        its distinct values (1M rows with repeated addresses: about 0.1 s), never row by row.

    Returns
    -------
    str or None, pandas.Series or pyarrow.Array
        Same shape as the input; None / missing where the address gives no key.
    """
    if values is None or isinstance(values, str):
        return _normalise_array(pa.array([values], pa.string()))[0].as_py()
    if isinstance(values, pd.Series):
        arr = pa.array(values.astype("string"), from_pandas=True)
        out = _normalise_array(arr)
        res = out.to_pandas().astype("string")
        res.index, res.name = values.index, values.name
        return res
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return _normalise_array(values)
    raise TypeError(f"normalise_address expects a str, a pandas Series or an Arrow array, "
                    f"got {type(values).__name__}")


# ---------------------------------------------------------------------------------------
# places

def _window(start: dt.date, end: dt.date) -> Records:
    """The complaints of the window: received in the inclusive local days, not void (a
    complaint without a status counts)."""
    return Records("complaints", *day_bounds(start, end), unknown_status_counts=True,
                   prefix="w")


_ADDRESSES_SQL = "SELECT DISTINCT address FROM complaints WHERE address IS NOT NULL AND {window}"

#: Names of jurisdictions, alone or joined (青秀区, 新竹街道, 青秀区新竹街道): an address that
#: is only such a name is too vague to be a place.
_NAMES_SQL = """
WITH w AS (SELECT DISTINCT district, street, community FROM complaints WHERE {window})
SELECT name FROM jurisdictions WHERE name IS NOT NULL
UNION SELECT district FROM w UNION SELECT street FROM w UNION SELECT community FROM w
UNION SELECT district || street FROM w UNION SELECT street || community FROM w
UNION SELECT district || street || community FROM w
"""

_ROWS_SQL = """
SELECT c.complaint_id, c.received_at, c.category, c.address, c.status, c.closed_at,
       coalesce(h3_parent(c.cell, {res}), 0::UBIGINT) AS key_cell,
       coalesce(m.acode, -1) AS key_addr,
       c.lon, c.lat, c.district, c.street, c.community, c.grid_id
FROM complaints c LEFT JOIN {map} m ON m.address = c.address
WHERE {window}
"""


def _most_frequent(col: str, where: str = "TRUE") -> str:
    """SQL: per place, the most frequent non-null value of ``col``, ties alphabetically."""
    return (f"(SELECT place, first(v ORDER BY n DESC, v) AS v FROM "
            f"(SELECT place, {col} AS v, count(*) AS n FROM r WHERE {col} IS NOT NULL "
            f"AND {where} GROUP BY ALL) GROUP BY place)")


def _aggregate_sql(stop_literal: str) -> str:
    tops = {c: _most_frequent(c) for c in ("category", "district", "street", "community",
                                           "grid_id", "key_cell")}
    tops["address"] = _most_frequent("address", "addr_ok")
    joins = "\n".join(f"LEFT JOIN {q} AS t_{c} USING (place)" for c, q in tops.items())
    return f"""
WITH r AS (SELECT * REPLACE (nullif(key_cell, 0::UBIGINT) AS key_cell) FROM {{rows}}),
base AS (
    SELECT place,
           'R' || min(complaint_id) AS place_id,
           CASE WHEN bool_or(shared_cell) AND bool_or(shared_addr) THEN 'cell+address'
                WHEN bool_or(shared_cell) THEN 'cell' ELSE 'address' END AS matched_by,
           count(*) AS complaints,
           count(*) FILTER (WHERE status = 'open' OR closed_at >= {stop_literal}) AS open,
           min(received_at) AS first_received,
           max(received_at) AS last_received,
           count(DISTINCT key_cell) AS cells,
           avg(lon) FILTER (WHERE lon IS NOT NULL AND lat IS NOT NULL) AS lon,
           avg(lat) FILTER (WHERE lon IS NOT NULL AND lat IS NOT NULL) AS lat,
           array_to_string(list(complaint_id ORDER BY received_at DESC, complaint_id)[1:{MAX_IDS}],
                           '、') AS complaint_ids
    FROM r GROUP BY place
),
cats AS (
    SELECT place, string_agg(label || ' ' || n, '、' ORDER BY n DESC, label) AS categories
    FROM (SELECT place, coalesce(category, '未分类') AS label, count(*) AS n
          FROM r GROUP BY ALL)
    GROUP BY place
)
SELECT base.place_id, base.matched_by, base.complaints, base.open,
       base.first_received, base.last_received,
       date_diff('day', base.first_received::DATE, base.last_received::DATE) AS days_span,
       t_category.v AS main_category, cats.categories, t_address.v AS address,
       h3_hex(t_key_cell.v) AS h3, base.cells,
       t_district.v AS district, t_street.v AS street, t_community.v AS community,
       t_grid_id.v AS grid_id, base.lon, base.lat, base.complaint_ids
FROM base
JOIN cats USING (place)
{joins}
ORDER BY complaints DESC, last_received DESC, place_id
"""


def _cell_codes(cells: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes 0..k-1 of the cells (-1 where the cell is 0, i.e. no coordinates)."""
    codes = np.full(len(cells), -1, dtype=np.int64)
    valid = cells != 0
    uniq, inv = np.unique(cells[valid], return_inverse=True)
    codes[valid] = inv
    return codes, len(uniq)


def _components(cell_code: np.ndarray, n_cell: int, addr_code: np.ndarray,
                n_addr: int) -> np.ndarray:
    """Place label of every complaint: components of the complaint–key bipartite graph.

    Nodes 0..n-1 are the complaints, then the cell keys, then the address keys; every
    complaint has an edge to each of its keys. A complaint with no key is alone.
    """
    n = len(cell_code)
    has_c, has_a = cell_code >= 0, addr_code >= 0
    rows = np.concatenate([np.flatnonzero(has_c), np.flatnonzero(has_a)])
    cols = np.concatenate([n + cell_code[has_c], n + n_cell + addr_code[has_a]])
    size = n + n_cell + n_addr
    graph = sp.csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    return labels[:n]


def _shared(codes: np.ndarray, k: int) -> np.ndarray:
    """True where a complaint's key is held by at least two complaints."""
    has = codes >= 0
    counts = np.bincount(codes[has], minlength=k)
    out = np.zeros(len(codes), dtype=bool)
    out[has] = counts[codes[has]] >= 2
    return out


def _check(start: dt.date, end: dt.date, min_count: int, res: int) -> None:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise RepeatsError("the period's start and end must be dates (YYYY-MM-DD)",
                           option="start")
    if start > end:
        raise RepeatsError(f"the period starts on {start}, after its end {end}",
                           option="start")
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) \
            or min_count < 2:
        raise RepeatsError("the smallest number of complaints at one place must be a whole "
                           f"number of at least 2, got {min_count!r}", option="min")
    if isinstance(res, bool) or not isinstance(res, (int, np.integer)) or res not in RESOLUTIONS:
        raise RepeatsError(f"the resolution must be 10, 11 or 12, got {res!r}", option="res")


class _Registered:
    """An Arrow table registered on the connection under a unique name, for one block."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
        self.conn, self.table = conn, table
        self.name = f"_repeats_{uuid.uuid4().hex}"

    def __enter__(self) -> str:
        self.conn.register(self.name, self.table)
        return self.name

    def __exit__(self, *exc) -> None:
        self.conn.unregister(self.name)


def _address_map(conn: duckdb.DuckDBPyConnection, window: Records) -> pa.Table:
    """Each distinct raw address of the window with the integer code of its address key."""
    where, params = window.where("complaints")
    raw = conn.sql(_ADDRESSES_SQL.format(window=where),
                   params=params).to_arrow_table()["address"]
    raw = raw.combine_chunks().cast(pa.string()) if raw.num_chunks else pa.array([], pa.string())
    key = _normalise_array(raw, distinct=True)
    names = conn.sql(_NAMES_SQL.format(window=where), params=params).to_arrow_table()["name"]
    names = pc.drop_null(_normalise_array(names))
    key = pc.if_else(pc.is_in(key, value_set=names), pa.scalar(None, key.type), key)
    code = pc.dictionary_encode(key).indices  # null where there is no key
    table = pa.table({"address": raw, "acode": code.cast(pa.int64())})
    return table.filter(pc.is_valid(table["acode"]))


def find_repeats(conn: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date,
                 min_count: int = 5, res: int = 12) -> pd.DataFrame:
    """Places with at least ``min_count`` complaints in the window (重复投诉).

    Parameters
    ----------
    conn : duckdb.DuckDBPyConnection
        Open grid database (read-only is enough).
    start, end : datetime.date
        Inclusive local days: complaints received in [start 00:00, end + 1 day 00:00).
        Void complaints are left out.
    min_count : int
        Smallest number of complaints a reported place holds (``--min``, at least 2).
    res : int
        H3 resolution of the cell key, 10-12 (12: the stored fine cell).

    Returns
    -------
    pandas.DataFrame
        One row per place, columns :data:`REPEAT_COLUMNS`, sorted by complaints (most
        first), then last_received (newest first), then place_id. Empty (same columns)
        when nothing reaches ``min_count``.

    Raises
    ------
    RepeatsError
        A reversed window, ``min_count`` below 2 or ``res`` outside 10-12.
    """
    _check(start, end, min_count, res)
    window = _window(start, end)
    t1 = window.stop
    where, params = window.where("complaints", "c.")
    with _Registered(conn, _address_map(conn, window)) as amap:
        sql = _ROWS_SQL.format(res=int(res), map=amap, window=where)
        rows = conn.sql(sql, params=params).to_arrow_table()

    cell_code, n_cell = _cell_codes(rows["key_cell"].to_numpy())
    addr_code = rows["key_addr"].to_numpy().astype(np.int64)
    n_addr = int(addr_code.max()) + 1 if len(addr_code) else 0
    labels = _components(cell_code, n_cell, addr_code, n_addr)
    keep = np.bincount(labels)[labels] >= min_count if len(labels) else np.zeros(0, bool)

    table = rows.filter(pa.array(keep)).drop_columns(["key_addr"])
    for name, values in (("place", labels), ("addr_ok", addr_code >= 0),
                         ("shared_cell", _shared(cell_code, n_cell)),
                         ("shared_addr", _shared(addr_code, n_addr))):
        table = table.append_column(name, pa.array(values[keep]))
    with _Registered(conn, table) as view:
        sql = _aggregate_sql(f"TIMESTAMP '{t1:%Y-%m-%d %H:%M:%S}'").replace("{rows}", view)
        out = conn.sql(sql).df()
    return out[REPEAT_COLUMNS].reset_index(drop=True)
