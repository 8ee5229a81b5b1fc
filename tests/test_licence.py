"""Licence-aware sharing: ACLED rows leave only as points without notes, actors and sources, with
ACLED's attribution, unless the full-rows option is chosen — and then the file says so on its face."""

from __future__ import annotations

import io
import json
import sqlite3

import pandas as pd
import pytest

from geodata.export import licence
from geodata.export.data import export_bytes
from geodata.ingest.bundled import to_geodataframe
from geodata.model.selection import Selection
from geodata.ingest.validation import validate_incidents

ACLED_NOTE = "Synthetic ACLED-only note about a clash."
ACLED_ACTOR = "Synthetic ACLED Actor"
BUNDLED_NOTE = "Synthetic bundled note that may travel."
UCDP_NOTE = "Synthetic UCDP description"


def _row(event_id: str, notes: str, actor: str, source: str) -> dict[str, object]:
    return {"event_id_cnty": event_id, "event_date": "2024-05-10", "event_type": "Battles",
            "sub_event_type": "Armed clash", "actor1": actor, "actor2": "Synthetic Other Side", "latitude": 42.91,
            "longitude": 20.84, "notes": notes, "source": source, "source_url": "https://example.org/report",
            "fatalities": 2, "country": "Kosovo", "admin2": "Zvecan", "location": "Synthetic village"}


@pytest.fixture
def mixed() -> pd.DataFrame:
    rows = pd.DataFrame([
        _row("SYN1", ACLED_NOTE, ACLED_ACTOR, "Synthetic ACLED Source"),
        _row("CM-XKX-9001", BUNDLED_NOTE, "Synthetic Bundled Actor", "Synthetic Paper"),
        _row("UCDP-77", UCDP_NOTE, "Synthetic UCDP Actor", "Synthetic Office"),
    ])
    valid = validate_incidents(rows).valid.drop(columns="line")
    return to_geodataframe(valid, pd.Series(["upload:1", "bundled", "upload:2"]))


def test_row_licences_infer_and_respect_stored_columns(mixed):
    lic = licence.row_licences(mixed)
    assert list(lic["dataset"]) == ["ACLED", "conflictmap", "UCDP GED"]
    assert list(lic["restricted"]) == [True, False, False]
    stored = mixed.assign(dataset=["ACLED", "conflictmap", "UCDP GED"], licence=["ACLED Terms of Use", "", "CC BY 4.0"])
    assert list(licence.row_licences(stored)["licence"]) == ["ACLED Terms of Use", conflictmap_name(), "CC BY 4.0"]
    declared = mixed.assign(dataset=["upload", "upload", "upload"], licence=["CC BY 4.0 (own survey)", "", "secret"])
    assert list(licence.row_licences(declared)["restricted"]) == [False, True, True]


def conflictmap_name() -> str:
    return licence.CONFLICTMAP.name


def test_licence_for_format():
    assert licence.licence_for_format("acled") is licence.ACLED
    assert licence.licence_for_format("ucdp") is licence.UCDP
    assert licence.licence_for_format("mapping") is licence.UNDECLARED and licence.UNDECLARED.restricted
    assert not licence.licence_for_format("mapping", "CC BY 4.0").restricted
    assert licence.licence_for_format("mapping", "all rights reserved").restricted


def test_shareable_withholds_notes_actors_sources_of_acled_rows_only(mixed):
    out = licence.shareable(mixed)
    acled, bundled, ucdp = (out.iloc[i] for i in range(3))
    for col in licence.ACLED_WITHHELD:
        if col in mixed.columns:  # the frame has every incident column; "sources" only once curated
            assert acled[col] == "", col
    assert (acled["event_date"], acled["event_type"], float(acled["latitude"]), int(acled["fatalities"])) == \
        (pd.Timestamp("2024-05-10"), "Battles", 42.91, 2)
    assert bundled["notes"] == BUNDLED_NOTE and ucdp["notes"] == UCDP_NOTE and ucdp["actor1"] == "Synthetic UCDP Actor"
    assert acled["terms"] == licence.ACLED_ATTRIBUTION and "acleddata.com/terms-of-use" in acled["terms"]
    assert "CC BY 4.0" in ucdp["terms"] and bundled["terms"] == ""
    assert mixed.iloc[0]["notes"] == ACLED_NOTE          # the input is not changed
    full = licence.shareable(mixed, full_rows=True)
    assert full.iloc[0]["notes"] == ACLED_NOTE and full.iloc[0]["actor1"] == ACLED_ACTOR
    assert full.iloc[0]["terms"].startswith("INTERNAL USE ONLY")
    assert licence.needs_notice(mixed, True) and not licence.needs_notice(mixed, False)
    assert not licence.needs_notice(mixed.iloc[1:], True)


