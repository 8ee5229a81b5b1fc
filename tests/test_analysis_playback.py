"""Pure helpers behind the dashboard: key figures, timeline, breakdowns, table, click lookup, playback."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Geod

from geodata.query import analysis, playback

from geodata.ingest.bundled import load_bundled_incidents


def frame(rows: list[dict]) -> gpd.GeoDataFrame:
    """A small incident layer with the columns the helpers read."""
    base = {"event_type": "Protests", "sub_event_type": "Peaceful protest", "actor1": "A", "actor2": "",
            "assoc_actor_1": "", "assoc_actor_2": "", "fatalities": 0, "municipality": "Zveçan",
            "location": "X", "notes": "", "source_url": "https://example.org/r", "event_id_cnty": "",
            "lat": 42.9, "lon": 20.8}
    full = [{**base, **r} for r in rows]
    df = pd.DataFrame(full)
    df["event_date"] = pd.to_datetime(df["event_date"])
    df["fatalities"] = df["fatalities"].astype("Int64")
    return gpd.GeoDataFrame(df.drop(columns=["lat", "lon"]), geometry=gpd.points_from_xy(df["lon"], df["lat"]),
                            crs="EPSG:4326")


@pytest.fixture
def sample():
    return frame([
        {"event_date": "2023-09-24", "event_type": "Battles", "actor1": "B", "actor2": "A",
         "assoc_actor_1": "C; D", "fatalities": 4, "event_id_cnty": "e1", "lat": 42.97, "lon": 20.78},
        {"event_date": "2023-09-25", "actor1": "A", "assoc_actor_1": "C", "event_id_cnty": "e2", "municipality": ""},
        {"event_date": "2023-11-02", "actor1": "D", "fatalities": 1, "event_id_cnty": "e3",
         "source_url": "javascript:alert(1)", "lat": 42.89, "lon": 20.87},
    ])


def test_key_figures(sample):
    kf = analysis.key_figures(sample)
    assert (kf.incidents, kf.fatalities, kf.actors) == (3, 5, 4)  # A, B, C, D
    assert (kf.first, kf.last, kf.span_days) == (dt.date(2023, 9, 24), dt.date(2023, 11, 2), 40)
    empty = analysis.key_figures(sample.iloc[:0])
    assert (empty.incidents, empty.first, empty.span_days) == (0, None, 0)


def test_timeline_by_month_and_week(sample):
    month = analysis.timeline(sample, "month")
    assert month["incidents"].sum() == len(sample)
    sept = month[month["period"] == pd.Timestamp("2023-09-01")].set_index("event_type")["incidents"].to_dict()
    assert sept == {"Battles": 1, "Protests": 1}
    week = analysis.timeline(sample, "week")
    # 24 Sep 2023 is a Sunday, 25 Sep a Monday: two different ISO weeks.
    assert set(week["period"]) == {pd.Timestamp("2023-09-18"), pd.Timestamp("2023-09-25"), pd.Timestamp("2023-10-30")}
    assert analysis.timeline(sample.iloc[:0]).empty
    with pytest.raises(ValueError):
        analysis.timeline(sample, "year")


def test_breakdowns(sample):
    actors = analysis.breakdown(sample, "actor").set_index("actor")
    # Each actor counts once per incident, wherever it appears (primary, opponent, associated).
    assert actors["incidents"].to_dict() == {"A": 2, "C": 2, "D": 2, "B": 1}
    assert actors.loc["D", "fatalities"] == 5
    # Largest first; ties broken by fatalities, then name.
    assert analysis.breakdown(sample, "actor", top=2)["actor"].tolist() == ["D", "A"]
    munis = analysis.breakdown(sample, "municipality").set_index("municipality")["incidents"].to_dict()
    assert munis == {"Zveçan": 2, "(unknown)": 1}
    assert analysis.breakdown(sample.iloc[:0], "event_type").empty
    with pytest.raises(KeyError):
        analysis.breakdown(sample, "nope")


def test_table_view_keeps_only_http_links_and_text(sample):
    hostile = sample.copy()
    hostile.loc[hostile.index[1], "notes"] = "<script>alert(1)</script>"
    table = analysis.table_view(hostile)
    assert "geometry" not in table
    assert table["event_date"].tolist() == sorted(table["event_date"], reverse=True)
    urls = dict(zip(table["event_id_cnty"], table["source_url"]))
    assert urls == {"e1": "https://example.org/r", "e2": "https://example.org/r", "e3": None}
    assert "<script>alert(1)</script>" in table["notes"].tolist()  # text stays text; display never renders HTML
    assert analysis.http_url_or_none("https://a.org/x y") is None
    assert analysis.http_url_or_none(" HTTP://a.org/ ") == "HTTP://a.org/"
    assert analysis.http_url_or_none(float("nan")) is None


def test_nearest_incident_uses_metres(sample):
    geod = Geod(ellps="WGS84")
    lon, lat, _ = geod.fwd(20.78, 42.97, 90, 1500)  # 1.5 km east of e1
    row = analysis.nearest_incident(sample, lat, lon)
    assert row["event_id_cnty"] == "e1"
    assert row["distance_m"] == pytest.approx(1500, rel=0.005)
    assert analysis.nearest_incident(sample, lat, lon, max_m=1000) is None
    assert analysis.nearest_incident(sample.iloc[:0], lat, lon) is None


def test_nearest_incident_prefers_the_latest_at_one_place():
    same = frame([{"event_date": "2022-01-01", "event_id_cnty": "old"}, {"event_date": "2024-01-01", "event_id_cnty": "new"}])
    assert analysis.nearest_incident(same, 42.9, 20.8)["event_id_cnty"] == "new"


def test_periods_are_contiguous_calendar_periods(sample):
    assert playback.periods(sample["event_date"], "month") == [dt.date(2023, 9, 1), dt.date(2023, 10, 1), dt.date(2023, 11, 1)]
    weeks = playback.periods(sample["event_date"], "week")
    assert weeks[0] == dt.date(2023, 9, 18) and all(d.weekday() == 0 for d in weeks)
    assert len(playback.periods(sample["event_date"], "day")) == 40
    assert playback.periods(pd.Series([], dtype="datetime64[ns]"), "day") == []
    with pytest.raises(ValueError):
        playback.periods(sample["event_date"], "fortnight")


def test_period_end_and_labels():
    assert playback.period_end(dt.date(2024, 2, 1), "month") == dt.date(2024, 2, 29)
    assert playback.period_end(dt.date(2023, 9, 18), "week") == dt.date(2023, 9, 24)
    assert playback.period_end(dt.date(2023, 9, 18), "day") == dt.date(2023, 9, 18)
    assert playback.period_label(dt.date(2023, 9, 1), "month") == "Sep 2023"
    assert playback.period_label(dt.date(2023, 9, 18), "week") == "week of 2023-09-18"


def test_select_period_within_and_cumulative(sample):
    sept = dt.date(2023, 9, 1)
    assert playback.select_period(sample, sept, "month", cumulative=False)["event_id_cnty"].tolist() == ["e1", "e2"]
    assert playback.select_period(sample, dt.date(2023, 10, 1), "month", cumulative=False).empty
    assert playback.select_period(sample, dt.date(2023, 11, 1), "month", cumulative=True)["event_id_cnty"].tolist() == ["e1", "e2", "e3"]
    # Sunday 24 Sep belongs to the week starting Monday 18 Sep; Monday 25 Sep does not.
    assert playback.select_period(sample, dt.date(2023, 9, 18), "week", cumulative=False)["event_id_cnty"].tolist() == ["e1"]


def test_step_is_clamped():
    opts = [dt.date(2023, 9, 1), dt.date(2023, 10, 1), dt.date(2023, 11, 1)]
    assert playback.step(opts, opts[0], -1) == opts[0]
    assert playback.step(opts, opts[0], 1) == opts[1]
    assert playback.step(opts, opts[2], 5) == opts[2]
    assert playback.step(opts, None, 1) == opts[1]
    assert playback.step([], None, 1) is None


def test_periods_cover_every_bundled_incident_once():
    inc = load_bundled_incidents()
    for freq in playback.FREQUENCIES:
        counts = [len(playback.select_period(inc, p, freq, cumulative=False)) for p in playback.periods(inc["event_date"], freq)]
        assert sum(counts) == len(inc)
