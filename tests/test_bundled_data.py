"""Bundled data is real and sourced: every incident and site links to a public report."""

import json

import pandas as pd

from geodata.incidents import load_bundled_incidents
from geodata.routes import load_routes
from geodata.settings import BUNDLED_DIR
from geodata.sites import load_sites


def test_every_incident_has_an_http_source_url_and_a_source():
    inc = load_bundled_incidents()
    assert len(inc) >= 25
    assert inc["source_url"].str.match(r"^https?://\S+$").all()
    assert inc["source"].str.len().gt(0).all()
    assert inc["event_id_cnty"].is_unique


def test_incidents_span_2021_to_2025_in_the_four_northern_municipalities():
    inc = load_bundled_incidents()
    years = set(pd.to_datetime(inc["event_date"]).dt.year)
    assert {2021, 2022, 2023, 2024}.issubset(years) and max(years) <= 2025
    assert {"North Mitrovica", "Zveçan", "Zubin Potok", "Leposaviq"}.issubset(set(inc["admin2"]))


def test_banjska_attack_is_a_sequence_of_events():
    inc = load_bundled_incidents()
    banjska = inc[(inc["event_date"] == pd.Timestamp("2023-09-24"))]
    subs = set(banjska["sub_event_type"])
    assert "Armed clash" in subs and "Disrupted weapons use" in subs
    assert banjska["location"].str.contains("Banjska").sum() >= 3
    assert banjska["fatalities"].sum() >= 4


def test_key_episodes_are_present():
    inc = load_bundled_incidents()
    dates = set(inc["event_date"].dt.strftime("%Y-%m-%d"))
    assert {"2023-05-29", "2024-11-29"}.issubset(dates)
    assert inc["location"].str.contains("Jarinje").any()
    assert inc.loc[inc["event_date"] == pd.Timestamp("2024-11-29"), "location"].str.contains("Varage").any()


def test_sites_include_required_monasteries_with_three_names():
    sites = load_sites()
    assert len(sites) >= 10
    names = " ".join(sites["name_en"])
    for needed in ("Banjska", "Sokolica", "Dečani", "Peć", "Gračanica", "Devič", "Ljeviš"):
        assert needed in names, needed
    assert sites[["name_en", "name_sq", "name_sr"]].apply(lambda c: c.str.len().gt(0)).all().all()
    assert sites["source_url"].str.startswith("https://").all()
    assert sites["unesco_status"].str.contains("World Heritage").sum() == 4


def test_routes_are_marked_illustrative_in_the_data_itself():
    path = BUNDLED_DIR / "patrol_routes.geojson"
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw.get("illustrative") is True
    assert all(f["properties"]["illustrative"] is True for f in raw["features"])
    routes = load_routes(path)
    assert len(routes) >= 3 and routes["illustrative"].all()
    assert set(routes.geom_type) == {"LineString"}


def test_users_own_routes_file_replaces_the_bundled_one(tmp_path, monkeypatch):
    """CONFLICTMAP_ROUTES names a GeoPackage of the user's routes; every consumer then uses it."""
    import geopandas as gpd
    from shapely.geometry import LineString

    from geodata.layers_data import load_bundle
    from geodata.settings import get_settings

    own = gpd.GeoDataFrame({"name": ["My route"]}, geometry=[LineString([(20.86, 42.89), (20.84, 42.91)])], crs="EPSG:4326")
    path = tmp_path / "routes.gpkg"
    own.to_file(path, driver="GPKG")
    monkeypatch.setenv("CONFLICTMAP_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CONFLICTMAP_ROUTES", str(path))
    bundle = load_bundle(get_settings())
    assert list(bundle.routes["name"]) == ["My route"]
    assert not bundle.routes_illustrative  # a user's file is not labelled illustrative unless it says so
    assert set(bundle.incidents["nearest_route"]) == {"My route"}
