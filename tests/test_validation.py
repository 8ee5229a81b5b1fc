"""The one validation function: accepts good rows, rejects bad ones with line, column and reason."""

import pandas as pd
import pytest

from geodata.ingest.bundled import BUNDLED_INCIDENTS, read_incident_table
from geodata.model.schema import EVENT_TYPES, INCIDENT_COLUMNS
from geodata.ingest.validation import parse_dates, validate_incidents


def good_row(**over):
    row = {"event_id_cnty": "T1", "event_date": "2023-09-24", "event_type": "Battles", "sub_event_type": "Armed clash",
           "actor1": "Police Forces of Kosovo (2008-)", "latitude": "42.97", "longitude": "20.78", "fatalities": "1",
           "source_url": "https://example.org/report"}
    row.update(over)
    return row


def test_schema_has_acled_31_columns_and_25_subtypes():
    assert len(INCIDENT_COLUMNS) == 32 and INCIDENT_COLUMNS[-1] == "source_url"
    assert len(EVENT_TYPES) == 6 and sum(len(v) for v in EVENT_TYPES.values()) == 25


def test_bundled_file_is_entirely_valid():
    result = read_incident_table(BUNDLED_INCIDENTS)
    assert result.errors == []
    assert len(result.valid) >= 25


@pytest.mark.parametrize("over, column, fragment", [
    ({"event_date": ""}, "event_date", "missing required value"),
    ({"event_date": "31/31/2023"}, "event_date", "unparseable date"),
    ({"event_type": "Skirmish"}, "event_type", "unknown event type 'Skirmish'"),
    ({"sub_event_type": "Peaceful protest"}, "sub_event_type", "belongs to 'Protests'"),
    ({"latitude": "142.9"}, "latitude", "out of range"),
    ({"longitude": "east"}, "longitude", "not a number"),
    ({"latitude": "20.78", "longitude": "42.97"}, "latitude", "look swapped"),
    ({"fatalities": "-2"}, "fatalities", "negative"),
    ({"fatalities": "many"}, "fatalities", "not a number"),
    ({"actor1": "  "}, "actor1", "missing required value"),
    ({"source_url": "javascript:alert(1)"}, "source_url", "http(s)"),
])
def test_bad_row_is_rejected_with_line_column_reason_and_good_rows_kept(over, column, fragment):
    df = pd.DataFrame([good_row(), good_row(event_id_cnty="T2", **over), good_row(event_id_cnty="T3")])
    result = validate_incidents(df)
    assert list(result.valid["event_id_cnty"]) == ["T1", "T3"]
    assert result.rejected_lines == [3]  # header is line 1, so the second row is line 3
    matching = [e for e in result.errors if e.column == column]
    assert matching and fragment in matching[0].reason, result.errors


def test_explicit_line_numbers_are_reported():
    df = pd.DataFrame([good_row(event_type="Nope")])
    result = validate_incidents(df, line_numbers=[17])
    assert result.errors[0].line == 17


@pytest.mark.parametrize("text", ["2023-09-24", "24 September 2023", "24-Sep-23", "24.09.2023", "24 Sep 2023"])
def test_date_spellings(text):
    assert parse_dates(pd.Series([text])).iloc[0] == pd.Timestamp("2023-09-24")


def test_numeric_inter_codes_become_labels_and_blank_fatalities_zero():
    result = validate_incidents(pd.DataFrame([good_row(inter1="1", inter2="6", fatalities="")]))
    row = result.valid.iloc[0]
    assert (row["inter1"], row["inter2"], row["fatalities"]) == ("State forces", "Protesters", 0)


def test_outside_area_is_a_warning_not_a_rejection():
    result = validate_incidents(pd.DataFrame([good_row(latitude="48.85", longitude="2.35")]))
    assert len(result.valid) == 1 and result.errors == []
    assert result.warnings and "area of interest" in result.warnings[0].reason


def test_report_lists_errors_and_warnings_by_line():
    df = pd.DataFrame([good_row(latitude="48.85", longitude="2.35"), good_row(event_type="X")])
    report = validate_incidents(df).report()
    assert list(report["line"]) == [2, 3]
    assert list(report["severity"]) == ["warning", "error"]
