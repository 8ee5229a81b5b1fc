"""validate_incidents after vectorising: each distinct value parsed once, same answers per row."""

from __future__ import annotations

import pandas as pd

from geodata.ingest.validation import parse_dates, validate_incidents


def test_repeated_values_are_parsed_per_row_correctly():
    dates = ["2023-09-24", "24 September 2023", "bad", "", None, "24 September 2023", "24-Sep-23"] * 3
    got = parse_dates(pd.Series(dates, dtype=object))
    parsed = [True, True, False, False, False, True, True] * 3
    assert got.notna().tolist() == parsed
    assert got[got.notna()].eq(pd.Timestamp("2023-09-24")).all()


def test_rows_keep_their_own_reasons_and_normalised_values():
    raw = pd.DataFrame({
        "event_date": ["24 September 2023", "24 September 2023", "2023-13-01", "2023-09-24"],
        "event_type": ["Battles", "Battles", "Battles", "Riots"],
        "sub_event_type": ["Armed clash", "Armed clash", "Armed clash", "Mob violence"],
        "actor1": [" Police ", "Police", "Police", "Rioters"],
        "inter1": ["1", "1", "State forces", "5.0"],
        "latitude": ["42,9", "42.9", "42.9", "north"],
        "longitude": ["20.8", "20.8", "20.8", "20.8"],
        "fatalities": ["", "2", "0", "0"],
    })
    result = validate_incidents(raw, [10, 11, 12, 13])
    assert [(e.line, e.column) for e in result.errors] == [(12, "event_date"), (13, "latitude")]
    valid = result.valid
    assert valid["line"].tolist() == [10, 11]
    assert valid["actor1"].tolist() == ["Police", "Police"]
    assert all(isinstance(v, str) for v in valid["actor1"])
    assert valid["inter1"].tolist() == ["State forces", "State forces"]
    assert valid["latitude"].tolist() == [42.9, 42.9]
    assert valid["fatalities"].tolist() == [0, 2]
    assert (valid["event_date"] == pd.Timestamp("2023-09-24")).all()
    assert valid["notes"].tolist() == ["", ""]  # absent text columns become empty strings
