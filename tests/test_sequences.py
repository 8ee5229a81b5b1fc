"""Sequences: the table's validation and the step-through model (incidents, extent, timeline window)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from pyproj import Geod

from geodata.ingest.bundled import load_bundled_incidents
from geodata.curation.sequences import (
    EXTENT_MARGIN_M,
    load_bundled_sequences,
    membership,
    parse_sequences,
    step_view,
)

FIX = Path(__file__).resolve().parent / "data" / "analyst"


@pytest.fixture(scope="module")
def bundled():
    return load_bundled_incidents()


def test_fixture_sequences_load_in_step_order():
    seqs = load_bundled_sequences(FIX / "sequences.csv")
    banjska = seqs[0]
    assert banjska.name == "Banjska attack, 24 Sep 2023"
    assert banjska.event_ids == ("CM-XKX-0024", "CM-XKX-0025", "CM-XKX-0027", "CM-XKX-0026")
    assert [s.relation for s in banjska.steps] == ["start", "followed_by", "led_to", "led_to"]
    m = membership(seqs).set_index("event_id_cnty")
    assert m.loc["CM-XKX-0035", "sequence_step"] == 2 and m.loc["CM-XKX-0035", "sequence_id"] == "canal-2024"


def test_bad_sequence_rows_are_reported_and_good_ones_kept():
    raw = pd.DataFrame([
        ["s1", "One", "2", "CM-XKX-0025", "followed_by", "b"],
        ["s1", "One", "1", "CM-XKX-0024", "start", "a"],
        ["s1", "One", "two", "CM-XKX-0026", "led_to", "c"],
        ["s1", "Other name", "3", "CM-XKX-0027", "led_to", "d"],
        ["s1", "One", "4", "CM-XKX-0099", "caused", "e"],
        ["s 2", "Two", "1", "CM-XKX-0001", "start", ""],
    ], columns=["sequence_id", "sequence_name", "step", "event_id_cnty", "relation", "summary"])
    seqs, issues = parse_sequences(raw, {f"CM-XKX-{i:04d}" for i in range(1, 38)})
    assert [q.event_ids for q in seqs] == [("CM-XKX-0024", "CM-XKX-0025")]
    assert {(i.line, i.column) for i in issues} == {
        (4, "step"), (5, "sequence_name"), (6, "event_id_cnty"), (6, "relation"), (7, "sequence_id")}


def test_step_view_shows_steps_so_far_with_extent_and_window(bundled):
    banjska = load_bundled_sequences(FIX / "sequences.csv")[0]
    v1 = step_view(banjska, bundled, 1)
    assert v1.shown_ids == ("CM-XKX-0024",) and v1.current.summary.startswith("Ambush")
    # One point: the extent is the margin around it (≈ 2 × 1.5 km wide), measured geodesically.
    (s, w), (n, e) = v1.bounds
    width = Geod(ellps="WGS84").inv(w, (s + n) / 2, e, (s + n) / 2)[2]
    assert abs(width - 2 * EXTENT_MARGIN_M) < 0.02 * 2 * EXTENT_MARGIN_M
    assert v1.window == (dt.date(2023, 9, 23), dt.date(2023, 9, 25))
    v3 = step_view(banjska, bundled, 3)
    assert v3.shown_ids == ("CM-XKX-0024", "CM-XKX-0025", "CM-XKX-0027")
    assert list(v3.incidents["step"]) == [1, 2, 3]
    rudare = bundled.set_index("event_id_cnty").loc["CM-XKX-0027"]
    (s, w), (n, e) = v3.bounds
    assert s < rudare["latitude"] < n and w < rudare["longitude"] < e
    assert step_view(banjska, bundled, 99).step == 4  # clamped
