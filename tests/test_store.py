"""The durable store on SQLite and PostGIS: idempotence, undo, filter push-down, migrations, atomicity."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geodata.model.filters import FilterSpec, apply_filters
from geodata.ingest.bundled import to_geodataframe
from geodata.ingest import ingest_file
from geodata.model.schema import INCIDENT_COLUMNS
from geodata.store import StoreError, open_store
from geodata.store.migrations import LATEST_VERSION
from tests.acled_gen import write_acled_csv

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    yield s
    s.close()


def test_schema_version_and_reopen(store, store_url):
    assert store.schema_version() == LATEST_VERSION
    again = open_store(store_url, create=False)
    assert again is not None and again.schema_version() == LATEST_VERSION
    again.close()


def test_open_store_without_create(tmp_path):
    assert open_store(f"sqlite:///{tmp_path / 'none.sqlite'}", create=False) is None
    assert not (tmp_path / "none.sqlite").exists()
    with pytest.raises(StoreError, match="unknown store URL"):
        open_store("mysql://x")


def test_reingest_is_idempotent_and_uploads_keep_provenance(store, corpus):
    a = ingest_file(corpus / "acled_current_bom.csv", store)
    b = ingest_file(corpus / "acled_current_bom.csv", store)
    assert (a.accepted, a.duplicates) == (3, 0)
    assert (b.accepted, b.rejected, b.duplicates) == (0, 1, 3)
    assert store.count() == 3
    ups = store.list_uploads()
    assert list(ups["id"]) == [b.upload_id, a.upload_id]
    assert list(ups["accepted"]) == [0, 3] and list(ups["duplicates"]) == [3, 0]
    assert ups["sha256"].nunique() == 1 and len(ups["sha256"].iloc[0]) == 64
    assert set(ups["file_name"]) == {"acled_current_bom.csv"} and set(ups["format"]) == {"acled"}


def test_every_incident_knows_its_upload_and_undo(store, corpus):
    a = ingest_file(corpus / "acled_current_bom.csv", store)
    b = ingest_file(corpus / "acled_legacy.csv", store)
    df = store.read(None, INCIDENT_COLUMNS, order=True)
    assert sorted(df["origin"].value_counts().items()) == [(f"upload:{a.upload_id}", 3), (f"upload:{b.upload_id}", 2)]
    assert store.undo_upload(a.upload_id) == 3
    left = store.read(None, INCIDENT_COLUMNS, order=True)
    assert set(left["origin"]) == {f"upload:{b.upload_id}"} and len(left) == 2
    ups = store.list_uploads().set_index("id")
    assert ups.loc[a.upload_id, "status"] == "undone" and ups.loc[b.upload_id, "status"] == "complete"
    with pytest.raises(KeyError):
        store.undo_upload(a.upload_id)
    with pytest.raises(KeyError):
        store.undo_upload(999)
    # Undone rows can be uploaded again.
    assert ingest_file(corpus / "acled_current_bom.csv", store).accepted == 3


def test_read_incidents_canonical_columns(store, corpus):
    ingest_file(corpus / "acled_current_bom.csv", store)
    df = store.read(None, INCIDENT_COLUMNS, order=True)
    assert list(df.columns) == list(INCIDENT_COLUMNS) + ["origin"]
    assert str(df["event_date"].dtype).startswith("datetime64")
    assert str(df["fatalities"].dtype) == "Int64"
    gdf = to_geodataframe(df, df["origin"])
    assert len(gdf) == 3 and gdf.crs.to_epsg() == 4326


def test_filter_is_pushed_into_sql(store, corpus):
    ingest_file(corpus / "acled_current_bom.csv", store)
    ingest_file(corpus / "acled_legacy.csv", store)
    spec = FilterSpec(start=dt.date(2023, 9, 25), end=dt.date(2023, 9, 30), event_types=("Battles", "Protests"),
                      min_fatalities=1)
    df = store.read(spec, INCIDENT_COLUMNS, order=True)
    assert list(df["event_id_cnty"]) == ["SYNX4"]
    q = store.last_query
    assert "event_date >=" in q and "event_date <=" in q and "event_type IN" in q and "fatalities >=" in q
    assert "2023" not in q and "Battles" not in q  # values are parameters, never in the SQL text
    df = store.read(FilterSpec(sub_event_types=("Peaceful protest",)), INCIDENT_COLUMNS, order=True)
    assert list(df["event_id_cnty"]) == ["SYNX2"] and "sub_event_type IN" in store.last_query


def test_actor_filter_superset_then_exact_in_pandas(store, corpus):
    ingest_file(corpus / "acled_current_bom.csv", store)
    ingest_file(corpus / "acled_legacy.csv", store)
    tricky = "Synthetic Group A'; DROP TABLE incidents; --"
    assert store.read(FilterSpec(actors=(tricky,)), INCIDENT_COLUMNS, order=True).empty
    spec = FilterSpec(actors=("Synthetic Group A",))
    df = store.read(spec, INCIDENT_COLUMNS, order=True)
    assert "actor1 IN" in store.last_query and "assoc_actor_1 LIKE" in store.last_query
    assert sorted(df["event_id_cnty"]) == ["SYNX1", "SYNX2", "SYNX4"]  # via the associated-actor list
    exact = apply_filters(to_geodataframe(df, df["origin"]), FilterSpec(actors=("Synthetic Group",)))
    assert exact.empty  # a substring is not a member of the list
    assert list(store.read(FilterSpec(actors=("Synthetic Rioters",)), INCIDENT_COLUMNS, order=True)["event_id_cnty"]) == []
    assert list(store.read(FilterSpec(actors=("Civilians (Kosovo)",)), INCIDENT_COLUMNS, order=True)["event_id_cnty"]) == ["SYNL2"]
    assert store.count() == 5


def test_text_is_stored_as_given(store, tmp_path, corpus):
    text = (corpus / "acled_current_bom.csv").read_text(encoding="utf-8-sig")
    evil = text.replace("Synthetic note.", "<script>alert(1)</script> Robert'); DROP TABLE incidents;--")
    (tmp_path / "evil.csv").write_text(evil, encoding="utf-8")
    ingest_file(tmp_path / "evil.csv", store)
    notes = set(store.read(None, INCIDENT_COLUMNS, order=True)["notes"])
    assert "<script>alert(1)</script> Robert'); DROP TABLE incidents;--" in notes


def _kill_mid_upload(tmp_path: Path, url: str, csv: Path) -> None:
    flag = tmp_path / "paused"
    env = dict(os.environ, CONFLICTMAP_DATA_DIR=str(tmp_path / "var"), PYTHONPATH=str(REPO))
    # The command line's own ingest, paused inside the upload's transaction by a test-only wrapper
    # of the store's batch callback (tests/pause_ingest.py).
    proc = subprocess.Popen([sys.executable, "-m", "tests.pause_ingest", "100000", str(flag),
                             "ingest", str(csv), "--db", url], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while not flag.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.time() < deadline, "ingest never reached the pause point"
        time.sleep(0.05)
    assert int(flag.read_text()) >= 100000  # rows really were written inside the transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert proc.returncode == -signal.SIGKILL


def test_sigkill_mid_upload_leaves_store_unchanged(tmp_path, store_url, corpus):
    before = open_store(store_url)
    ingest_file(corpus / "acled_legacy.csv", before)
    before.close()
    big = write_acled_csv(tmp_path / "big.csv", 200_000)
    _kill_mid_upload(tmp_path, store_url, big)
    after = open_store(store_url)
    try:
        # The killed command had opened the store through the service, which seeds the bundled
        # incidents first (their own committed upload); the killed upload left nothing.
        ups = after.list_uploads()
        assert list(ups["file_name"]) == ["incidents.csv", "acled_legacy.csv"]
        assert list(ups["format"]) == ["bundled", "acled"]
        bundled = int(ups["accepted"].iloc[0])
        assert bundled > 0 and after.count() == 2 + bundled
        # The store is healthy: the same file goes in completely afterwards.
        r = ingest_file(big, after)
        assert (r.accepted, r.rejected, r.duplicates) == (200_000, 0, 0)
        assert after.count() == 200_002 + bundled
    finally:
        after.close()


def test_postgis_geometry_and_spatial_index(pg_url, corpus):
    import psycopg

    s = open_store(pg_url)
    ingest_file(corpus / "acled_legacy.csv", s)
    s.close()
    with psycopg.connect(pg_url) as conn:
        idx = conn.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'incidents'").fetchall()
        assert any("USING gist (geom)" in d for (d,) in idx)
        for col in ("event_date", "event_type", "actor1", "fatalities"):
            assert any(f"({col})" in d for (d,) in idx)
        x, y = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE event_id_cnty = 'SYNL1'").fetchone()
        assert (x, y) == (20.69, 42.91)
