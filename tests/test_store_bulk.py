"""Bulk uploads into the SQLite store: the Arrow/ADBC staging path stores exactly what the row
path stores (ids, values, types, upload links, undo), cleans up after itself and keeps an upload
atomic when it fails half-way."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import geodata.store.sqlite as sqlite_store
from geodata.ingest import ingest_file, prepare
from geodata.store import StoreError, UploadMeta, open_store
from tests.acled_gen import write_acled_csv

pytest.importorskip("adbc_driver_sqlite")


@pytest.fixture
def small_bulk(monkeypatch, tmp_path):
    """Make a few thousand rows count as a bulk load (staged, indexes rebuilt), and send the
    staging files to a folder of the test's own."""
    monkeypatch.setattr(sqlite_store, "STAGE_ROWS", 500)
    monkeypatch.setattr(sqlite_store, "BULK_ROWS", 500)
    monkeypatch.setattr(sqlite_store, "BATCH_ROWS", 700)  # several batches per upload
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


def _files(tmp_path: Path) -> tuple[Path, Path]:
    """Two uploads: 3,000 rows; then 2,000 rows of which 1,000 keys are stored already, plus rows
    repeated inside the file and rows without an id (content keys)."""
    first = write_acled_csv(tmp_path / "first.csv", 3000)
    other = pd.read_csv(write_acled_csv(tmp_path / "other.csv", 2000, seed=2), dtype=str, keep_default_na=False)
    second = other.copy()
    second["event_id_cnty"] = [f"SYN{i}" for i in range(2000, 3000)] + [f"NEW{i}" for i in range(1000)]
    no_id = other.iloc[:5].copy()
    no_id["event_id_cnty"] = ""
    repeated = pd.concat([second.iloc[:3], no_id.iloc[:2]])
    pd.concat([second, no_id, repeated]).to_csv(tmp_path / "second.csv", index=False)
    return first, tmp_path / "second.csv"


def _dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {
            "incidents": conn.execute("SELECT *, typeof(latitude), typeof(fatalities), typeof(admin2_mismatch), "
                                      "typeof(source_line) FROM incidents ORDER BY id").fetchall(),
            "upload_rows": conn.execute("SELECT * FROM upload_rows ORDER BY upload_id, incident_id").fetchall(),
            "uploads": conn.execute("SELECT id, file_name, sha256, format, rows_read, accepted, rejected, duplicates, "
                                    "warnings, status FROM uploads ORDER BY id").fetchall(),
            "schema": conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall(),
            "databases": [r[1] for r in conn.execute("PRAGMA database_list")],
        }
    finally:
        conn.close()


def _run(url: str, first: Path, second: Path) -> list[tuple[int, int, int]]:
    store = open_store(url)
    try:
        a = ingest_file(first, store)
        b = ingest_file(second, store)
        undone = store.undo_upload(a.upload_id)
        assert sqlite_store.STAGING not in [r[1] for r in store.conn.execute("PRAGMA database_list")]
        return [(a.accepted, a.duplicates, a.rejected), (b.accepted, b.duplicates, b.rejected),
                (undone.removed, undone.kept, store.count())]
    finally:
        store.close()


def test_staged_upload_stores_exactly_what_the_row_path_stores(tmp_path, small_bulk, monkeypatch):
    first, second = _files(tmp_path)
    staged_calls: list[int] = []
    real_write = sqlite_store._write_staging

    def spy(path, table):
        staged_calls.append(table.num_rows)
        return real_write(path, table)

    monkeypatch.setattr(sqlite_store, "_write_staging", spy)
    staged = _run(f"sqlite:///{tmp_path / 'staged.sqlite'}", first, second)
    assert staged_calls == [3000, 2010]  # both uploads went through the staging file
    assert list(small_bulk.iterdir()) == []  # and it was removed

    monkeypatch.setattr(sqlite_store, "STAGE_ROWS", 10**9)
    rows = _run(f"sqlite:///{tmp_path / 'rows.sqlite'}", first, second)
    assert staged_calls == [3000, 2010]

    # 1,000 keys of the second file were stored by the first, 5 rows repeat inside it.
    assert staged == rows == [(3000, 0, 0), (1005, 1005, 0), (2000, 1000, 2005)]
    assert _dump(tmp_path / "staged.sqlite") == _dump(tmp_path / "rows.sqlite")


