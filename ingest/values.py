"""Vectorised parsing of the values Chinese systems export: times, numbers, yes/no, statuses.

Every parser returns the parsed values plus a boolean mask of the cells that held
something that could not be read, so the caller can reject those rows with a reason.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from store.clock import LOCAL_TZ  # the zone records are kept in (re-exported)

#: Forms accepted, after normalisation (年月日时分秒 → - - space : : ; / and T → - and space).
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y%m%d %H:%M:%S",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
)
TIME_FORMS_HELP = ("2026/11/22 10:03, 2026-11-22T10:03:00, 2026年11月22日 10时03分, "
                   "20261122, or an Excel date number")

#: What exports write in an empty time field (an open case has no 办结时间): taken as empty.
EMPTY_MARKS = ("", "-", "--", "—", "/", "无", "暂无", "N/A", "n/a", "NA", "null", "NULL", "None",
               "nan", "NaT")

#: Forms tried directly on the raw text (fast path), in the order the data favours.
_RAW_FORMATS = (
    "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%Y/%m/%d",
)

# Excel serial day numbers between 1954 and 2119 (so that ids or years are not taken for days)
_EXCEL_MIN, _EXCEL_MAX = 20000.0, 80000.0
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def _normalise_time_text(s: pd.Series) -> pd.Series:
    s = s.str.strip()
    s = s.str.replace(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})", r"\1-\2-\3", regex=True)
    s = s.str.replace(r"[年月/](?=\d)", "-", regex=True)
    s = s.str.replace("日", " ", regex=False).str.replace(r"[时分:](?=\d)", ":", regex=True)
    s = s.str.replace(r"[分秒]", "", regex=True).str.replace(r"(?<=\d)T(?=\d)", " ", regex=True)
    s = s.str.replace(r"\s+", " ", regex=True).str.strip()
    # zero-pad one-digit month, day, hour, minute
    s = s.str.replace(r"(?<=-)(\d)(?=\D|$)", r"0\1", regex=True)
    s = s.str.replace(r"(?<=\s)(\d)(?=:)", r"0\1", regex=True)
    s = s.str.replace(r"(?<=:)(\d)(?=\D|$)", r"0\1", regex=True)
    return s


def parse_times(values: pd.Series, tz: str = LOCAL_TZ) -> tuple[pd.Series, pd.Series]:
    """Parse a column of times to naive local wall-clock timestamps.

    Returns
    -------
    times : Series of datetime64[us]
        NaT where empty or unreadable.
    bad : Series of bool
        True where a value was present but could not be read as a real date and time
        (including impossible dates such as 2026-02-30 or 25:00).
    """
    n = len(values)
    idx = values.index
    if pd.api.types.is_datetime64_any_dtype(values):
        v = values
        if getattr(v.dt, "tz", None) is not None:
            v = v.dt.tz_convert(tz).dt.tz_localize(None)
        return v.astype("datetime64[us]"), pd.Series(np.zeros(n, bool), index=idx)
    if pd.api.types.is_numeric_dtype(values):
        f = values.astype(float)
        ok = (f >= _EXCEL_MIN) & (f <= _EXCEL_MAX)
        out = (_EXCEL_EPOCH + pd.to_timedelta(f.where(ok), unit="D")).dt.round("s")
        return out.astype("datetime64[us]"), values.notna() & ~ok
    s = values if isinstance(values.dtype, pd.StringDtype) else values.astype("string")
    present = s.notna() & ~s.str.strip().isin(EMPTY_MARKS)
    out = pd.Series(pd.NaT, index=idx, dtype="datetime64[us]")
    if not present.any():
        return out, pd.Series(np.zeros(n, bool), index=idx)
    todo = present.fillna(False).astype(bool)
    # fast path: the forms the sample shows, straight on the raw text
    raw = s.where(todo).str.strip()
    sample = raw[todo].iloc[:2000]
    hits = {f: int(pd.to_datetime(sample, format=f, errors="coerce").notna().sum())
            for f in _RAW_FORMATS}
    for fmt in sorted((f for f in hits if hits[f]), key=hits.__getitem__, reverse=True):
        if not todo.any():
            break
        r = pd.to_datetime(raw[todo], format=fmt, errors="coerce")
        good = r.notna()
        if good.any():
            out[r.index[good]] = r[good].to_numpy()
            todo[r.index[good]] = False
    # Excel serial day numbers written as text
    if todo.any():
        num = pd.to_numeric(s[todo].str.strip(), errors="coerce").astype(float)
        serial = ((num >= _EXCEL_MIN) & (num <= _EXCEL_MAX)).fillna(False).astype(bool)
        if serial.any():
            conv = (_EXCEL_EPOCH + pd.to_timedelta(num[serial], unit="D")).dt.round("s")
            out[conv.index] = conv.to_numpy()
            todo[conv.index] = False
    if todo.any():  # everything else: normalise the distinct values only
        rest = raw[todo]
        uniq = pd.Series(rest.unique()).astype("string")
        t = _normalise_time_text(uniq)
        parsed = pd.Series(pd.NaT, index=uniq.index, dtype="datetime64[us]")
        left = t.notna().to_numpy().copy()
        zoned = left & t.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True).fillna(False).to_numpy()
        if zoned.any():
            z = pd.to_datetime(t[zoned].str.replace(r"Z$", "+00:00", regex=True),
                               errors="coerce", utc=True, format="ISO8601")
            good = z.notna().to_numpy()
            parsed.iloc[np.flatnonzero(zoned)[good]] = (  # microseconds: finer digits dropped
                z[good].dt.tz_convert(tz).dt.tz_localize(None).astype("datetime64[us]").to_numpy())
            left &= ~(zoned & parsed.notna().to_numpy())
        for fmt in TIME_FORMATS:
            if not left.any():
                break
            r = pd.to_datetime(t[left], format=fmt, errors="coerce")
            good = r.notna().to_numpy()
            # %f reads up to nanoseconds (…00.123456789): keep microseconds, as stored
            parsed.iloc[np.flatnonzero(left)[good]] = r[good].astype("datetime64[us]").to_numpy()
            left[np.flatnonzero(left)[good]] = False
        lookup = pd.Series(parsed.to_numpy(), index=uniq.to_numpy())
        got = rest.map(lookup)
        ok = got.notna()
        out[got.index[ok]] = got[ok].to_numpy()
        todo[got.index[ok]] = False
    return out, todo


def parse_floats(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers (full-width digits and thousands separators allowed); NaN + bad mask."""
    if pd.api.types.is_numeric_dtype(values):
        return values.astype(float), pd.Series(np.zeros(len(values), bool), index=values.index)
    try:  # fast path: plain decimal text, cast by Arrow
        arr = pa.array(values.array if isinstance(values.dtype, pd.StringDtype) else
                       values.astype("string").array)
        f = pd.Series(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), index=values.index)
        return f, pd.Series(np.zeros(len(values), bool), index=values.index)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        pass
    s = values.astype("string").str.strip()
    present = (s.notna() & (s != "")).fillna(False).astype(bool)
    f = pd.to_numeric(s.where(present), errors="coerce").astype(float)
    retry = present & f.isna()
    if retry.any():  # full-width digits, thousands separators
        t = s[retry].str.translate(str.maketrans("０１２３４５６７８９．－，", "0123456789.-,"))
        f[retry] = pd.to_numeric(t.str.replace(",", "", regex=False), errors="coerce").astype(float)
    return f, present & f.isna()


