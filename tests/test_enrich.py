"""Spatial enrichment against the real boundaries and an independent geodesic reference."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point

from geodata.geo.enrich import assign_municipality, buffer_features, enrich_incidents, nearest, within_km
from geodata.ingest.bundled import load_bundled_incidents
from geodata.geo.municipalities import canonical_municipality
from geodata.geo.routes import load_routes
from geodata.settings import BUNDLED_DIR
from geodata.geo.sites import load_sites

GEOD = Geod(ellps="WGS84")


def pts(coords, **cols):
    return gpd.GeoDataFrame(cols, geometry=[Point(x, y) for x, y in coords], crs="EPSG:4326")


def test_banjska_events_fall_in_zvecan(municipalities):
    inc = load_bundled_incidents()
    located = assign_municipality(inc, municipalities)
    banjska = inc["location"].str.contains("Banjska")
    assert banjska.any()
    assert set(located.loc[banjska, "municipality"]) == {"Zveçan"}


def test_every_bundled_incident_agrees_with_its_stated_municipality(municipalities):
    located = assign_municipality(load_bundled_incidents(), municipalities)
    assert not located["admin2_mismatch"].any()


def test_each_site_falls_in_the_municipality_it_names(municipalities):
    sites = load_sites()
    located = assign_municipality(sites.rename(columns={"municipality": "admin2"}), municipalities)
    assert list(located["municipality"]) == list(sites["municipality"])


def test_mismatch_is_flagged_when_stated_admin2_disagrees(municipalities):
    # Banjska monastery coordinates, but the row claims Leposavić.
    inc = pts([(20.7825, 42.97139)], admin2=["Leposavić"])
    out = assign_municipality(inc, municipalities)
    assert out["municipality"].iat[0] == "Zveçan" and bool(out["admin2_mismatch"].iat[0]) is True


def test_without_boundaries_municipality_comes_from_stated_name():
    out = assign_municipality(pts([(20.78, 42.97)], admin2=["Zvečan"]), None)
    assert out["municipality"].iat[0] == "Zveçan" and pd.isna(out["admin2_mismatch"].iat[0])


def test_point_to_point_distance_matches_geodesic_within_half_percent():
    a, b = (20.7825, 42.97139), (20.86270, 42.92720)  # Banjska → Sokolica monasteries
    targets = pts([b], name=["Sokolica"])
    names, dist = nearest(pts([a]), targets, "name")
    _, _, expected = GEOD.inv(a[0], a[1], b[0], b[1])
    assert names.iat[0] == "Sokolica"
    assert dist.iat[0] == pytest.approx(expected, rel=0.005)


def test_point_to_line_distance_matches_geodesic_within_half_percent():
    line = LineString([(20.70, 42.80), (20.70, 43.10)])  # a north–south line
    routes = gpd.GeoDataFrame({"name": ["R"]}, geometry=[line], crs="EPSG:4326")
    p = (20.80, 42.95)
    _, dist = nearest(pts([p]), routes, "name")
    # The nearest point on a meridian segment is (almost exactly) at the same latitude.
    _, _, expected = GEOD.inv(p[0], p[1], 20.70, 42.95)
    assert dist.iat[0] == pytest.approx(expected, rel=0.005)


def test_within_km_selects_by_metric_distance():
    site = pts([(20.7825, 42.97139)], name=["Banjska"])
    # points ~1 km and ~10 km east of the site
    near_lon, _, _ = GEOD.fwd(20.7825, 42.97139, 90, 1000)
    far_lon, _, _ = GEOD.fwd(20.7825, 42.97139, 90, 10000)
    inc = pts([(near_lon, 42.97139), (far_lon, 42.97139)])
    assert list(within_km(inc, site, 5)) == [True, False]
    assert list(within_km(inc, site, 12)) == [True, True]
    with pytest.raises(ValueError):
        within_km(inc, site, -1)


def test_buffer_radius_is_metric():
    site = pts([(20.7825, 42.97139)], name=["Banjska"])
    ring = buffer_features(site, 2.0).geometry.iat[0].exterior
    lon, lat = ring.coords[0]
    _, _, d = GEOD.inv(20.7825, 42.97139, lon, lat)
    assert d == pytest.approx(2000, rel=0.005)


def test_enrich_adds_all_columns(municipalities):
    inc = load_bundled_incidents()
    out = enrich_incidents(inc, municipalities, load_routes(BUNDLED_DIR / "patrol_routes.geojson"), load_sites())
    for col in ("municipality", "admin2_mismatch", "nearest_route", "dist_route_m", "nearest_site", "dist_site_m"):
        assert col in out
    assert np.isfinite(out["dist_site_m"]).all() and (out["dist_site_m"] >= 0).all()


@pytest.mark.parametrize("spelling", ["Zvečan", "Zveçan", "Zvecan", "ZVEČANI", "Municipality of Zveçan"])
def test_aliases_resolve_zvecan(spelling):
    assert canonical_municipality(spelling) == "Zveçan"


@pytest.mark.parametrize("spelling, canon", [
    ("Mitrovica e Veriut", "North Mitrovica"), ("Severna Mitrovica", "North Mitrovica"),
    ("Leposavić", "Leposaviq"), ("Peć", "Peja"), ("Dečani", "Deçan"), ("Priština", "Pristina"), ("Nowhere", None),
])
def test_aliases_other_names(spelling, canon):
    assert canonical_municipality(spelling) == canon
