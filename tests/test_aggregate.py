"""Aggregates per H3 hexagon and per municipality (geodata.query.aggregate)."""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from geodata.query.aggregate import (
    SUM_COLUMNS, TYPE_COLUMNS, aggregate_by_hexagon, aggregate_by_municipality, combine_counts,
    hex_cells, hexagon_counts, locate_municipality, municipality_counts,
)
from tests.scale_data import incidents, two_boxes


def test_hex_cells_match_h3_point_by_point():
    pts = incidents(300, seed=1)
    lat, lon = pts.geometry.y.to_numpy(), pts.geometry.x.to_numpy()
    # repeated coordinates and another hemisphere exercise the distinct-pair lookup
    lat = np.r_[lat, lat[:10], -33.8688, 40.7128]
    lon = np.r_[lon, lon[:10], 151.2093, -74.0060]
    got = [h3.int_to_str(int(c)) for c in hex_cells(lat, lon, 8)]
    assert got == [h3.latlng_to_cell(a, b, 8) for a, b in zip(lat, lon)]


def test_hex_cells_answers_from_its_cache_exactly_as_h3(monkeypatch):
    """A second request mixing known and new points gets h3's answer for each; the cache is bounded."""
    import geodata.query.aggregate as agg

    monkeypatch.setattr(agg, "_cell_cache", agg._CellCache())
    pts = incidents(400, seed=3)
    lat, lon = pts.geometry.y.to_numpy(), pts.geometry.x.to_numpy()
    first = hex_cells(lat[:250], lon[:250], 9)
    calls = []
    real = h3.api.basic_int.latlng_to_cell
    monkeypatch.setattr(h3.api.basic_int, "latlng_to_cell", lambda a, b, r: calls.append(1) or real(a, b, r))
    both = hex_cells(lat[::-1], lon[::-1], 9)  # 250 known (reversed order), 150 new
    assert len(calls) == len(set(zip(lat[250:].round(6), lon[250:].round(6))))
    assert [h3.int_to_str(int(c)) for c in both] == [h3.latlng_to_cell(a, b, 9) for a, b in zip(lat[::-1], lon[::-1])]
    assert (both[::-1][:250] == first).all()
    monkeypatch.setattr(agg, "CELL_CACHE_POINTS", 100)  # full: starts again, answers stay right
    again = hex_cells(lat, lon, 9)
    assert [h3.int_to_str(int(c)) for c in again] == [h3.latlng_to_cell(a, b, 9) for a, b in zip(lat, lon)]


def test_hex_cells_rejects_bad_input():
    with pytest.raises(ValueError):
        hex_cells(np.array([42.0]), np.array([20.0]), 16)
    with pytest.raises(ValueError):
        hex_cells(np.array([np.nan]), np.array([20.0]), 7)


def test_hexagon_aggregate_counts_every_incident_once():
    pts = incidents(2_000, seed=2)
    agg = aggregate_by_hexagon(pts, 7)
    assert agg["incidents"].sum() == len(pts)
    assert agg["fatalities"].sum() == pts["fatalities"].sum()
    assert (agg[list(TYPE_COLUMNS)].sum(axis=1) == agg["incidents"]).all()
    expected = pts.groupby([h3.latlng_to_cell(p.y, p.x, 7) for p in pts.geometry]).size()
    assert agg["incidents"].to_dict() == expected.to_dict()
    top = agg.iloc[0]
    assert top["dominant_type"] == top[list(TYPE_COLUMNS)].astype(int).idxmax()


def test_partials_of_parts_sum_to_the_whole():
    pts = incidents(1_500, seed=3)
    parts = [hexagon_counts(pts.iloc[i:i + 400], 7) for i in range(0, len(pts), 400)]
    pd.testing.assert_frame_equal(combine_counts(parts, "h3"), aggregate_by_hexagon(pts, 7))
    munis = two_boxes()
    parts = [municipality_counts(pts.iloc[i:i + 400], munis) for i in range(0, len(pts), 400)]
    whole = combine_counts(municipality_counts(pts, munis), "municipality")
    pd.testing.assert_frame_equal(combine_counts(parts, "municipality"), whole)


def test_municipality_aggregate_uses_coordinates_and_first_polygon_on_overlap():
    pts = incidents(1_000, seed=4)
    munis = two_boxes()
    located = locate_municipality(pts, munis)
    x, y = pts.geometry.x, pts.geometry.y
    in_west = (x > 20.4) & (x < 20.75)
    in_east = (x > 20.7) & (x < 21.0) & (y < 43.0)
    expected = np.where(in_west, "West", np.where(in_east, "East", ""))
    assert (located.to_numpy() == expected).all()
    agg = aggregate_by_municipality(pts, munis)
    assert list(agg.index[:3]) == ["West", "East", "Elsewhere"]
    assert agg.loc["Elsewhere", "incidents"] == 0 and agg.loc["Elsewhere", "dominant_type"] == ""
    assert agg["incidents"].sum() == len(pts)
    assert agg.loc["West", "incidents"] == int(in_west.sum())
    assert set(SUM_COLUMNS) <= set(agg.columns)


def test_empty_selection_gives_empty_or_zero_tables():
    pts = incidents(10, seed=5).iloc[:0]
    assert aggregate_by_hexagon(pts, 7).empty
    agg = aggregate_by_municipality(pts, two_boxes())
    assert list(agg.index) == ["West", "East", "Elsewhere"] and agg["incidents"].sum() == 0


def test_type_counts_by_hand_with_unknown_types_and_missing_keys():
    from geodata.query.aggregate import _type_counts

    inc = pd.DataFrame({"event_type": ["Battles", "Riots", None, "Nonsense", "Battles", "Riots"],
                        "fatalities": [1, None, 2, 3, 4, 5]})
    got = _type_counts(pd.Series(["b", "a", "a", None, "b", "a"]), inc)
    assert list(got.index) == ["a", "b"] and list(got.columns) == list(SUM_COLUMNS)
    assert got.loc["a", ["incidents", "fatalities", "Riots", "Battles"]].tolist() == [3, 7, 2, 0]
    assert got.loc["b", ["incidents", "fatalities", "Riots", "Battles"]].tolist() == [2, 5, 0, 2]
    assert int(got[list(TYPE_COLUMNS)].to_numpy().sum()) == 4  # the row without a type counts as no type
