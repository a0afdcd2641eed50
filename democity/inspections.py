"""Inspection points (考察点位) and the weekly inspections (督查) of the demo city.

About 2,000 points of the 26 point types in ``names.POINT_TYPES``: main roads, back
streets, residential compounds and bus stops mostly in the built-up centre; markets,
schools, toilets and service halls also around town centres; 城乡结合部 and 城中村
points in the urban-rural fringe band. Every point is due once a week; eight teams
share the streets, two of them skip noticeably more often, and a few remote points are
mostly skipped. Some planted hotspots have a point right on them (so inspections see
them); the others have none within a kilometre (the blind spots).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from democity import names as nm
from democity.population import Population, to_km

POINT_TOTAL = 2000
#: Mixture weights (urban, towns, floor) of the placement kinds of point types.
PLACEMENT_MIX = {"core": (0.75, 0.15, 0.10), "town": (0.40, 0.45, 0.15),
                 "spread": (0.45, 0.30, 0.25)}
#: Hotspot theme -> the point type that sits on it when inspections cover it.
THEME_POINT_TYPE = {"dump": "城乡结合部", "shacks": "城中村", "night_market": "商业大街",
                    "market": "农贸市场", "site": "建筑工地", "old_estate": "老旧小区",
                    "pipe": "主次干道"}
#: No point within this distance of an uncovered hotspot (km).
BLIND_RADIUS_KM = 1.0
#: Weekly coverage of each team; share and coverage of the mostly-skipped points.
TEAM_COVERAGE = (0.95, 0.94, 0.93, 0.80, 0.95, 0.92, 0.78, 0.94)
SKIPPED_SHARE, SKIPPED_COVERAGE = 0.04, 0.35
#: Mean problems found per visit by point type (others: DEFAULT_PROBLEMS).
MEAN_PROBLEMS = {"城乡结合部": 1.6, "城中村": 1.4, "农贸市场": 1.3, "集贸市场": 1.3,
                 "背街小巷": 1.0, "老旧小区": 1.0, "建筑工地": 0.9, "公共厕所": 0.7,
                 "主次干道": 0.5, "公交站点": 0.4, "河道沿线": 0.8}
DEFAULT_PROBLEMS = 0.4
HOTSPOT_PROBLEM_FACTOR = 2.5
#: Problem types found by point type (others: GENERAL_PROBLEMS).
PROBLEMS_BY_TYPE = {
    "城乡结合部": ("暴露垃圾", "积存垃圾渣土", "私搭乱建", "焚烧垃圾"),
    "城中村": ("暴露垃圾", "私搭乱建", "沿街晾挂", "非法小广告"),
    "农贸市场": ("店外经营", "无照经营游商", "道路不洁", "暴露垃圾"),
    "集贸市场": ("店外经营", "无照经营游商", "道路不洁"),
    "建筑工地": ("工地扬尘", "施工占道", "道路不洁"),
    "公交站点": ("非法小广告", "道路不洁", "非机动车乱停放"),
    "商业大街": ("店外经营", "占道广告牌", "非机动车乱停放", "违章张贴悬挂"),
    "公共厕所": ("道路不洁", "暴露垃圾"),
}
GENERAL_PROBLEMS = ("暴露垃圾", "非法小广告", "非机动车乱停放", "道路不洁", "店外经营",
                    "机动车乱停放")
#: Points deducted per problem (others: 0.5).
DEDUCTION = {"私搭乱建": 2.0, "暴露垃圾": 1.0, "积存垃圾渣土": 1.0, "焚烧垃圾": 1.0,
             "工地扬尘": 1.0, "道路不洁": 0.5}
RECTIFY_DAYS = 3
#: Rectification: on time, late (the rest not rectified).
P_RECTIFIED, P_RECTIFIED_LATE = 0.80, 0.12
COLUMNS = ("督查编号", "点位编号", "督查时间", "督查组", "问题类型", "问题数量", "扣分",
           "整改时限", "整改完成时间")


def _type_counts() -> tuple[list[str], np.ndarray, list[str]]:
    types = [t for t, _, _ in nm.POINT_TYPES]
    w = np.array([w for _, w, _ in nm.POINT_TYPES], dtype=float)
    counts = np.round(w * POINT_TOTAL / w.sum()).astype(int)
    return types, counts, [p for _, _, p in nm.POINT_TYPES]


def _uniform_in(rng: np.random.Generator, geom, n: int) -> tuple[np.ndarray, np.ndarray]:
    x0, y0, x1, y1 = shapely.bounds(geom)
    xs, ys = [], []
    got = 0
    while got < n:
        x = rng.uniform(x0, x1, 8 * n + 16)
        y = rng.uniform(y0, y1, 8 * n + 16)
        ok = shapely.contains_xy(geom, x, y)
        xs.append(x[ok])
        ys.append(y[ok])
        got += int(ok.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def place_points(rng: np.random.Generator, pop: Population, band_km, spots: list) -> pd.DataFrame:
    """Point types and positions (local km); ``hotspot`` marks points set on a hotspot."""
    types, counts, placement = _type_counts()
    xs, ys, ts = [], [], []
    for t, c, p in zip(types, counts, placement, strict=True):
        if p == "fringe":
            x, y = _uniform_in(rng, band_km, c)
        else:
            x, y = pop.sample(rng, c, PLACEMENT_MIX[p])
        xs.append(x)
        ys.append(y)
        ts.extend([t] * c)
    frame = pd.DataFrame({"x": np.concatenate(xs), "y": np.concatenate(ys),
                          "point_type": ts, "hotspot": ""})
    covered = [h for h in spots if h.covered]
    blind = [h for h in spots if not h.covered]
    # clear the blind spots: points near them move elsewhere (same type, same placement)
    where = dict(zip(types, placement, strict=True))
    spots_xy = np.array([to_km(h.lon, h.lat) for h in blind]).reshape(-1, 2)

    def near_blind(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        d = np.hypot(x[:, None] - spots_xy[:, 0], y[:, None] - spots_xy[:, 1])
        return (d < BLIND_RADIUS_KM).any(axis=1)

    todo = np.nonzero(near_blind(frame["x"].to_numpy(), frame["y"].to_numpy()))[0]
    while len(todo):
        for t in sorted(set(frame["point_type"].iloc[todo])):
            rows = todo[frame["point_type"].to_numpy()[todo] == t]
            if where[t] == "fringe":
                nx, ny = _uniform_in(rng, band_km, len(rows))
            else:
                nx, ny = pop.sample(rng, len(rows), PLACEMENT_MIX[where[t]])
            frame.loc[rows, "x"] = nx
            frame.loc[rows, "y"] = ny
        todo = todo[near_blind(frame["x"].to_numpy()[todo], frame["y"].to_numpy()[todo])]
    extra = []
    for h in covered:
        hx, hy = to_km(h.lon, h.lat)
        extra.append({"x": float(hx), "y": float(hy),
                      "point_type": THEME_POINT_TYPE[h.theme], "hotspot": h.id})
    return pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)


def name_points(rng: np.random.Generator, frame: pd.DataFrame, district_code: np.ndarray,
                street_idx: np.ndarray, community: np.ndarray, roads: np.ndarray,
                spot_labels: dict[str, str]) -> pd.DataFrame:
    """点位编号 (DW + district code + 4 digits) and 点位名称, unique city-wide."""
    n = len(frame)
    road = roads[street_idx, rng.integers(0, roads.shape[1], size=n)]
    stems_c = np.array(nm.community_stems(), dtype=object)
    stem_own = pd.Series(community).str.replace(r"(社区|村)$", "", regex=True).to_numpy(dtype=object)
    stem = np.where(rng.uniform(size=n) < 0.5, stem_own,
                    stems_c[rng.integers(0, len(stems_c), size=n)])
    forms = frame["point_type"].map(nm.POINT_NAME_FORMS).tolist()
    names_ = pd.Series([f.replace("{road}", r).replace("{stem}", s)
                        for f, r, s in zip(forms, road.tolist(), stem.tolist(), strict=True)],
                       dtype=object)
    on_spot = (frame["hotspot"].to_numpy() != "")
    names_[on_spot] = [spot_labels[h] for h in frame["hotspot"][on_spot]]
    dup = names_.groupby(names_).cumcount().to_numpy()
    names_ = names_ + np.where(dup == 0, "", "（" + (dup + 1).astype(str).astype(object) + "）")
    # ids: per district, in type order then north to south
    order = np.lexsort((-frame["y"].to_numpy(), frame["point_type"].map(
        {t: i for i, (t, _, _) in enumerate(nm.POINT_TYPES)}).to_numpy(), district_code))
    seq = np.empty(n, dtype=np.int64)
    seq[order] = pd.Series(district_code[order]).groupby(district_code[order]).cumcount().to_numpy() + 1
    pid = "DW" + pd.Series(district_code).astype(str) + pd.Series(seq).astype(str).str.zfill(4)
    return frame.assign(point_id=pid.to_numpy(), name=names_.to_numpy())


def inspect(rng: np.random.Generator, points: pd.DataFrame, street_idx: np.ndarray,
            n_streets: int, start: np.datetime64, export: np.datetime64,
            weeks: int) -> tuple[pd.DataFrame, dict]:
    """One row per inspection visit; and counts for ``truth.json``.

    Nothing lies after the export moment ``export``: visits planned for later on the
    export day are left out (not yet made), and rectifications after it are not yet
    recorded (the problem is open at export).
    """
    n_p = len(points)
    team_of_street = rng.permutation(np.arange(n_streets) % len(nm.TEAMS))
    team = team_of_street[street_idx]
    cover = np.array(TEAM_COVERAGE)[team]
    # the most remote points are mostly skipped
    dist = np.hypot(points["x"].to_numpy(), points["y"].to_numpy())
    remote = np.argsort(-dist, kind="stable")[: int(SKIPPED_SHARE * n_p)]
    cover[remote] = SKIPPED_COVERAGE
    n_days = int((export - start) // np.timedelta64(1, "D")) + 1
    pw_point = np.repeat(np.arange(n_p), weeks)
    pw_week = np.tile(np.arange(weeks), n_p)
    # visit day: Monday..Friday, sometimes Saturday; never after the export day
    wd = rng.choice(6, size=len(pw_point), p=[0.2, 0.21, 0.21, 0.2, 0.13, 0.05])
    day = pw_week * 7 + wd
    visited = (rng.uniform(size=len(pw_point)) < cover[pw_point]) & (day < n_days)
    p_i, day = pw_point[visited], day[visited]
    minutes = rng.integers(8 * 60 + 30, 17 * 60 + 30, size=len(p_i))
    when = start + (day * 1440 + minutes).astype("timedelta64[m]")
    # a visit planned for later on the export day has not happened yet: not in the ledger
    later = when > export
    if later.any():
        visited[np.nonzero(visited)[0][later]] = False
        p_i, when = p_i[~later], when[~later]
    order = np.lexsort((p_i, when))
    p_i, when = p_i[order], when[order]
    n = len(p_i)
    ptype = points["point_type"].to_numpy()[p_i]
    mean = np.array([MEAN_PROBLEMS.get(t, DEFAULT_PROBLEMS) for t in ptype])
    mean = np.where(points["hotspot"].to_numpy()[p_i] != "", mean * HOTSPOT_PROBLEM_FACTOR, mean)
    problems = rng.poisson(mean)
    kinds = np.empty(n, dtype=object)
    for t in np.unique(ptype):
        rows = np.nonzero(ptype == t)[0]
        choices = np.array(PROBLEMS_BY_TYPE.get(str(t), GENERAL_PROBLEMS), dtype=object)
        kinds[rows] = choices[rng.integers(0, len(choices), size=len(rows))]
    kinds = np.where(problems > 0, kinds, "无")
    per = np.array([DEDUCTION.get(k, 0.5) for k in kinds])
    deduction = np.round(problems * per, 1)
    due_day = when.astype("datetime64[D]") + np.timedelta64(RECTIFY_DAYS, "D")
    due = due_day.astype("datetime64[m]") + np.timedelta64(18 * 60, "m")
    u = rng.uniform(size=n)
    span = (due - when).astype(np.int64)
    done = when + (span * rng.uniform(0.1, 1.0, size=n)).astype(np.int64).astype("timedelta64[m]")
    late = due + rng.integers(12 * 60, 6 * 1440, size=n).astype("timedelta64[m]")
    rectified = np.where(u < P_RECTIFIED, done, np.where(u < P_RECTIFIED + P_RECTIFIED_LATE,
                                                         late, np.datetime64("NaT", "m")))
    nat = np.datetime64("NaT", "m")
    rectified = np.where((problems > 0) & (rectified <= export), rectified, nat)
    due = np.where(problems > 0, due, nat)
    day_str = pd.Series(when.astype("datetime64[D]")).dt.strftime("%Y%m%d")
    seq = day_str.groupby(day_str).cumcount() + 1
    frame = pd.DataFrame({
        "督查编号": ("DC" + day_str + seq.astype(str).str.zfill(4)).to_numpy(),
        "点位编号": points["point_id"].to_numpy()[p_i],
        "督查时间": pd.Series(when.astype("datetime64[s]")),
        "督查组": np.array(nm.TEAMS, dtype=object)[team[p_i]],
        "问题类型": kinds,
        "问题数量": problems.astype(np.int64),
        "扣分": deduction,
        "整改时限": pd.Series(due.astype("datetime64[s]")),
        "整改完成时间": pd.Series(rectified.astype("datetime64[s]")),
    })
    open_problem = (problems > 0) & np.isnat(rectified)
    stats = {
        "rows": int(n), "points": int(n_p), "weeks": int(weeks),
        "due_visits": int(n_p * weeks),
        "coverage": round(float(n / max(1, n_p * weeks)), 4),
        "visits_with_problems": int((problems > 0).sum()),
        "problems": int(problems.sum()),
        "unrectified_at_export": int(open_problem.sum()),
        "unrectified_overdue_at_export": int((open_problem & (due < export)).sum()),
        "teams": {nm.TEAMS[t]: round(float(np.mean(visited.reshape(n_p, weeks)[team == t])), 4)
                  for t in range(len(nm.TEAMS)) if (team == t).any()},
    }
    return frame, stats