def test_staged_rows_carry_their_dataset_and_licence(tmp_path, small_bulk):
    first, _ = _files(tmp_path)
    store = open_store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    try:
        ingest_file(first, store)
    finally:
        store.close()
    conn = sqlite3.connect(tmp_path / "x.sqlite")
    labels = conn.execute("SELECT dataset, licence, COUNT(*) FROM incidents GROUP BY 1, 2").fetchall()
    conn.close()
    assert labels == [("ACLED", "ACLED Terms of Use", 3000)]


def test_staging_failure_falls_back_to_the_row_path(tmp_path, small_bulk, monkeypatch):
    first, second = _files(tmp_path)
    reference = _run(f"sqlite:///{tmp_path / 'ref.sqlite'}", first, second)

    def broken(path, table):
        Path(path).write_bytes(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(sqlite_store, "_write_staging", broken)
    assert _run(f"sqlite:///{tmp_path / 'fallback.sqlite'}", first, second) == reference
    assert _dump(tmp_path / "fallback.sqlite") == _dump(tmp_path / "ref.sqlite")
    assert list(small_bulk.iterdir()) == []


def test_failure_half_way_through_a_staged_upload_changes_nothing(tmp_path, small_bulk):
    first, second = _files(tmp_path)
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    store = open_store(url)
    ingest_file(first, store)
    store.close()
    before = _dump(tmp_path / "x.sqlite")

    store = open_store(url)
    batches: list[int] = []

    def fail_on_second_batch(done: int) -> None:
        batches.append(done)
        assert sqlite_store.STAGING in [r[1] for r in store.conn.execute("PRAGMA database_list")]  # staged load
        if len(batches) == 2:
            raise StoreError("simulated failure inside the transaction")

    prepared = prepare(second.read_bytes(), second.name)
    meta = UploadMeta(second.name, prepared.sha256, prepared.format, prepared.rows_read, 0, 0)
    try:
        with pytest.raises(StoreError, match="simulated failure"):
            store.add_upload(prepared.result.valid, meta, fail_on_second_batch)
        assert len(batches) == 2
        assert store.count() == 3000
        # The connection is usable and the staging database detached.
        assert sqlite_store.STAGING not in [r[1] for r in store.conn.execute("PRAGMA database_list")]
    finally:
        store.close()
    assert _dump(tmp_path / "x.sqlite") == before  # every index dropped for the load is back
    assert list(small_bulk.iterdir()) == []


def test_arrow_rows_hold_the_values_row_columns_gives(corpus):
    """The staging table's values are exactly the row path's (text, blanks, missing numbers, dates,
    enrichment flags), also for frames without ``line`` or enrichment columns."""
    import math

    from geodata.geo.enrich import locate_rows
    from geodata.store.records import STORED_COLUMNS, arrow_rows, row_columns
    from geodata.ingest.validation import validate_incidents

    raw = pd.read_csv(corpus / "acled_current_bom.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    valid = validate_incidents(raw).valid
    valid.loc[0, "year"] = pd.NA
    located = locate_rows(valid, None)
    enriched = valid.assign(municipality=located["municipality"].to_numpy(dtype=object),
                            admin2_mismatch=pd.array([True, False, pd.NA][:len(valid)], dtype="boolean"))
    for frame in (valid, enriched, valid.drop(columns="line")):
        expected = [tuple(r) for r in zip(*row_columns(frame))]
        got = [tuple(r[c] for c in STORED_COLUMNS) for r in arrow_rows(frame).to_pylist()]
        assert len(got) == len(expected) == len(valid) == 3

        def same(a, b) -> bool:
            if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
                return math.isnan(b)
            return type(a) is type(b) and a == b or (a is None and b is None)

        assert all(same(a, b) for e, g in zip(expected, got) for a, b in zip(e, g)), (expected, got)
