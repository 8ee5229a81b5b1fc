"""The hostile-input corpus (tests/data/hostile/, written by make_hostile.py; expectations in expected.json):
every file gets a row-level answer or one clear line, never a traceback, and good rows always land."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geodata._errors import ConflictmapError, DataError
from geodata.ingest import IngestError, prepare

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
EXPECTED = json.loads((HOSTILE / "expected.json").read_text(encoding="utf-8"))
REPO = HOSTILE.parents[2]
CSV_FILES = sorted(n for n, e in EXPECTED.items() if "layer" not in e)
LAYER_FILES = sorted(n for n, e in EXPECTED.items() if "layer" in e)


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CONFLICTMAP_DATA_DIR=str(tmp_path / "var"), PYTHONPATH=str(REPO))
    env.pop("CONFLICTMAP_DB", None)
    return subprocess.run([sys.executable, "-m", "geodata", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_corpus_is_current():
    """The committed files are what make_hostile.py writes (regenerate after editing it)."""
    sys.path.insert(0, str(HOSTILE))
    try:
        import make_hostile
    finally:
        sys.path.pop(0)
    for name, data in make_hostile.files.items():
        assert (HOSTILE / name).read_bytes() == data, name
    assert set(make_hostile.expected) == set(EXPECTED)


@pytest.mark.parametrize("name", CSV_FILES)
def test_hostile_csv_gets_row_level_answer(name):
    want = EXPECTED[name]
    data = (HOSTILE / name).read_bytes()
    if "exit" in want:
        with pytest.raises(IngestError, match=want["reason"]):
            prepare(data, name)
        return
    prepared = prepare(data, name)
    errors = sorted({(e.line, e.column) for e in prepared.result.errors})
    assert errors == sorted(tuple(x) for x in want["rejected"])
    assert all(e.reason for e in prepared.result.errors)
    warned = sorted({(w.line, w.column) for w in prepared.result.warnings})
    assert warned == sorted(tuple(x) for x in want["warnings"])
    assert len(prepared.result.valid) == want["accepted"]
    assert len(prepared.result.valid) + prepared.rejected == prepared.rows_read
    for eid, location in want.get("location", {}).items():
        row = prepared.result.valid[prepared.result.valid["event_id_cnty"] == eid]
        assert row["location"].tolist() == [location]


def test_header_only_is_no_rows_and_stores_nothing(tmp_path):
    p = run_cli(tmp_path, "ingest", str(HOSTILE / "header_only.csv"))
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and "no rows" in p.stderr and "Traceback" not in p.stderr
    p = run_cli(tmp_path, "uploads")
    assert p.stdout.strip() == "no uploads yet"


def test_duplicates_and_case_sensitive_ids_through_cli(tmp_path):
    report = tmp_path / "report.csv"
    p = run_cli(tmp_path, "ingest", str(HOSTILE / "duplicates_within.csv"), "--report", str(report))
    assert p.returncode == 0, p.stderr
    # HOSTILE40, HOSTILE41 and hostile40 (ids are case-sensitive); lines 4 and 6 repeat lines 2 and 3.
    assert p.stdout.splitlines()[-1] == "accepted=3 rejected=0 duplicates=2"
    text = report.read_text(encoding="utf-8-sig")
    assert "duplicate of line 2" in text and "duplicate of line 3" in text


def test_escape_codes_in_file_name_never_reach_the_terminal(tmp_path):
    name = tmp_path / "\x1b]0;PWNED\x07\x1b[31mevil\u202e.csv"
    name.write_bytes((HOSTILE / "control_chars.csv").read_bytes())
    p = run_cli(tmp_path, "ingest", str(name))
    assert p.returncode == 0, p.stderr
    listing = run_cli(tmp_path, "uploads")
    for out in (p.stdout, p.stderr, listing.stdout):
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    # The name is still shown, its control characters made harmless (escaped or dropped).
    assert "PWNED" in listing.stdout and "evil" in listing.stdout


@pytest.mark.parametrize("name", LAYER_FILES)
def test_bad_layer_file_raises_one_clear_data_error(name):
    from geodata.geo.boundaries import read_municipalities
    from geodata.geo.routes import load_routes
    from geodata.geo.sites import load_sites

    want = EXPECTED[name]
    loader = {"routes": load_routes, "boundaries": read_municipalities, "sites": load_sites}[want["layer"]]
    with pytest.raises(DataError) as info:
        loader(HOSTILE / name)
    message = str(info.value)
    assert want["reason"] in message and "\n" not in message and name in message


def test_unreadable_boundaries_setting_is_a_project_error(tmp_path, clean_env):
    from geodata.geo.boundaries import find_boundaries, read_municipalities
    from geodata.settings import get_settings

    bad = tmp_path / "adm2.geojson"
    bad.write_bytes(b"\x00\x01 not a geojson")
    clean_env.setenv("CONFLICTMAP_BOUNDARIES", str(bad))
    source = find_boundaries(get_settings())
    with pytest.raises(ConflictmapError, match="cannot read boundaries"):
        read_municipalities(source.path)


@pytest.mark.parametrize("name", [n for n in CSV_FILES if "exit" not in EXPECTED[n]])
def test_hostile_rows_land_and_read_back_the_same_on_both_back_ends(name, store_url):
    """Issue 18: the corpus against PostGIS too. Every accepted row of every hostile file is stored
    and read back exactly as validated (control characters, huge numbers, odd encodings), on SQLite
    and PostGIS alike; a second ingest stores nothing new."""
    from geodata.model.actor import maintenance
    from geodata.ingest import ingest_file
    from geodata.store import open_store

    valid = prepare((HOSTILE / name).read_bytes(), name).result.valid
    store = open_store(store_url)
    try:
        with maintenance():
            report = ingest_file(HOSTILE / name, store)
        stored = store.read(None, ("event_id_cnty", "location", "notes", "actor1", "fatalities", "latitude"))
        got = stored.sort_values("event_id_cnty").reset_index(drop=True)
        want = valid.drop_duplicates("event_id_cnty").sort_values("event_id_cnty").reset_index(drop=True)
        assert len(got) == len(want) == report.accepted  # repeated lines of one file are stored once
        for col in ("event_id_cnty", "location", "notes", "actor1"):
            assert got[col].fillna("").astype(str).tolist() == want[col].fillna("").astype(str).tolist(), col
        assert got["fatalities"].astype("Int64").tolist() == want["fatalities"].astype("Int64").tolist()
        with maintenance():
            again = ingest_file(HOSTILE / name, store)
        assert (again.accepted, again.already_stored) == (0, len(want))
    finally:
        store.close()
