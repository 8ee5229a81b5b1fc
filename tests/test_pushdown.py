"""Filter changes answered by the store: the SQL carries the filters, the answer equals in-memory filtering."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pandas as pd
import pytest

from benchmarks.synthetic import generate, write_acled_csv
from geodata.geo.enrich import enrich_incidents
from geodata.model.filters import FilterSpec, apply_filters
from geodata.ingest.bundled import to_geodataframe
from geodata.ingest import ingest_file
from geodata.model.schema import INCIDENT_COLUMNS
from geodata.query.pushdown import AGGREGATE_COLUMNS, LEAN_COLUMNS, proximity_for, select_rows
from geodata.geo.routes import load_routes
from geodata.settings import get_settings
from geodata.geo.sites import load_sites
from geodata.store import open_store


def _context(routes, sites) -> SimpleNamespace:
    """The context layers select_rows needs (routes and sites for proximity and distances)."""
    return SimpleNamespace(routes=routes, sites=sites, routes_version="test")


@pytest.fixture
def filled_store(store_url, tmp_path):
    rows = generate(3_000, seed=11)
    # "Synthetic actor 1" is a prefix of "Synthetic actor 10": SQL LIKE over-selects, pandas must trim.
    rows.loc[:200, "assoc_actor_1"] = "Synthetic actor 10; Synthetic actor 150"
    rows.loc[201:230, "assoc_actor_1"] = "Synthetic actor 1"
    store = open_store(store_url)
    ingest_file(write_acled_csv(rows, tmp_path / "acled.csv"), store)
    yield store
    store.close()


@pytest.mark.parametrize("spec", [
    FilterSpec(start=dt.date(2018, 1, 1), end=dt.date(2021, 12, 31), actors=("Synthetic actor 1",),
               event_types=("Protests", "Strategic developments")),
    FilterSpec(event_types=("Battles",), min_fatalities=1),
    FilterSpec(start=dt.date(2020, 6, 1), text="synthetic place 4"),
])
def test_store_answers_the_filter_and_matches_in_memory_filtering(filled_store, spec):
    routes, sites = load_routes(get_settings({}).routes_file), load_sites()
    everything = filled_store.read(None, INCIDENT_COLUMNS, order=True)
    expected = apply_filters(enrich_incidents(to_geodataframe(everything, everything["origin"]), None, routes, sites),
                             spec, routes, sites)
    got = select_rows(filled_store, spec, None, _context(routes, sites))
    query = filled_store.last_query
    assert sorted(got["event_id_cnty"]) == sorted(expected["event_id_cnty"])
    assert len(got) < len(everything)
    assert " WHERE " in query
    if spec.start:
        assert "event_date >=" in query
    if spec.event_types:
        assert "event_type IN" in query
    if spec.actors:
        assert "actor1 IN" in query and "assoc_actor_1 LIKE" in query
    if spec.min_fatalities:
        assert "fatalities >=" in query


def test_nothing_matching_gives_an_empty_point_layer(filled_store):
    routes, sites = load_routes(get_settings({}).routes_file), load_sites()
    got = select_rows(filled_store, FilterSpec(start=dt.date(2099, 1, 1)), None, _context(routes, sites))
    assert len(got) == 0 and got.crs.to_epsg() == 4326


def test_lean_columns_give_the_same_answer_as_a_full_read(filled_store):
    spec = FilterSpec(start=dt.date(2016, 1, 1), actors=("Synthetic actor 1",))
    ctx = _context(None, None)
    full = select_rows(filled_store, spec, None, ctx)
    lean = select_rows(filled_store, spec, LEAN_COLUMNS, ctx)
    query = filled_store.last_query
    assert len(full) > 10
    assert "notes" not in query and "source_url" in query and " WHERE " in query  # narrow, filtered SELECT
    assert sorted(lean["event_id_cnty"]) == sorted(full["event_id_cnty"])
    assert set(lean.columns) < set(full.columns)
    merged = full.set_index("event_id_cnty")
    for col in ("municipality", "event_type", "fatalities", "location"):
        assert lean.set_index("event_id_cnty")[col].astype(str).to_dict() == merged[col].astype(str).to_dict()
    assert lean.crs.to_epsg() == 4326
    assert (lean.geometry.x.round(6).to_numpy() == lean["longitude"].round(6).to_numpy()).all()


def test_the_aggregate_columns_count_every_incident(filled_store):
    from layers.incidents import build_payload

    spec = FilterSpec(event_types=("Protests",), start=dt.date(2016, 1, 1))
    ctx = _context(None, None)
    lean = select_rows(filled_store, spec, AGGREGATE_COLUMNS, ctx)
    assert set(lean.columns) >= {"event_type", "fatalities", "municipality", "geometry"}
    assert "location" not in lean and "SELECT event_type, fatalities, latitude, longitude, admin2" in filled_store.last_query
    payload = build_payload(lean, "aggregate")
    assert sum(payload.data["n"]) == len(lean) > 100
    assert (lean["event_type"] == "Protests").all()
    assert len(lean) == len(select_rows(filled_store, spec, None, ctx))


def test_the_sql_count_over_selects_and_the_rows_are_trimmed_exactly(filled_store):
    spec = FilterSpec(actors=("Synthetic actor 1",))  # LIKE also matches "Synthetic actor 10"
    exact = select_rows(filled_store, spec, None, _context(None, None))
    assert filled_store.count(spec) > len(exact)
    def member(row) -> bool:
        return "Synthetic actor 1" in {a.strip() for c in ("actor1", "actor2", "assoc_actor_1", "assoc_actor_2")
                                       for a in str(row[c] if row[c] == row[c] else "").split(";")}

    assert len(exact) > 0 and exact.apply(member, axis=1).all()


@pytest.mark.parametrize("columns", [None, LEAN_COLUMNS])
def test_proximity_is_narrowed_in_sql_with_the_same_answer(filled_store, columns):
    routes, sites = load_routes(get_settings({}).routes_file), load_sites()
    spec = FilterSpec(start=dt.date(2016, 1, 1), near_routes=(routes["name"].iloc[0],), near_sites=(sites["name_en"].iloc[0],),
                      near_km=4.0)
    everything = filled_store.read(None, INCIDENT_COLUMNS, order=True)
    expected = apply_filters(enrich_incidents(to_geodataframe(everything, everything["origin"]), None, routes, sites),
                             spec, routes, sites)
    got = select_rows(filled_store, spec, columns, _context(routes, sites))
    query = filled_store.last_query
    assert sorted(got["event_id_cnty"]) == sorted(expected["event_id_cnty"]) and len(expected) > 0
    postgis = getattr(filled_store, "dialect", "") == "postgres"
    assert ("ST_DWithin" in query and "&&" in query) if postgis else "longitude BETWEEN" in query
    narrowed = filled_store.count(spec, proximity_for(spec, routes, sites))
    assert len(expected) <= narrowed < filled_store.count(spec.with_(near_routes=(), near_sites=()))


def test_distances_from_many_sessions_at_once_never_lose_a_point(monkeypatch):
    """Sessions are threads sharing the distance cache; a small cache is cleared often while others read."""
    import threading

    import numpy as np

    import geodata.query.pushdown as pushdown
    from geodata.ingest.bundled import to_geodataframe

    monkeypatch.setattr(pushdown, "DISTANCE_CACHE_POINTS", 50)
    routes, sites = load_routes(get_settings({}).routes_file), load_sites()
    rng = np.random.default_rng(1)
    errors: list[BaseException] = []

    def session(seed: int) -> None:
        local = np.random.default_rng(seed)
        try:
            for _ in range(30):
                lat = local.uniform(42.8, 43.2, 40).round(5)
                lon = local.uniform(20.4, 20.9, 40).round(5)
                frame = to_geodataframe(pd.DataFrame({"latitude": lat, "longitude": lon}), "test")
                got = pushdown.add_distances(frame, routes, sites, "v")
                assert got["dist_route_m"].notna().all() and len(got) == 40
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    import sys

    threads = [threading.Thread(target=session, args=(int(rng.integers(1e9)),)) for _ in range(6)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows within a few calls
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


#: Filter fields the SQL never decides: pandas does (text search, exact distance to routes and sites).
PANDAS_ONLY = {"text", "near_routes", "near_sites", "near_km"}
#: A value that selects something, per field.
SET = {"start": dt.date(2020, 1, 1), "end": dt.date(2021, 1, 1), "actors": ("A",), "event_types": ("Riots",),
       "sub_event_types": ("Arrests",), "municipalities": ("Zvečan",), "min_fatalities": 1, "text": "x",
       "near_routes": ("R",), "near_sites": ("S",), "near_km": 2.0, "statuses": ("verified",)}


def test_one_description_says_how_the_sql_decides_every_filter_field():
    """Issue 19: the SQL and the pandas remainder come from one table (records.SQL_DECIDES); a new
    filter field must be placed in it (or named pandas-only here) before this passes."""
    import dataclasses

    from geodata.store.records import _CLAUSES, SQL_DECIDES, filter_sql

    fields = {f.name for f in dataclasses.fields(FilterSpec)}
    assert set(SET) == fields
    assert set(SQL_DECIDES) | PANDAS_ONLY == fields and not set(SQL_DECIDES) & PANDAS_ONLY
    assert set(_CLAUSES) == set(SQL_DECIDES) and set(SQL_DECIDES.values()) <= {"exact", "superset"}
    for name in fields:
        where, params = filter_sql(FilterSpec(**{name: SET[name]}), "?", lambda d: d)
        if name in SQL_DECIDES:  # one clause of its own, with the value as a parameter, never in the text
            assert where.startswith(" WHERE ") and " AND " not in where and params, name
        else:
            assert (where, params) == ("", []), name


def test_the_remainder_keeps_exactly_what_the_sql_does_not_decide_exactly():
    from geodata.query.pushdown import residual_spec
    from geodata.store.records import SQL_DECIDES

    rest = residual_spec(FilterSpec(**SET))
    for name, value in SET.items():
        exact = SQL_DECIDES.get(name) == "exact"
        assert (getattr(rest, name) == getattr(FilterSpec(), name)) if exact else getattr(rest, name) == value, name
