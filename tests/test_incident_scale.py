"""Design guards for large selections: representation thresholds, payload size, vectorised filters."""

from __future__ import annotations

import datetime as dt

import h3
import numpy as np
import pandas as pd
import pytest

from geodata.model.filters import FilterSpec, apply_filters, filter_mask
from geodata.model.schema import split_multi
from layers import incidents as layer
from layers.map import MapInputs, build_map
from tests.scale_data import incidents

MAX_BYTES_100K = 5_000_000


@pytest.fixture(scope="module")
def hundred_thousand():
    return incidents(100_000, seed=7, lat=(42.2, 43.25), lon=(20.1, 21.7))


@pytest.mark.parametrize("n, mode", [
    (0, "markers"), (1, "markers"), (layer.MARKER_LIMIT, "markers"), (layer.MARKER_LIMIT + 1, "cluster"),
    (layer.CLUSTER_LIMIT, "cluster"), (layer.CLUSTER_LIMIT + 1, "aggregate"), (5_000_000, "aggregate"),
])
def test_representation_switches_at_documented_thresholds(n, mode):
    assert layer.choose_representation(n) == mode


def test_payload_mode_follows_selection_size():
    pts = incidents(layer.MARKER_LIMIT + 1, seed=8)
    assert layer.build_payload(pts.iloc[:layer.MARKER_LIMIT]).mode == "markers"
    cluster = layer.build_payload(pts)
    assert cluster.mode == "cluster"
    assert "popup" not in cluster.data and len(cluster.data["lat"]) == len(pts)


def test_payload_and_map_for_100k_incidents_stay_under_5_mb(hundred_thousand):
    payload = layer.build_payload(hundred_thousand)
    assert payload.mode == "cluster" and len(payload.data["lat"]) == 100_000
    assert payload.size_bytes <= MAX_BYTES_100K
    html = build_map(MapInputs(hundred_thousand)).get_root().render()
    assert len(html.encode("utf-8")) <= MAX_BYTES_100K
    assert html.count("cm-incident") <= 1  # no per-row elements: one columnar payload


def test_cluster_popups_keep_sources_and_links_within_the_page_budget(hundred_thousand):
    small = layer.build_payload(hundred_thousand.iloc[: layer.MARKER_LIMIT + 1])
    assert small.mode == "cluster" and len(small.data["srcs"]) == layer.MARKER_LIMIT + 1
    assert all('href="https://example.invalid/synthetic/' in s for s in small.data["srcs"])
    big = layer.build_payload(hundred_thousand).data  # 100,000 distinct report URLs
    assert len(big["srcs"]) == 30 and all("narrow the filters" in s and "href" not in s for s in big["srcs"])
    names = [big["srcs"][c].split(" <small>")[0] for c in big["src"][:500]]
    assert names == hundred_thousand["source"].iloc[:500].tolist()


def test_aggregate_mode_draws_h3_hexagons_with_every_incident_counted(hundred_thousand):
    payload = layer.build_payload(hundred_thousand, "aggregate")
    d = payload.data
    assert d["res"] == layer.HEX_RESOLUTION and d["total"] == 100_000 and sum(d["n"]) == 100_000
    assert len(d["hex"]) == len(d["lat"]) == len(d["n"]) < 10_000
    # each outline is an H3 cell boundary: 6 vertices as lat, lon pairs around the cell centre
    ring = np.array(d["hex"][0]).reshape(-1, 2)
    assert ring.shape == (6, 2)
    cell = h3.latlng_to_cell(d["lat"][0], d["lon"][0], layer.HEX_RESOLUTION)
    assert np.allclose(ring, np.array(h3.cell_to_boundary(cell)), atol=1e-4)
    assert payload.size_bytes < 1_500_000


def test_actor_filter_matches_associated_actor_lists_exactly():
    pts = incidents(60, seed=9)
    pts["assoc_actor_1"] = (["Synthetic actor 3; Synthetic actor 30", "Synthetic actor 30", "", None,
                             " Synthetic actor 3 "] * 12)
    pts["actor2"] = [None, "Synthetic actor 3"] * 30
    pts["assoc_actor_2"] = ""
    wanted = ("Synthetic actor 3",)
    got = filter_mask(pts, FilterSpec(actors=wanted))
    expected = [
        r.actor1 in wanted or r.actor2 in wanted
        or bool(set(wanted) & set(split_multi(r.assoc_actor_1)))
        for r in pts.itertuples()
    ]
    assert got.tolist() == expected and 0 < sum(expected) < len(pts)


def test_typical_filter_change_selects_what_the_spec_says(hundred_thousand):
    spec = FilterSpec(start=dt.date(2021, 1, 1), end=dt.date(2022, 6, 30), actors=("Synthetic actor 2",),
                      event_types=("Protests", "Battles"))
    out = apply_filters(hundred_thousand, spec)
    assert 0 < len(out) < len(hundred_thousand)
    dates = pd.to_datetime(out["event_date"])
    assert dates.min() >= pd.Timestamp("2021-01-01") and dates.max() <= pd.Timestamp("2022-06-30")
    assert set(out["event_type"]) <= {"Protests", "Battles"} and set(out["actor1"]) == {"Synthetic actor 2"}
