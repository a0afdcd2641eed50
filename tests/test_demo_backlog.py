"""The demo city's planted backlog is found (issue 4), against truth.json."""

import datetime as dt

import duckdb

from analytics.backlog import BacklogQuery, compute_backlog


def test_planted_backlog_streets_lead_the_overdue_ranking(demo_city):
    db, truth = demo_city
    as_of = dt.datetime.fromisoformat(truth["backlog"]["as_of"])
    con = duckdb.connect(str(db), read_only=True)
    try:
        res = compute_backlog(con, BacklogQuery(as_of, dt.datetime(2026, 5, 25),
                                                levels=("street", "district"),
                                                source="complaints"))
    finally:
        con.close()
    streets = res.level("street")
    rows = streets[streets.level == "street"].set_index("jurisdiction")
    planted = {s["street"]: s for s in truth["backlog"]["streets"]}
    for name, want in planted.items():
        assert (rows.loc[name, "open"], rows.loc[name, "overdue"]) == (want["open"],
                                                                      want["overdue"]), name
    worst = set(rows.sort_values("overdue", ascending=False).index[:len(planted)])
    assert worst == set(planted)
    assert (rows.loc[list(planted), "rank"] > len(rows) - 10).all()  # near the bottom
    # truth counts complaints open at export over the whole file; so does the city row
    city = streets[streets.level == "city"].iloc[0]
    assert city.open == truth["complaints"]["open_at_export"]
    assert city.overdue == truth["complaints"]["overdue_at_export"]
    districts = res.level("district")
    d = districts[districts.level == "district"]
    for col in ("open", "overdue", "filed", "due_in_period", "closed_on_time"):
        assert d[col].sum() == city[col]
