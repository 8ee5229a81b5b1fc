"""Filter changes answered by the store: the SQL carries the filters, the answer equals in-memory filtering."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from benchmarks.synthetic import generate, write_acled_csv
from geodata.geo.enrich import enrich_incidents
from geodata.model.filters import FilterSpec, apply_filters
from geodata.ingest.bundled import load_bundled_incidents, to_geodataframe
from geodata.ingest import ingest_file
from geodata.query.pushdown import select_incidents
from geodata.geo.routes import load_routes
from geodata.settings import get_settings
from geodata.geo.sites import load_sites
from geodata.store import open_store


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
    everything = filled_store.read_incidents()
    expected = apply_filters(enrich_incidents(to_geodataframe(everything, everything["origin"]), None, routes, sites),
                             spec, routes, sites)
    got = select_incidents(filled_store, spec, routes=routes, sites=sites)
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


def test_bundled_incidents_are_filtered_with_the_stored_ones(filled_store):
    bundled = load_bundled_incidents()
    spec = FilterSpec(start=dt.date(2023, 1, 1), end=dt.date(2023, 12, 31))
    got = select_incidents(filled_store, spec, extra=bundled)
    in_bundle = got["origin"].eq("bundled")
    assert in_bundle.sum() == len(apply_filters(bundled, spec)) > 0
    assert in_bundle.iloc[: in_bundle.sum()].all()  # bundled first, as load_incidents orders them
    assert got["event_date"].between("2023-01-01", "2023-12-31").all()


def test_no_store_and_nothing_matching_give_an_empty_enriched_layer():
    got = select_incidents(None, FilterSpec())
    assert len(got) == 0 and "municipality" in got and got.crs.to_epsg() == 4326


def test_large_selections_are_read_lean_with_the_same_answer(filled_store):
    spec = FilterSpec(start=dt.date(2016, 1, 1), actors=("Synthetic actor 1",))
    full = select_incidents(filled_store, spec)
    lean = select_incidents(filled_store, spec, lean_above=10)
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


def test_lean_view_of_the_aggregate_map_counts_every_incident(filled_store):
    from layers.incidents import build_payload

    spec = FilterSpec(event_types=("Protests",), start=dt.date(2016, 1, 1))
    lean = select_incidents(filled_store, spec, aggregate_above=100, lean_above=10, extra=load_bundled_incidents())
    assert set(lean.columns) >= {"event_type", "fatalities", "municipality", "geometry"}
    assert "location" not in lean and "SELECT event_type, fatalities, latitude, longitude, admin2" in filled_store.last_query
    payload = build_payload(lean, "aggregate")
    assert sum(payload.data["n"]) == len(lean) > 100
    assert (lean["event_type"] == "Protests").all() and lean["origin"].eq("bundled").any()
    assert len(lean) == len(select_incidents(filled_store, spec, extra=load_bundled_incidents()))


def test_an_over_selecting_count_falls_back_to_a_full_read(filled_store):
    from geodata.query.pushdown import count_matching

    spec = FilterSpec(actors=("Synthetic actor 1",))  # LIKE also matches "Synthetic actor 10"
    exact = select_incidents(filled_store, spec)
    assert count_matching(filled_store, spec) > len(exact)
    got = select_incidents(filled_store, spec, lean_above=len(exact))
    assert "notes" in got and "FROM incidents WHERE" in filled_store.last_query
    assert sorted(got["event_id_cnty"]) == sorted(exact["event_id_cnty"])


@pytest.mark.parametrize("lean_above", [None, 10])
def test_proximity_is_narrowed_in_sql_with_the_same_answer(filled_store, lean_above):
    from geodata.query.pushdown import count_matching

    routes, sites = load_routes(get_settings({}).routes_file), load_sites()
    spec = FilterSpec(start=dt.date(2016, 1, 1), near_routes=(routes["name"].iloc[0],), near_sites=(sites["name_en"].iloc[0],),
                      near_km=4.0)
    everything = filled_store.read_incidents()
    expected = apply_filters(enrich_incidents(to_geodataframe(everything, everything["origin"]), None, routes, sites),
                             spec, routes, sites)
    got = select_incidents(filled_store, spec, routes=routes, sites=sites, lean_above=lean_above)
    query = filled_store.last_query
    assert sorted(got["event_id_cnty"]) == sorted(expected["event_id_cnty"]) and len(expected) > 0
    postgis = getattr(filled_store, "dialect", "") == "postgres"
    assert ("ST_DWithin" in query and "&&" in query) if postgis else "longitude BETWEEN" in query
    narrowed = count_matching(filled_store, spec, routes=routes, sites=sites)
    assert len(expected) <= narrowed < count_matching(filled_store, spec.with_(near_routes=(), near_sites=()))


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