def parse_ints(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole numbers ≥ 0 (counts); Int64 with NA + bad mask (also for 1.5 or -2)."""
    f, bad = parse_floats(values)
    whole = f.isna() | ((f == np.floor(f)) & (f >= 0))
    return f.where(whole).astype("Int64"), bad | ~whole


_TRUE = {"1", "true", "yes", "y", "是", "满意", "非常满意", "基本满意", "比较满意", "ontime"}
_FALSE = {"0", "false", "no", "n", "否", "不满意", "非常不满意", "很不满意"}
_NULL = {"未评价", "未回访", "无", "-", "/", "none", "null", "n/a", "na"}


def parse_bools(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Yes / no words (是/否, 满意/不满意, true/false, 1/0); boolean with NA + bad mask."""
    s = values if isinstance(values.dtype, pd.StringDtype) else values.astype("string")
    s = s.str.strip().str.lower()
    present = s.notna() & (s != "") & ~s.isin(_NULL)
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[s.isin(_TRUE)] = True
    out[s.isin(_FALSE)] = False
    return out, present & out.isna()


#: status words → canonical status (a mapping file's [status] table is applied first).
STATUS_WORDS: dict[str, str] = {
    **{w: "closed" for w in (
        "已办结", "办结", "已结案", "结案", "已关闭", "关闭", "已完成", "完成", "已处理",
        "处理完毕", "已解决", "已归档", "归档", "已回访", "closed", "close", "resolved", "done",
        "completed", "complete", "finished")},
    **{w: "void" for w in (
        "已作废", "作废", "无效", "撤销", "已撤销", "不予受理", "重复件", "void", "cancelled",
        "canceled", "invalid", "duplicate", "rejected")},
    **{w: "open" for w in (
        "上报", "已上报", "立案", "已立案", "派遣", "已派遣", "待派遣", "处置", "处置中", "处理中",
        "办理中", "待处理", "待办理", "已受理", "受理", "核查", "待核查", "核查中", "返工",
        "退回", "延期", "已延期", "挂账", "挂起", "待结案", "open", "opened", "new", "pending",
        "in progress", "inprogress", "assigned", "reopened")},
}


def map_status(
    values: pd.Series, closed_at: pd.Series, extra: dict[str, str] | None = None
) -> tuple[pd.Series, pd.Series]:
    """Canonical status (open | closed | void) and a mask of unrecognised words.

    An unrecognised or empty status follows the closing time: closed when ``closed_at``
    is set, else open. The mapping file's ``[status]`` words take precedence.
    """
    table = {k.lower(): v for k, v in STATUS_WORDS.items()}
    if extra:
        table.update({k.strip().lower(): v for k, v in extra.items()})
    codes, uniques = pd.factorize(values)  # few distinct words: map those, then take
    words = pd.Series(uniques, dtype=object).astype(str).str.strip()
    mapped_u = words.str.lower().map(table).to_numpy(dtype=object)
    blank_u = (words == "").to_numpy()
    has = codes >= 0
    mapped = np.full(len(values), None, dtype=object)
    mapped[has] = mapped_u[codes[has]]
    fallback = np.where(closed_at.notna().to_numpy(), "closed", "open")
    result = np.where(pd.isna(mapped), fallback, mapped).astype(object)
    unknown = has.copy()
    unknown[has] = pd.isna(mapped_u[codes[has]]) & ~blank_u[codes[has]]
    return (pd.Series(result, index=values.index, dtype=object),
            pd.Series(unknown, index=values.index))