@pytest.mark.parametrize("fmt", ["csv", "geojson", "gpkg"])
def test_data_exports_keep_acled_within_the_terms_by_default(mixed, fmt, tmp_path):
    sel = Selection(incidents=mixed)
    data = export_bytes(sel, "incidents", fmt)
    table = _read(data, fmt, tmp_path)
    acled = table[table["event_id_cnty"] == "SYN1"].iloc[0]
    assert not acled["notes"] and not acled["actor1"] and not acled["source"]
    assert acled["dataset"] == "ACLED" and "Armed Conflict Location & Event Data" in acled["terms"]
    assert table[table["event_id_cnty"] == "CM-XKX-9001"].iloc[0]["notes"] == BUNDLED_NOTE
    if fmt != "gpkg":
        assert ACLED_NOTE.encode() not in data and ACLED_ACTOR.encode() not in data

    full = _read(export_bytes(sel, "incidents", fmt, full_rows=True), fmt, tmp_path)
    row = full[full["event_id_cnty"] == "SYN1"].iloc[0]
    assert row["notes"] == ACLED_NOTE and row["terms"].startswith("INTERNAL USE ONLY")


def _read(data: bytes, fmt: str, tmp_path) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    if fmt == "geojson":
        feats = json.loads(data)["features"]
        return pd.DataFrame([{k: ("" if v is None else v) for k, v in f["properties"].items()} for f in feats])
    path = tmp_path / "x.gpkg"
    path.write_bytes(data)
    with sqlite3.connect(path) as conn:
        return pd.read_sql("SELECT * FROM incidents", conn).fillna("")


def test_html_export_withholds_acled_details_and_carries_attribution(mixed):
    from layers.export_html import build_export

    sel = Selection(incidents=mixed)
    html = build_export(sel).html
    assert ACLED_NOTE not in html and ACLED_ACTOR not in html and "Synthetic ACLED Source" not in html
    assert BUNDLED_NOTE in html
    assert "Armed Conflict Location &amp; Event Data (ACLED)" in html and "INTERNAL USE ONLY" not in html
    full = build_export(sel, full_rows=True).html
    assert ACLED_NOTE in full and "INTERNAL USE ONLY" in full and "Synthetic ACLED Source" in full
    assert "<title>INTERNAL USE ONLY (full ACLED rows)" in full


def test_png_export_carries_acled_attribution(mixed):
    from layers.export_html import attributions
    from layers.static_png import render_png

    sel = Selection(incidents=mixed)
    lines = attributions(sel)
    assert licence.ACLED_ATTRIBUTION in lines and licence.UCDP.attribution in lines
    assert licence.ACLED_ATTRIBUTION not in attributions(Selection(incidents=mixed.iloc[1:2]))
    assert render_png(sel, dpi=40).startswith(b"\x89PNG")


def test_ingest_licence_declared_at_upload_decides_what_leaves(clean_env, tmp_path):
    """`ingest --licence` is recorded per row; an open licence lets notes leave, an undeclared one does not."""
    from geodata.cli import main
    from geodata.store import open_store
    from geodata.store.sync_sql import stored_columns

    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    clean_env.setenv("CONFLICTMAP_DB", db)
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"columns": {"event_date": "Date", "event_type": "Type", "sub_event_type": "Sub",
                                               "actor1": "Actor", "latitude": "Lat", "longitude": "Lon",
                                               "notes": "Notes", "event_id_cnty": "Id"}}), encoding="utf-8")
    for name, ident, declared in (("own.csv", "OWN-1", ["--licence", "CC BY 4.0 (our survey)"]), ("anon.csv", "ANON-1", [])):
        f = tmp_path / name
        f.write_text(f"Date,Type,Sub,Actor,Lat,Lon,Notes,Id\n2024-05-11,Protests,Peaceful protest,Synthetic Group,"
                     f"42.9,20.85,Synthetic note {ident},{ident}\n", encoding="utf-8")
        assert main(["ingest", str(f), "--mapping", str(mapping), *declared]) == 0
    store = open_store(db)
    try:
        rows = stored_columns(store, ["event_id_cnty", "dataset", "licence"]).set_index("event_id_cnty")
        assert rows.loc["OWN-1", "licence"] == "CC BY 4.0 (our survey)"
        assert rows.loc["ANON-1", "licence"] == licence.UNDECLARED.name
        incidents = store.read()
    finally:
        store.close()
    out = licence.shareable(incidents).set_index("event_id_cnty")
    assert out.loc["OWN-1", "notes"] == "Synthetic note OWN-1"
    assert out.loc["ANON-1", "notes"] == ""


def test_a_declared_licence_is_stored_clean():
    assert licence.declared_licence("  CC BY 4.0\x1b[31m\n") == "CC BY 4.0[31m"
    assert licence.declared_licence(None) == "" and len(licence.declared_licence("x" * 500)) == 120
