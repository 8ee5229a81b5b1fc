"""Every awkward file of the synthetic corpus: exact accepted / rejected / duplicate counts and reasons."""

from __future__ import annotations

import pytest

from geodata.model.schema import INCIDENT_COLUMNS
from geodata.ingest import ColumnMapping, IngestError, ingest_file, prepare
from geodata.store import open_store


def _errors(report):
    e = report.issues[report.issues["severity"] == "error"]
    return [(int(r.line), r.column) for r in e.itertuples()]


@pytest.fixture
def store(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    s.close()


def test_acled_current_bom_multiline_notes(corpus, store):
    r = ingest_file(corpus / "acled_current_bom.csv", store)
    assert (r.accepted, r.rejected, r.duplicates) == (3, 1, 0)
    assert r.encoding == "utf-8-sig" and r.format == "acled"
    # Record 1 spans lines 2-4, so the unknown type is on physical line 6.
    assert _errors(r) == [(6, "event_type")]
    assert "unknown event type 'Parades'" in r.issues["reason"].iloc[0]
    df = store.read(None, INCIDENT_COLUMNS, order=True)
    first = df[df["event_id_cnty"] == "SYNX1"].iloc[0]
    assert first["notes"] == "Synthetic: shots fired\nnear the bridge;\nno injuries."
    assert str(first["event_date"].date()) == "2023-09-24"
    assert first["assoc_actor_1"] == "Synthetic Group A; Synthetic Group B"
    assert df[df["event_id_cnty"] == "SYNX2"].iloc[0]["notes"] == 'Synthetic "quoted" words, ë ç č ć š ž đ.'
    assert set(df["admin2"]) == {"Zvečan"}


def test_acled_legacy_generation(corpus, store):
    r = ingest_file(corpus / "acled_legacy.csv", store)
    assert (r.accepted, r.rejected, r.duplicates) == (2, 1, 0)
    assert _errors(r) == [(4, "fatalities")]
    assert "fatalities -3 is negative" in r.issues["reason"].iloc[0]
    df = store.read(None, INCIDENT_COLUMNS, order=True).set_index("event_id_cnty")
    assert df.loc["SYNL1", "inter1"] == "State forces"
    assert df.loc["SYNL1", "interaction"] == "State forces-Political militia"
    assert df.loc["SYNL2", "interaction"] == "Political militia-Civilians"
    assert str(df.loc["SYNL1", "event_date"].date()) == "2022-09-24"  # Excel-mangled 24-Sep-22
    assert df.loc["SYNL1", "disorder_type"] == "" and df.loc["SYNL1", "iso"] == "0"


@pytest.mark.parametrize("name,bad_line", [("ucdp_ged_header.csv", 4), ("ucdp_ged_noheader.csv", 3)])
def test_ucdp_with_and_without_header(corpus, store, name, bad_line):
    r = ingest_file(corpus / name, store)
    assert r.format == "ucdp"
    assert (r.accepted, r.rejected, r.duplicates) == (2, 1, 0)
    assert _errors(r) == [(bad_line, "latitude")]
    assert "out of range" in r.issues["reason"].iloc[0]
    df = store.read(None, INCIDENT_COLUMNS, order=True).set_index("event_id_cnty")
    assert list(df.index) == ["UCDP-7001", "UCDP-7002"]
    assert df.loc["UCDP-7001", "event_type"] == "Battles" and df.loc["UCDP-7001", "sub_event_type"] == "Armed clash"
    assert df.loc["UCDP-7002", "event_type"] == "Violence against civilians"
    assert df.loc["UCDP-7002", "fatalities"] == 5 and df.loc["UCDP-7002", "geo_precision"] == 3
    assert df.loc["UCDP-7001", "country"] == "Serbia" and df.loc["UCDP-7001", "actor1"] == "Government of Synthetia"
    assert str(df.loc["UCDP-7001", "event_date"].date()) == "1999-03-24"


def test_ucdp_twice_headerless_after_header_is_duplicate(corpus, store):
    ingest_file(corpus / "ucdp_ged_header.csv", store)
    r = ingest_file(corpus / "ucdp_ged_noheader.csv", store)
    assert (r.accepted, r.rejected, r.duplicates) == (0, 1, 2)


def test_custom_layout_needs_mapping_then_keeps_serbian_letters(corpus, store):
    with pytest.raises(IngestError, match="not recognised"):
        ingest_file(corpus / "custom_semicolon_cp1250.csv", store)
    mapping = ColumnMapping.load(corpus / "custom_mapping.json")
    r = ingest_file(corpus / "custom_semicolon_cp1250.csv", store, mapping=mapping, fmt="mapping")
    assert (r.accepted, r.rejected, r.duplicates) == (2, 1, 0)
    assert (r.encoding, r.delimiter) == ("cp1250", ";")
    assert _errors(r) == [(4, "event_date")]
    df = store.read(None, INCIDENT_COLUMNS, order=True)
    assert df["notes"].iloc[0] == "Sintetički opis: čćšžđ ČĆŠŽĐ"
    assert df["actor1"].iloc[0] == "Sintetička jedinica"
    assert df["latitude"].iloc[0] == pytest.approx(42.96)  # decimal comma


def test_mapping_round_trip_and_bad_mapping(tmp_path, corpus):
    m = ColumnMapping({"event_date": "Datum", "latitude": "Sirina"}, name="x")
    m.save(tmp_path / "m.json")
    assert ColumnMapping.load(tmp_path / "m.json") == m
    with pytest.raises(ValueError, match="does not have: wrong_column"):
        ColumnMapping.from_json('{"columns": {"wrong_column": "Datum"}}')
    data = (corpus / "custom_semicolon_cp1250.csv").read_bytes()
    with pytest.raises(IngestError, match="does not have: Nope"):
        prepare(data, "x.csv", mapping=ColumnMapping({"event_date": "Nope"}))


def test_utf16_tab_albanian(corpus, store):
    r = ingest_file(corpus / "acled_utf16_tab.txt", store)
    assert (r.accepted, r.rejected, r.duplicates) == (2, 0, 0)
    assert (r.encoding, r.delimiter) == ("utf-16", "\t")
    df = store.read(None, INCIDENT_COLUMNS, order=True)
    assert set(df["location"]) == {"Mitrovicë e Veriut"} and set(df["notes"]) == {"Sintetik: ë ç Ë Ç"}


def test_windows_1252_semicolon(corpus, store):
    r = ingest_file(corpus / "acled_cp1252_semicolon.csv", store)
    assert (r.accepted, r.rejected, r.duplicates) == (1, 0, 0)
    assert r.delimiter == ";"
    row = store.read(None, INCIDENT_COLUMNS, order=True).iloc[0]
    assert row["notes"] == "Sintetik: Mitrovicë; Leposaviq; ë ç" and row["admin2"] == "Zveçan"


def test_every_rejection_reason_with_line_numbers(corpus, store):
    r = ingest_file(corpus / "acled_bad_rows.csv", store)
    assert (r.accepted, r.rejected, r.duplicates) == (2, 8, 0)
    assert _errors(r) == [(4, "actor1"), (5, "event_date"), (6, "latitude"), (7, "latitude"), (8, "event_type"),
                          (9, "fatalities"), (10, "fatalities"), (12, "longitude")]
    reasons = list(r.issues[r.issues["severity"] == "error"]["reason"])
    for expected, got in zip(["missing required value", "unparseable date", "out of range", "look swapped",
                              "unknown event type", "is negative", "is not a number", "is not a number"], reasons):
        assert expected in got
    warn = r.issues[r.issues["severity"] == "warning"]
    assert [(int(x.line), x.column) for x in warn.itertuples()] == [(11, "latitude")]
    assert "outside the area of interest" in warn["reason"].iloc[0]


def test_ragged_row_rejected_others_kept(corpus, store):
    r = ingest_file(corpus / "acled_ragged.csv", store)
    assert (r.accepted, r.rejected, r.duplicates) == (2, 1, 0)
    assert _errors(r) == [(3, "(row)")]
    assert "33 fields" in r.issues["reason"].iloc[0]


def test_overlap_and_content_key_dedup(corpus, store):
    first = ingest_file(corpus / "acled_current_bom.csv", store)
    r = ingest_file(corpus / "acled_overlap.csv", store)
    # SYNX1 and SYNX2 are stored already; the two id-less rows are the same event (same content,
    # dates written two ways), so one of them is a duplicate.
    assert (first.accepted, r.accepted, r.rejected, r.duplicates) == (3, 2, 0, 3)
    assert store.count() == 5


@pytest.mark.parametrize("name,message", [("empty.csv", "empty"), ("binary.csv", "binary"),
                                          ("unknown_layout.csv", "not recognised")])
def test_unreadable_files_raise(corpus, store, name, message):
    with pytest.raises(IngestError, match=message):
        ingest_file(corpus / name, store)
    assert store.count() == 0
