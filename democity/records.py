"""Complaint work orders (12345 hotline and other channels) of the demo city.

Builds the rows of ``complaints.csv`` the way a hotline system exports them: Chinese
headers, GBK encoding, CRLF line ends, times like ``2026/11/22 10:03``, GCJ-02
coordinates with 6 decimals, Chinese status words, and the imperfections of a real
export: about 1 % of rows without coordinates, a handful with longitude and latitude
swapped, a handful without a received time, and about 1 % whose district / street
names disagree with the coordinates.

Everything is drawn from one seeded generator, column by column (no per-row Python
loops beyond the string formatting pandas does).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd

from democity import names as nm

COLUMNS = ("工单编号", "受理时间", "来源渠道", "问题大类", "问题小类", "问题描述", "事发地址",
           "经度", "纬度", "所属区县", "所属街道", "处理状态", "处置时限", "办结时间", "返工次数",
           "满意度")
TIME_FORMAT = "%Y/%m/%d %H:%M"

#: Relative volume Monday..Sunday, and per hour of day (office-hours peaks).
WEEKDAY_WEIGHTS = np.array([1.12, 1.06, 1.02, 1.0, 0.97, 0.74, 0.68])
#: Summer swell of the volume (+/- share) and the National Day holiday's factor.
SEASON_SWELL, HOLIDAY_FACTOR = 0.08, 0.75
HOUR_WEIGHTS = np.array([0.5, 0.3, 0.2, 0.15, 0.15, 0.25, 0.7, 1.8, 4.2, 6.6, 7.0, 6.0,
                         3.4, 3.2, 5.4, 6.4, 6.0, 4.6, 3.0, 2.8, 2.8, 2.4, 1.6, 0.9])
#: Night-time nuisances are reported in the evening and at night.
EVENING_SUBCATEGORIES = ("露天烧烤", "施工扰民", "油烟污染", "焚烧垃圾")
EVENING_HOUR_WEIGHTS = np.array([2.5, 1.8, 1.0, 0.5, 0.3, 0.3, 0.5, 1.0, 1.8, 2.4, 2.4, 2.2,
                                 1.8, 1.8, 2.0, 2.0, 2.0, 2.2, 2.8, 3.6, 4.6, 5.2, 5.0, 3.8])
#: Zone-specific boosts of the category mix (fringe: garbage and shacks; core: parking).
ZONE_BOOST = {
    "fringe": {"暴露垃圾": 2.2, "积存垃圾渣土": 2.5, "私搭乱建": 2.5, "焚烧垃圾": 3.0,
               "机动车乱停放": 0.5},
    "core": {"机动车乱停放": 1.4, "非机动车乱停放": 1.5, "施工扰民": 1.3, "油烟污染": 1.3},
    "rural": {"焚烧垃圾": 2.0, "积存垃圾渣土": 1.5, "非机动车乱停放": 0.3, "机动车乱停放": 0.6},
}
#: Share of void cases; of the others: closed on time, closed late (the rest never close).
P_VOID, P_ON_TIME, P_LATE = 0.02, 0.86, 0.11
P_REWORK = 0.05
#: Deliberate imperfections (shares of all rows; at least 2 of each).
P_UNLOCATED, P_SWAPPED, P_NO_TIME, P_MISNAMED = 0.01, 0.0001, 0.00006, 0.01
#: Planted backlog: this share of the streets' cases received in the window stay open.
BACKLOG_OPEN_SHARE = 0.55
BACKLOG_WINDOW_DAYS = (56, 12)  # received between end - 56 days and end - 12 days
N_BACKLOG_STREETS = 4


def period(end: date, weeks: int,
           now: datetime | None = None) -> tuple[np.datetime64, np.datetime64]:
    """First Monday (00:00) of the period and the export moment.

    The export moment is the end day's 23:59, or, when ``now`` (the city's wall-clock
    time) falls on the end day, ``now`` floored to the minute: a build made today
    exports what the hotline system holds at this minute. ``now`` after the end day
    changes nothing; ``now`` before it is an error (the data would lie in the future).
    """
    end64 = np.datetime64(end, "D")
    monday = end64 - ((end64.astype("datetime64[D]").view("int64") - 4) % 7)
    start = monday - np.timedelta64(7 * (weeks - 1), "D")
    export = end64.astype("datetime64[m]") + np.timedelta64(1439, "m")
    if now is not None:
        if now.date() < end:
            raise ValueError(f"--end {end.isoformat()} is after today ({now:%Y-%m-%d %H:%M})")
        export = min(export, np.datetime64(now.replace(second=0, microsecond=0), "m"))
    return start.astype("datetime64[m]"), export


def export_minute(export: np.datetime64) -> int:
    """Minute of the day of the export moment (1439 for the end day's 23:59)."""
    return int((export - export.astype("datetime64[D]")).astype(np.int64))


def _minute_cdf(hour_weights: np.ndarray) -> np.ndarray:
    """Cumulative share of a day's volume by the end of each minute (1440 values)."""
    per_minute = np.repeat(hour_weights / hour_weights.sum() / 60.0, 60)
    return np.cumsum(per_minute)


def elapsed_share(export: np.datetime64) -> float:
    """Share of a day's (office-hours) volume received by the export moment on its day:
    1 when the export is at 23:59."""
    m = export_minute(export)
    return 1.0 if m >= 1439 else float(_minute_cdf(HOUR_WEIGHTS)[m])


def fit_final_day(times: np.ndarray, evening: np.ndarray, export: np.datetime64) -> np.ndarray:
    """Rows on the export day squeezed into [00:00, export time] of that same day.

    Each row's time of day is moved to the same quantile of its rhythm (`HOUR_WEIGHTS`,
    or `EVENING_HOUR_WEIGHTS` for ``evening`` rows) truncated at the export minute, so
    the final day keeps the hourly rhythm of a day cut short at the export moment; the
    day (hence the ISO week) and the number of rows stay. The mapping is monotone and
    uses no randomness; with the export at 23:59 nothing moves.
    """
    e = export_minute(export)
    if e >= 1439:
        return times
    day0 = export.astype("datetime64[D]").astype("datetime64[m]")
    out = times.copy()
    for flag, weights in ((False, HOUR_WEIGHTS), (True, EVENING_HOUR_WEIGHTS)):
        rows = np.nonzero((times >= day0) & (np.asarray(evening) == flag))[0]
        if not len(rows):
            continue
        cdf = _minute_cdf(weights)
        m = (times[rows] - day0).astype(np.int64)
        mid = (cdf[m] + np.where(m > 0, cdf[np.maximum(m - 1, 0)], 0.0)) / 2.0
        new = np.minimum(np.searchsorted(cdf, mid * cdf[e], side="left"), e)
        out[rows] = day0 + new.astype("timedelta64[m]")
    return out


def day_weights(start: np.datetime64, n_days: int) -> np.ndarray:
    """Relative volume of each day: the weekday rhythm, a summer swell (rainy season,
    peak mid-July) and the quiet National Day holiday (1-7 October)."""
    days = start.astype("datetime64[D]") + np.arange(n_days)
    w = WEEKDAY_WEIGHTS[(days.view("int64") - 4) % 7].copy()
    doy = (days - days.astype("datetime64[Y]")).astype(np.int64)
    w *= 1.0 + SEASON_SWELL * np.cos(2.0 * np.pi * (doy - 196) / 365.25)
    month_day = (days - days.astype("datetime64[M]")).astype(np.int64) + 1
    month = days.astype("datetime64[M]").view("int64") % 12 + 1
    w[(month == 10) & (month_day <= 7)] *= HOLIDAY_FACTOR
    return w


def period_day_weights(start: np.datetime64, export: np.datetime64) -> np.ndarray:
    """`day_weights` of every day from ``start`` to the export day, the export day's
    weight cut to the share of its volume received by the export moment
    (`elapsed_share`)."""
    n_days = int((export - start) // np.timedelta64(1, "D")) + 1
    w = day_weights(start, n_days)
    share = elapsed_share(export)
    if share < 1.0:
        w[-1] *= share
    return w


def draw_times(rng: np.random.Generator, start: np.datetime64, export: np.datetime64,
               week: np.ndarray | None, evening: np.ndarray,
               day_p: np.ndarray | None = None) -> np.ndarray:
    """Received times (datetime64[m]) with the weekly and daily rhythm of a hotline.

    ``week`` fixes the 0-based week of each row (planted complaints); None draws the day
    over the whole period from ``day_p`` (default `period_day_weights`). Days after the
    export day get no records, and no record lies after the export moment: on the
    export day the times of day are fitted into [00:00, export time] (`fit_final_day`).
    """
    n = len(evening)
    day_w = period_day_weights(start, export)
    n_days = len(day_w)
    if week is None:
        p = day_w if day_p is None else day_p
        day = rng.choice(n_days, size=n, p=p / p.sum())
    else:
        day = np.empty(n, dtype=np.int64)
        for w in np.unique(week):  # at most `weeks` iterations
            rows = np.nonzero(week == w)[0]
            days = np.arange(7 * w, min(7 * w + 7, n_days))
            day[rows] = rng.choice(days, size=len(rows), p=day_w[days] / day_w[days].sum())
    hour = np.where(evening,
                    rng.choice(24, size=n, p=EVENING_HOUR_WEIGHTS / EVENING_HOUR_WEIGHTS.sum()),
                    rng.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()))
    minute = rng.integers(0, 60, size=n)
    times = start + (day * 1440 + hour * 60 + minute).astype("timedelta64[m]")
    return fit_final_day(times, evening, export)


def background_day_weights(start: np.datetime64, export: np.datetime64, n_total: int,
                           planted_week: np.ndarray) -> np.ndarray:
    """Day weights for ordinary complaints such that ordinary + planted complaints
    follow `period_day_weights` (a new hotspot's burst does not swell the city's total)."""
    w = period_day_weights(start, export)
    n_days = len(w)
    target = n_total * w / w.sum()
    per_week = np.bincount(planted_week, minlength=(n_days + 6) // 7)
    week_of_day = np.arange(n_days) // 7
    week_w = np.bincount(week_of_day, weights=w)
    planted = per_week[week_of_day] * w / week_w[week_of_day]
    return np.maximum(target - planted, 0.15 * target)


def category_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(大类, 小类, base share) of every 问题小类."""
    cats, subs, shares = [], [], []
    for cat, items in nm.CATEGORIES.items():
        for sub, s in items:
            cats.append(cat)
            subs.append(sub)
            shares.append(nm.CATEGORY_SHARES[cat] * s)
    return np.array(cats, dtype=object), np.array(subs, dtype=object), np.array(shares)


def draw_subcategories(rng: np.random.Generator, zone: np.ndarray) -> np.ndarray:
    """Index into `category_table` for each row, with the zone's mix."""
    _cats, subs, base = category_table()
    out = np.empty(len(zone), dtype=np.int64)
    for z in np.unique(zone):
        rows = np.nonzero(zone == z)[0]
        boost = ZONE_BOOST.get(str(z), {})
        p = base * np.array([boost.get(s, 1.0) for s in subs])
        out[rows] = rng.choice(len(subs), size=len(rows), p=p / p.sum())
    return out


def deadlines(received: np.ndarray, subcategory: np.ndarray) -> np.ndarray:
    """Received time plus the 问题小类's limit in working days (weekends skipped)."""
    limit = np.array([nm.LIMIT_DAYS.get(s, nm.DEFAULT_LIMIT_DAYS) for s in nm_subs()])
    days = limit[subcategory]
    day = received.astype("datetime64[D]")
    due_day = np.busday_offset(day, days, roll="forward")
    return due_day.astype("datetime64[m]") + (received - day.astype("datetime64[m]"))


def nm_subs() -> np.ndarray:
    return category_table()[1]


@dataclass
class Outcome:
    status: np.ndarray  # object: Chinese status word
    closed: np.ndarray  # datetime64[m], NaT when open or void
    reworked: np.ndarray  # int
    satisfaction: np.ndarray  # object


def outcomes(rng: np.random.Generator, received: np.ndarray, due: np.ndarray,
             export: np.ndarray, force_open: np.ndarray) -> Outcome:
    """Status, closing time, rework count and satisfaction of each case at export time."""
    n = len(received)
    u = rng.uniform(size=n)
    void = (u < P_VOID) & ~force_open
    v = (u - P_VOID) / (1.0 - P_VOID)
    late = ~void & (v >= P_ON_TIME) & (v < P_ON_TIME + P_LATE)
    stuck = (~void & (v >= P_ON_TIME + P_LATE)) | force_open
    allowed = (due - received).astype(np.int64).astype(float)  # minutes
    frac = rng.beta(1.3, 2.6, size=n)
    lag = np.maximum(20.0, allowed * frac)
    lag = np.where(late, allowed + rng.exponential(2.0 * 1440, size=n) + 30.0, lag)
    reworked = np.where(rng.uniform(size=n) < P_REWORK, 1 + (rng.uniform(size=n) < 0.2), 0)
    reworked = np.where(void, 0, reworked)
    lag = lag + reworked * rng.uniform(1440, 3 * 1440, size=n)
    closed = received + lag.astype(np.int64).astype("timedelta64[m]")
    is_open = ~void & (stuck | (closed > export))
    nat = np.datetime64("NaT", "m")
    closed = np.where(void | is_open, nat, closed)
    # open-case status words
    age_days = (export - received).astype(np.int64) / 1440.0
    r = rng.uniform(size=n)
    open_word = np.where(r < 0.6, "处置中", np.where(r < 0.8, "待核查", np.where(r < 0.9, "挂账",
                                                                               "已派遣")))
    open_word = np.where(age_days < 1.0, np.where(r < 0.7, "已派遣", "处置中"), open_word)
    open_word = np.where((age_days > 30) & (r < 0.5), "挂账", open_word)
    open_word = np.where(reworked > 0, "返工", open_word)
    status = np.where(void, "已作废", np.where(is_open, open_word, "已办结")).astype(object)
    # satisfaction of closed cases; worse when late or reworked
    happy = np.array(["满意", "基本满意", "不满意", "未评价"], dtype=object)
    good = rng.choice(4, size=n, p=[0.66, 0.18, 0.04, 0.12])
    bad = rng.choice(4, size=n, p=[0.35, 0.25, 0.25, 0.15])
    worse = (closed > due) | (reworked > 0)
    sat = np.where(worse, happy[bad], happy[good])
    sat = np.where(status == "已办结", sat, "未评价").astype(object)
    return Outcome(status, closed, reworked.astype(np.int64), sat)


def fmt_times(t: np.ndarray) -> np.ndarray:
    """``2026/11/22 10:03`` strings (object array); '' for NaT."""
    t = np.asarray(t, dtype="datetime64[m]")
    s = np.datetime_as_string(t, unit="m")
    codes = s.view(np.uint32).reshape(len(s), -1)
    codes[codes == ord("-")] = ord("/")
    codes[codes == ord("T")] = ord(" ")
    out = s.astype(object)
    out[np.isnat(t)] = ""
    return out


def street_roads(rng: np.random.Generator, n_streets: int, per: int = 6) -> np.ndarray:
    """(n_streets, per) array of road names each street's addresses use."""
    roads = np.array(nm.ROADS, dtype=object)
    return np.stack([rng.choice(roads, size=per, replace=False) for _ in range(n_streets)])


def addresses(rng: np.random.Generator, district: np.ndarray, street: np.ndarray,
              street_idx: np.ndarray, community: np.ndarray,
              roads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """事发地址 and the place phrase descriptions use ("民族大道12号", "竹园小区", ...)."""
    n = len(street_idx)
    k = roads.shape[1]
    i1 = rng.integers(0, k, size=n)
    r1 = roads[street_idx, i1]
    r2 = roads[street_idx, (i1 + rng.integers(1, k, size=n)) % k]
    number = pd.Series(rng.integers(1, 400, size=n)).astype(str).to_numpy(dtype=object)
    building = pd.Series(rng.integers(1, 30, size=n)).astype(str).to_numpy(dtype=object)
    form = rng.uniform(size=n)
    village = pd.Series(community).str.endswith("村").to_numpy()
    stem = pd.Series(community).str.replace(r"(社区|村)$", "", regex=True).to_numpy(dtype=object)
    cross = (form < 0.15) & (r1 != r2)
    estate = form > 0.78
    road_no = r1 + number + "号"
    place = np.where(cross, r1 + "与" + r2 + "交叉口", road_no)
    place = np.where(estate & ~village, stem + "小区" + building + "栋", place)
    place = np.where(estate & village, community + number + "号", place)
    where = np.where(estate & ~village, community, np.where(estate & village, street, ""))
    prefix = np.where(rng.uniform(size=n) < 0.5, "南宁市", "")
    addr = prefix + district + where + place
    phrase = np.where(estate & ~village, stem + "小区",
                      np.where(rng.uniform(size=n) < 0.3, r1 + "附近", place))
    return addr.astype(object), phrase.astype(object)


def descriptions(rng: np.random.Generator, subcategory: np.ndarray,
                 phrase: np.ndarray) -> np.ndarray:
    """问题描述 from the 问题小类's templates and the place phrase."""
    subs = nm_subs()
    n = len(subcategory)
    pick = rng.integers(0, 3, size=n)
    heads = np.empty(n, dtype=object)
    tails = np.empty(n, dtype=object)
    for j, s in enumerate(subs):  # 24 subcategories x 3 templates
        rows = np.nonzero(subcategory == j)[0]
        if not len(rows):
            continue
        forms = np.array([t.split("{p}") for t in nm.DESCRIPTIONS[s]], dtype=object)
        heads[rows] = forms[pick[rows], 0]
        tails[rows] = forms[pick[rows], 1]
    ending = np.array(nm.DESCRIPTION_ENDINGS, dtype=object)[
        rng.integers(0, len(nm.DESCRIPTION_ENDINGS), size=n)]
    text = heads + phrase + tails + ending
    fix = np.nonzero(pd.Series(phrase, dtype=object).str.endswith("工地").to_numpy())[0]
    text[fix] = [t.replace("工地工地", "工地") for t in text[fix].tolist()]
    return text.astype(object)


def ids(received: np.ndarray) -> np.ndarray:
    """工单编号 ``GD`` + yyyymmdd + 5-digit sequence of the day (rows sorted by time)."""
    day = received.astype("datetime64[D]")
    first = np.r_[True, day[1:] != day[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(day)), 0))
    seq = np.arange(len(day)) - start + 1
    ymd = np.char.replace(np.datetime_as_string(day, unit="D"), "-", "")
    return np.array([f"GD{d}{q:05d}" for d, q in zip(ymd.tolist(), seq.tolist(), strict=True)],
                    dtype=object)


def special_rows(rng: np.random.Generator, n: int, background: np.ndarray) -> dict[str, np.ndarray]:
    """Disjoint row indices (background rows only) for each deliberate imperfection."""
    want = {"unlocated": P_UNLOCATED, "swapped": P_SWAPPED, "no_time": P_NO_TIME,
            "misnamed": P_MISNAMED}
    pool = rng.permutation(np.nonzero(background)[0])
    out, at = {}, 0
    for key, share in want.items():
        k = min(max(2, int(round(share * n))), max(0, (len(pool) - at) // 4))
        out[key] = np.sort(pool[at:at + k])
        at += k
    return out


#: Mixture weights (urban, towns, floor) of ordinary complaints: broad on purpose, so
#: that the centre as a whole is not a Gi* hotspot against the city-wide mean.
COMPLAINT_MIX = (0.40, 0.25, 0.35)
#: Share of a hotspot's complaints about its theme, and giving its exact address.
THEME_SHARE, SAME_ADDRESS_SHARE = 0.85, 0.75


def _theme_subcategories(rng: np.random.Generator, themes: list[dict[str, float]],
                         spot: np.ndarray) -> np.ndarray:
    subs = list(nm_subs())
    out = np.empty(len(spot), dtype=np.int64)
    for h, weights in enumerate(themes):
        rows = np.nonzero(spot == h)[0]
        names_ = list(weights)
        p = np.array([weights[s] for s in names_])
        pick = rng.choice(len(names_), size=len(rows), p=p / p.sum())
        out[rows] = np.array([subs.index(s) for s in names_])[pick]
    return out


def make_complaints(rng: np.random.Generator, *, n_total: int, start: np.datetime64,
                    export: np.datetime64, bg_lonlat: tuple[np.ndarray, np.ndarray],
                    planted: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                    spots: list, located: dict[str, np.ndarray], names: dict[str, np.ndarray],
                    street_idx_by_district: dict[int, np.ndarray], roads: np.ndarray,
                    backlog_streets: np.ndarray) -> tuple[dict[str, np.ndarray], dict]:
    """The complaint columns (rows sorted by received time; {header: object array of
    text}) and their counts for ``truth.json``.

    ``planted`` is (lon, lat, week, hotspot index) of the hotspot complaints; ``located``
    holds, for background rows then planted rows, the indices ``district``, ``street``,
    ``community``, ``zone`` (0 core, 1 fringe, 2 rural); ``names`` the name arrays of
    districts, streets and communities.
    """
    from grids.crs import wgs84_to_gcj02

    n_bg = len(bg_lonlat[0])
    lon = np.concatenate([bg_lonlat[0], planted[0]])
    lat = np.concatenate([bg_lonlat[1], planted[1]])
    spot = np.concatenate([np.full(n_bg, -1), planted[3]]).astype(np.int64)
    is_bg = spot < 0
    n = len(lon)
    zone_words = np.array(["core", "fringe", "rural"], dtype=object)[located["zone"]]
    sub = draw_subcategories(rng, zone_words)
    themed = ~is_bg & (rng.uniform(size=n) < THEME_SHARE)
    if themed.any():
        sub[themed] = _theme_subcategories(rng, [h.theme_weights for h in spots], spot)[themed]
    subs_all = nm_subs()
    cats_all = category_table()[0]
    evening = np.isin(subs_all[sub], EVENING_SUBCATEGORIES)
    received = np.empty(n, dtype="datetime64[m]")
    bg_days = background_day_weights(start, export, n, planted[2])
    received[is_bg] = draw_times(rng, start, export, None, evening[is_bg], bg_days)
    received[~is_bg] = draw_times(rng, start, export, planted[2], evening[~is_bg])
    due = deadlines(received, sub)
    # planted backlog: a share of the chosen streets' recent cases stay open
    age = (export - received).astype(np.int64) / 1440.0
    window = (age <= BACKLOG_WINDOW_DAYS[0]) & (age >= BACKLOG_WINDOW_DAYS[1])
    in_backlog = np.isin(located["street"], backlog_streets) & is_bg
    force = in_backlog & window & (rng.uniform(size=n) < BACKLOG_OPEN_SHARE)
    out = outcomes(rng, received, due, export, force)
    # text
    d_name = names["district"][located["district"]]
    s_name = names["street"][located["street"]]
    c_name = names["community"][located["community"]]
    addr, phrase = addresses(rng, d_name, s_name, located["street"], c_name, roads)
    same = ~is_bg & (rng.uniform(size=n) < SAME_ADDRESS_SHARE)
    if same.any():
        spot_addr = np.array([h.address for h in spots], dtype=object)
        spot_label = np.array([h.label for h in spots], dtype=object)
        addr[same] = spot_addr[spot[same]]
        phrase[same] = spot_label[spot[same]]
    desc = descriptions(rng, sub, phrase)
    src_names = np.array([s for s, _ in nm.SOURCES], dtype=object)
    src_p = np.array([p for _, p in nm.SOURCES])
    source = src_names[rng.choice(len(src_names), size=n, p=src_p / src_p.sum())]
    glon, glat = wgs84_to_gcj02(lon, lat)
    # deliberate imperfections (background rows only)
    special = special_rows(rng, n, is_bg)
    district_out = d_name.copy()
    street_out = s_name.copy()
    mis = special["misnamed"]
    other_d = rng.uniform(size=len(mis)) < 0.3
    n_dist = len(names["district"])
    new_d = np.where(other_d, (located["district"][mis] + rng.integers(1, n_dist, len(mis)))
                     % n_dist, located["district"][mis])
    for k, row in enumerate(mis):
        pool = street_idx_by_district[int(new_d[k])]
        pool = pool[pool != located["street"][row]]
        street_out[row] = names["street"][pool[int(rng.integers(len(pool)))]]
        district_out[row] = names["district"][new_d[k]]
    lon_txt = np.array([f"{v:.6f}" for v in glon.tolist()], dtype=object)
    lat_txt = np.array([f"{v:.6f}" for v in glat.tolist()], dtype=object)
    sw = special["swapped"]
    lon_txt[sw], lat_txt[sw] = lat_txt[sw].copy(), lon_txt[sw].copy()
    lon_txt[special["unlocated"]] = ""
    lat_txt[special["unlocated"]] = ""
    # chronological order, ids by day
    order = np.argsort(received, kind="stable")
    frame = {
        "工单编号": ids(received[order]),
        "受理时间": fmt_times(received[order]),
        "来源渠道": source[order],
        "问题大类": cats_all[sub][order],
        "问题小类": subs_all[sub][order],
        "问题描述": desc[order],
        "事发地址": addr[order],
        "经度": lon_txt[order],
        "纬度": lat_txt[order],
        "所属区县": district_out[order],
        "所属街道": street_out[order],
        "处理状态": out.status[order],
        "处置时限": fmt_times(due[order]),
        "办结时间": fmt_times(out.closed[order]),
        "返工次数": out.reworked[order].astype(str).astype(object),
        "满意度": out.satisfaction[order],
    }
    no_time = np.zeros(n, dtype=bool)
    no_time[special["no_time"]] = True
    frame["受理时间"][no_time[order]] = ""
    # counts for truth.json (rows a loader accepts: all but the ones without a time)
    ok = ~no_time
    is_open = np.isin(out.status, ("已派遣", "处置中", "待核查", "返工", "挂账"))
    overdue = is_open & (due < export)
    backlog = []
    for s in backlog_streets:
        here = ok & (located["street"] == s)
        backlog.append({
            "street": str(names["street"][s]),
            "district": str(names["district"][located["district"][here][0]]) if here.any() else "",
            "planted_open": int((force & here).sum()),
            "planted_overdue": int((force & here & overdue).sum()),
            "open": int((is_open & here).sum()),
            "overdue": int((overdue & here).sum()),
            "filed": int(here.sum()),
        })
    stats = {
        "rows": int(n), "planted_hotspot_rows": int((~is_bg).sum()),
        "background_rows": int(is_bg.sum()),
        "rows_without_received_time": int(len(special["no_time"])),
        "rows_without_coordinates": int(len(special["unlocated"])),
        "rows_with_lon_lat_swapped": int(len(sw)),
        "rows_with_names_disagreeing_with_coordinates": int(len(mis)),
        "loadable_rows": int(ok.sum()),
        "void": int((ok & (out.status == "已作废")).sum()),
        "open_at_export": int((ok & is_open).sum()),
        "overdue_at_export": int((ok & overdue).sum()),
        "closed": int((ok & (out.status == "已办结")).sum()),
        "closed_late": int((ok & (out.closed > due)).sum()),
        "status_counts": {str(k): int(v) for k, v in
                          zip(*np.unique(out.status[ok].astype(str), return_counts=True),
                              strict=True)},
        "backlog_streets": backlog,
    }
    return frame, stats


def write_csv(columns: dict[str, np.ndarray], path) -> None:
    """GBK-encoded CSV with CRLF line ends, like a hotline system's export.

    Fields holding a comma, a quote or a line break are quoted (RFC 4180).
    """
    def field(values: np.ndarray) -> np.ndarray:
        v = np.asarray(values, dtype=object)
        s = pd.Series(v, dtype=object)
        risky = s.str.contains(r'[,"\r\n]', regex=True).fillna(False).to_numpy()
        if risky.any():
            v = v.copy()
            v[risky] = ['"' + x.replace('"', '""') + '"' for x in v[risky].tolist()]
        return v

    cols = [field(v) for v in columns.values()]
    line = cols[0]
    for c in cols[1:]:
        line = line + "," + c
    text = ",".join(columns) + "\r\n" + "\r\n".join(line.tolist()) + "\r\n"
    with open(path, "wb") as fh:
        fh.write(text.encode("gbk"))
