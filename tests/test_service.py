"""The incident service and the store beneath it, on SQLite and PostGIS: one read path, exact undo,
a data version every process sees, municipality stored at ingest, bundled data seeded once,
schema-2 stores upgraded in place, full disks and read-only stores as one clear error.

Expected answers are written out by hand from the rows each test builds (never computed by the code
under test)."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from geodata.model.filters import FilterSpec
from geodata.model.schema import ACLED_COLUMNS
from geodata.service.incidents import IncidentService
from geodata.settings import get_settings
from geodata.store import StoreError, UploadNotFound, open_store
from geodata.store.migrations import MIGRATIONS

BUNDLED_COUNT = len(pd.read_csv(Path(__file__).resolve().parents[1] / "geodata" / "data" / "incidents.csv"))


def acled_csv(path: Path, rows: list[dict]) -> Path:
    """A current-generation ACLED CSV of ``rows`` (each a dict of the cells that differ from a default)."""
    base = {c: "" for c in ACLED_COLUMNS}
    base.update({
        "event_date": "2023-05-01", "year": "2023", "time_precision": "1", "disorder_type": "Political violence",
        "event_type": "Protests", "sub_event_type": "Peaceful protest", "actor1": "Protesters (Kosovo)",
        "inter1": "Protesters", "interaction": "Protesters only", "iso": "0", "region": "Europe", "country": "Kosovo",
        "admin1": "Mitrovica", "admin2": "Zvečan", "location": "Synthetic place", "latitude": "42.9",
        "longitude": "20.8", "geo_precision": "1", "source": "Synthetic source", "source_scale": "National",
        "notes": "Synthetic test row, no real event.", "fatalities": "0", "timestamp": "1700000000",
    })
    pd.DataFrame([{**base, **r} for r in rows], columns=list(ACLED_COLUMNS)).to_csv(path, index=False)
    return path


def ids_rows(prefix: str, n: int) -> list[dict]:
    return [{"event_id_cnty": f"{prefix}-{i}"} for i in range(n)]


@pytest.fixture
def svc(store_url, tmp_path, clean_env):
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_DB": store_url})
    with IncidentService(settings) as s:
        yield s


def test_bundled_incidents_come_through_the_store(svc):
    sel = svc.select()
    assert len(sel.incidents) == BUNDLED_COUNT and set(sel.incidents["origin"]) == {"bundled"}
    ups = svc.uploads()
    assert list(ups["format"]) == ["bundled"] and list(ups["file_name"]) == ["incidents.csv"]
    assert svc.uploads(include_bundled=False).empty
    with pytest.raises(UploadNotFound, match="bundled"):
        svc.undo(int(ups["id"].iloc[0]))


def test_exact_undo_keeps_rows_another_upload_holds(svc, tmp_path):
    small = acled_csv(tmp_path / "a.csv", ids_rows("A", 1000))
    big = acled_csv(tmp_path / "big.csv", ids_rows("A", 1000) + ids_rows("B", 2000))
    first = svc.ingest_file(small).report
    second = svc.ingest_file(big).report
    assert (first.accepted, first.duplicates) == (1000, 0)
    assert (second.accepted, second.duplicates) == (2000, 1000)
    outcome = svc.undo(first.upload_id)
    assert (outcome.removed, outcome.kept) == (0, 1000)
    assert "1000 stay because another upload also holds them" in outcome.message()
    left = svc.select(FilterSpec(), columns=("event_id_cnty",)).incidents
    assert left["event_id_cnty"].str.startswith("A-").sum() == 1000
    assert len(left) == BUNDLED_COUNT + 3000 == outcome.total
    # The A rows now belong to the second upload: undoing it removes everything it brought.
    outcome = svc.undo(second.upload_id)
    assert (outcome.removed, outcome.kept) == (3000, 0) and outcome.total == BUNDLED_COUNT
    with pytest.raises(UploadNotFound, match="already undone"):
        svc.undo(second.upload_id)


def test_undo_rejects_impossible_ids(svc):
    from geodata._errors import InputError

    for bad in ("99999999999999999999", "-1", "0", "x"):
        with pytest.raises(InputError, match="upload id"):
            svc.undo(bad)
    with pytest.raises(UploadNotFound, match="no upload 123456"):
        svc.undo(123456)


def test_data_version_follows_writes_from_another_process(svc, store_url, tmp_path):
    before = svc.data_version()
    assert svc.data_version() == before  # reading changes nothing
    # "Another process": a second service with its own connection.
    other_settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_DB": store_url})
    with IncidentService(other_settings) as other:
        up = other.ingest_file(acled_csv(tmp_path / "x.csv", ids_rows("X", 3))).report
    after_upload = svc.data_version()
    assert after_upload != before
    assert len(svc.select().incidents) == BUNDLED_COUNT + 3
    with IncidentService(other_settings) as other:
        other.undo(up.upload_id)
    assert svc.data_version() not in (before, after_upload)
    assert len(svc.select().incidents) == BUNDLED_COUNT


def test_store_upload_reports_counts_after_storing(svc, tmp_path):
    data = acled_csv(tmp_path / "u.csv", ids_rows("U", 4)).read_bytes()
    prepared = svc.prepare_upload(data, "u.csv")
    before = svc.data_version()
    outcome = svc.store_upload(prepared)
    assert outcome.report.accepted == 4 and outcome.total == BUNDLED_COUNT + 4
    assert outcome.data_version != before and outcome.data_version == svc.data_version()


# Hand-made rows: municipality (from the stated admin2 through the alias table: no boundaries here),
# date, type, fatalities and actors chosen so that each filter's answer can be read off this table.
HAND_ROWS = [
    {"event_id_cnty": "H-1", "admin2": "Zvečan", "event_date": "2019-01-10", "event_type": "Protests", "fatalities": "0"},
    {"event_id_cnty": "H-2", "admin2": "Zvecan", "event_date": "2019-02-10", "event_type": "Riots",
     "sub_event_type": "Violent demonstration", "actor1": "Rioters (Kosovo)", "inter1": "Rioters", "fatalities": "2"},
    {"event_id_cnty": "H-3", "admin2": "Leposavić", "event_date": "2019-03-10", "event_type": "Riots",
     "sub_event_type": "Mob violence", "actor1": "Rioters (Kosovo)", "inter1": "Rioters", "fatalities": "1",
     "assoc_actor_1": "Group Alpha; Group Beta"},
    {"event_id_cnty": "H-4", "admin2": "Mitrovica e Veriut", "event_date": "2019-04-10", "event_type": "Protests",
     "fatalities": "0", "assoc_actor_1": "Group Alphabet"},
    {"event_id_cnty": "H-5", "admin2": "Nowhere Town", "event_date": "2020-01-10", "event_type": "Protests",
     "fatalities": "5"},
]


@pytest.fixture
def hand(svc, tmp_path):
    svc.ingest_file(acled_csv(tmp_path / "hand.csv", HAND_ROWS))
    return svc


def _ids(svc, spec: FilterSpec, columns=None) -> list[str]:
    got = svc.select(spec, columns=columns).incidents
    return sorted(got.loc[got["event_id_cnty"].str.startswith("H-"), "event_id_cnty"])


@pytest.mark.parametrize("spec,expected", [
    (FilterSpec(municipalities=("Zveçan",)), ["H-1", "H-2"]),
    (FilterSpec(municipalities=("Leposaviq", "North Mitrovica")), ["H-3", "H-4"]),
    (FilterSpec(event_types=("Riots",)), ["H-2", "H-3"]),
    (FilterSpec(event_types=("Riots",), sub_event_types=("Mob violence",)), ["H-3"]),
    (FilterSpec(min_fatalities=2), ["H-2", "H-5"]),
    (FilterSpec(start=dt.date(2019, 2, 10), end=dt.date(2019, 4, 10)), ["H-2", "H-3", "H-4"]),
    (FilterSpec(actors=("Group Alpha",)), ["H-3"]),  # not "Group Alphabet": list members match exactly
    (FilterSpec(actors=("Rioters (Kosovo)",), municipalities=("Zveçan",)), ["H-2"]),
    (FilterSpec(start=dt.date(2020, 1, 1), end=dt.date(2020, 12, 31)), ["H-5"]),
])
def test_filters_answer_hand_computed_selections(hand, spec, expected):
    assert _ids(hand, spec) == expected
    assert _ids(hand, spec, columns=("event_id_cnty",)) == expected  # lean reads give the same rows


def test_municipality_is_stored_filtered_and_counted_in_the_store(hand):
    assert hand.store.count(FilterSpec(municipalities=("Zveçan",))) >= 2
    assert "municipality IN" in (hand.select(FilterSpec(municipalities=("Zveçan",))) and hand.store.last_query)
    # The bundled incidents start in 2021: before that only the hand-made rows exist.
    counts = hand.store.municipality_counts(FilterSpec(end=dt.date(2020, 12, 31)))
    assert [tuple(r) for r in counts.itertuples(index=False)] == [
        ("Zveçan", 2, 2), ("", 1, 5), ("Leposaviq", 1, 1), ("North Mitrovica", 1, 0)]
    riots = hand.store.municipality_counts(FilterSpec(end=dt.date(2020, 12, 31), event_types=("Riots",)))
    assert dict(zip(riots["municipality"], riots["incidents"])) == {"Zveçan": 1, "Leposaviq": 1}
    facets = hand.facets()
    assert {"Zveçan", "Leposaviq", "North Mitrovica"} <= set(facets.municipalities)
    assert {"Group Alpha", "Group Beta", "Group Alphabet"} <= set(facets.actors)


def test_bad_routes_file_is_a_notice_not_a_crash(tmp_path, clean_env):
    bad = tmp_path / "routes.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_ROUTES": str(bad)})
    with IncidentService(settings) as s:
        ctx = s.context()
        assert ctx.routes is None and ctx.sites is not None
        assert any("routes" in n.lower() for n in ctx.notices)
        sel = s.select(FilterSpec(near_routes=("anything",)))
        assert len(sel.incidents) == 0 and any("routes" in n.lower() for n in sel.notes)
        assert len(s.select().incidents) == BUNDLED_COUNT


def test_bundled_seed_is_idempotent_and_follows_the_file(store_url, tmp_path):
    from geodata.ingest.bundled import BUNDLED_INCIDENTS, seed_bundled

    copy = tmp_path / "incidents.csv"
    shutil.copy(BUNDLED_INCIDENTS, copy)
    with open_store(store_url) as store:
        assert seed_bundled(store, path=copy) is True
        version = store.data_version()
        assert seed_bundled(store, path=copy) is False and store.data_version() == version
        lines = copy.read_text(encoding="utf-8").splitlines(keepends=True)
        copy.write_text("".join(lines[:-1]), encoding="utf-8")  # the file loses its last incident
        assert seed_bundled(store, path=copy) is True
        assert store.count() == BUNDLED_COUNT - 1
        ups = store.list_uploads()
        assert list(ups["status"]) == ["complete", "undone"] and set(ups["format"]) == {"bundled"}


def _schema2_store(url: str, tmp_path: Path) -> None:
    """A store as the previous release (schema 2) left it: migrations 1-2 and two uploads."""
    rows = [("id:OLD-1", 2, "2022-09-24", "Zubin Potok", 42.91, 20.69), ("id:OLD-2", 3, "2022-09-25", "Leposaviq", 43.1, 20.8)]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        mark, now = "?", "'2026-01-01T00:00:00+00:00'"
    else:
        import psycopg

        conn = psycopg.connect(url, autocommit=True)
        mark, now = "%s", "now()"
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                 "applied_at TEXT NOT NULL)" if mark == "?" else
                 "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                 "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
    for m in MIGRATIONS[:2]:
        for stmt in (m.sqlite if mark == "?" else m.postgres):
            conn.execute(stmt)
        conn.execute(f"INSERT INTO schema_version (version, description, applied_at) VALUES ({mark}, {mark}, {now})",
                     (m.version, m.description))
    for i in (1, 2):
        conn.execute(f"INSERT INTO uploads (file_name, sha256, format, uploaded_at) VALUES ('old{i}.csv', 'x', 'acled', {now})")
    geom = "" if mark == "?" else ", geom"
    for key, upload, day, admin2, lat, lon in rows:
        point = "" if mark == "?" else f", ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326)"
        conn.execute(
            f"INSERT INTO incidents (upload_id, dedup_key, event_id_cnty, event_date, event_type, sub_event_type, "
            f"actor1, admin2, latitude, longitude, fatalities{geom}) VALUES ({mark}, {mark}, {mark}, {mark}, 'Battles', "
            f"'Armed clash', 'Old actor', {mark}, {mark}, {mark}, 1{point})",
            (upload - 1, key, key.removeprefix("id:"), day, admin2, lat, lon))
    if mark == "?":
        conn.commit()
    conn.close()


def test_a_schema_2_store_upgrades_in_place_and_loses_nothing(store_url, tmp_path):
    _schema2_store(store_url, tmp_path)
    with open_store(store_url) as store:
        from geodata.store.migrations import LATEST_VERSION

        assert store.schema_version() == LATEST_VERSION and {1, 2, 3, 4} <= store.applied_versions()
        df = store.read(columns=("event_id_cnty", "admin2", "municipality"))
        assert dict(zip(df["event_id_cnty"], df["municipality"])) == {"OLD-1": "Zubin Potok", "OLD-2": "Leposaviq"}
        assert list(store.list_uploads()["file_name"]) == ["old2.csv", "old1.csv"]
        assert store.count(FilterSpec(municipalities=("Leposaviq",))) == 1
        version = store.data_version()
        result = store.undo_upload(1)  # provenance was filled from the old upload_id column
        assert (result.removed, result.kept) == (1, 0) and store.data_version() != version
        assert list(store.read(columns=("event_id_cnty",))["event_id_cnty"]) == ["OLD-2"]


def test_migration_runner_tolerates_gaps(tmp_path, monkeypatch):
    from geodata.store import migrations
    from geodata.store.migrations import Migration

    released = {m.version for m in migrations.MIGRATIONS}
    gap_after = max(released) + 3  # versions in between are a gap the runner must step over
    later = Migration(gap_after, "a later branch's step", sqlite=("CREATE TABLE later_step (x INTEGER)",), postgres=())
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + (later,))
    monkeypatch.setattr("geodata.store.base.MIGRATIONS", migrations.MIGRATIONS)
    monkeypatch.setattr("geodata.store.base.LATEST_VERSION", gap_after)
    url = f"sqlite:///{tmp_path / 'gap.sqlite'}"
    with open_store(url) as store:
        assert store.applied_versions() == released | {gap_after} and store.schema_version() == gap_after


def _tiny_disk(monkeypatch):
    """Every SQLite connection the code opens may not grow its file: a full disk, as SQLite sees one."""
    real = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real(*args, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {max(pages, 1)}")
        return conn
    monkeypatch.setattr(sqlite3, "connect", connect)


def _read_only(monkeypatch):
    """Every SQLite connection the code opens is read-only (``query_only``), as on a read-only mount."""
    real = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real(*args, **kwargs)
        conn.execute("PRAGMA query_only = 1")
        return conn
    monkeypatch.setattr(sqlite3, "connect", connect)


@pytest.mark.parametrize("limit,reason", [(_tiny_disk, "disk is full"), (_read_only, "read-only")])
def test_full_disk_or_read_only_store_is_one_line_exit_2_and_store_intact(tmp_path, clean_env, monkeypatch, capsys,
                                                                         limit, reason):
    from geodata.cli import main

    db = tmp_path / "var" / "incidents.sqlite"
    first = acled_csv(tmp_path / "first.csv", ids_rows("F", 5))
    assert main(["ingest", str(first)]) == 0
    capsys.readouterr()
    big = acled_csv(tmp_path / "big.csv", ids_rows("G", 3000))
    limit(monkeypatch)
    code = main(["ingest", str(big)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and reason in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and "cannot rollback" not in err
    monkeypatch.undo()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM incidents WHERE event_id_cnty LIKE 'G-%'").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM incidents WHERE event_id_cnty LIKE 'F-%'").fetchone()[0] == 5
    assert conn.execute("SELECT COUNT(*) FROM uploads WHERE file_name = 'big.csv'").fetchone()[0] == 0
    conn.close()


def test_full_disk_mid_upload_rolls_back_in_the_store(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    from geodata.ingest import ingest_file

    with open_store(url) as store:
        ingest_file(acled_csv(tmp_path / "a.csv", ids_rows("A", 3)), store)
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # room for a few rows only
        version = store.data_version()
        with pytest.raises(StoreError, match="disk is full"):
            ingest_file(acled_csv(tmp_path / "b.csv", ids_rows("B", 5000)), store)
        assert store.count() == 3 and store.data_version() == version
        assert list(store.list_uploads()["file_name"]) == ["a.csv"]


def test_installing_boundaries_relocates_stored_incidents_once(tmp_path, clean_env, adm2_path):
    """Without boundaries a row's municipality is its stated admin2; after ``geodata boundaries`` it is
    where its coordinates lie (43.10 N 20.80 E is the town of Leposavić, whatever the row says)."""
    from geodata.cli import main

    csv = acled_csv(tmp_path / "r.csv", [{"event_id_cnty": "R-1", "admin2": "Zvečan", "latitude": "43.10",
                                          "longitude": "20.80", "event_date": "2019-06-01"}])
    assert main(["ingest", str(csv)]) == 0
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var")})

    def municipality_of_r1() -> str:
        with IncidentService(settings) as s:
            got = s.select(FilterSpec(end=dt.date(2019, 12, 31)), columns=("event_id_cnty",)).incidents
            return dict(zip(got["event_id_cnty"], got["municipality"]))["R-1"]

    assert municipality_of_r1() == "Zveçan"
    assert main(["boundaries", "--from", str(adm2_path)]) == 0
    assert municipality_of_r1() == "Leposaviq"
    with IncidentService(settings) as s:
        s.store  # noqa: B018
        assert s.enriched_rows == 0  # already done: opening again re-locates nothing
        assert s.select(FilterSpec(end=dt.date(2019, 12, 31), municipalities=("Leposaviq",))).incidents[
            "event_id_cnty"].tolist() == ["R-1"]


def test_arrow_reads_equal_row_reads(tmp_path, clean_env, monkeypatch):
    """SQLite reads go through the ADBC driver into Arrow; the sqlite3 row path gives the same frame."""
    from geodata.store.base import BaseStore

    hand = IncidentService(get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var")}))
    hand.ingest_file(acled_csv(tmp_path / "hand.csv", HAND_ROWS))
    for columns in (None, ("event_id_cnty", "event_type", "fatalities", "municipality")):
        fast = hand.select(FilterSpec(end=dt.date(2020, 12, 31)), columns=columns).incidents
        assert hand.store._adbc is not None  # the Arrow path was taken
        monkeypatch.setattr(type(hand.store), "_read_frame", BaseStore._read_frame)
        rows = hand.select(FilterSpec(end=dt.date(2020, 12, 31)), columns=columns).incidents
        monkeypatch.undo()
        pd.testing.assert_frame_equal(fast.drop(columns="geometry"), rows.drop(columns="geometry"))
        assert sorted(fast["event_id_cnty"]) == ["H-1", "H-2", "H-3", "H-4", "H-5"]
    hand.close()


def test_both_back_ends_implement_the_store_protocol(store_url):
    from geodata.store import IncidentStore

    with open_store(store_url) as store:
        assert isinstance(store, IncidentStore)


def test_info_with_an_unreadable_boundaries_file_is_a_note_not_a_crash(tmp_path, clean_env, capsys):
    import json

    from geodata.cli import main

    clean_env.setenv("CONFLICTMAP_BOUNDARIES", str(tmp_path / "missing.geojson"))
    assert main(["info"]) == 0
    out, err = capsys.readouterr()
    layers = {layer["name"]: layer for layer in json.loads(out)["layers"]}
    assert layers["municipalities"]["present"] is False and layers["incidents"]["features"] == BUNDLED_COUNT
    assert "note: Municipal boundaries left out" in err and "missing.geojson" in err


def test_select_for_map_reads_what_the_representation_needs_and_actor_filters_in_one_scan(svc, tmp_path):
    """Marker-sized selections get every column and distances; cluster-sized ones the lean columns;
    larger ones only the aggregate columns. An actor filter (a table scan in SQL) is read once."""
    rows = ([{"event_id_cnty": f"G-{i}", "actor1": "Group Gamma"} for i in range(30)]
            + [{"event_id_cnty": f"D-{i}", "actor1": "Group Delta", "assoc_actor_1": "Group Gamma; Others"}
               for i in range(5)]
            + [{"event_id_cnty": f"O-{i}", "actor1": "Group Omicron"} for i in range(40)])
    svc.ingest_file(acled_csv(tmp_path / "g.csv", rows))
    reads = []
    real = svc.store.read
    svc.store.read = lambda *a, **k: reads.append(k.get("limit")) or real(*a, **k)
    gamma = FilterSpec(actors=("Group Gamma",))

    sel = svc.select_for_map(gamma, ("event_date",), marker_rows=10, cluster_rows=100).incidents
    assert len(sel) == 35 and reads == [101]  # 30 as actor1 + 5 associated; one read of lean columns
    assert "notes" not in sel and "source_url" in sel and "dist_route_m" not in sel

    reads.clear()
    sel = svc.select_for_map(gamma, marker_rows=50, cluster_rows=100).incidents
    assert len(sel) == 35 and reads == [101, None]  # few enough for markers: every column, with distances
    assert {"notes", "dist_route_m"} <= set(sel.columns)

    reads.clear()
    sel = svc.select_for_map(gamma, marker_rows=10, cluster_rows=20).incidents
    assert len(sel) == 35 and reads == [21, None] and "source_url" not in sel  # too many: aggregate columns

    reads.clear()
    omicron = FilterSpec(event_types=("Protests",), municipalities=(), actors=())
    sel = svc.select_for_map(omicron, marker_rows=10, cluster_rows=100_000).incidents
    assert reads == [None] and "source_url" in sel  # no actor filter: counted (index), read once


def test_added_uploads_names_the_uploads_since_a_version_and_nothing_else(svc, tmp_path):
    v0 = svc.data_version()
    assert svc.added_uploads(v0) == ()
    a = svc.ingest_file(acled_csv(tmp_path / "a.csv", ids_rows("A", 3))).report.upload_id
    v1, facets_v1 = svc.data_version(), svc.facets()
    b = svc.ingest_file(acled_csv(tmp_path / "b.csv", [{"event_id_cnty": "B-0", "event_date": "2030-01-02",
                                                         "actor1": "Group Beta", "assoc_actor_1": "Zeta; Eta"},
                                                        {"event_id_cnty": "B-1", "admin2": "Leposavić"}])).report.upload_id
    assert svc.added_uploads(v0) == (a, b) and svc.added_uploads(v1) == (b,)
    merged, now = svc.extend_facets(facets_v1, (b,)), svc.facets()
    assert merged == now and merged.last == dt.date(2030, 1, 2) and {"Zeta", "Eta", "Group Beta"} <= set(merged.actors)
    # Their rows, and only theirs, through the upload restriction of the one read verb and of facets.
    got = svc.store.read(FilterSpec(), ("event_id_cnty",), uploads=(b,))
    assert sorted(got["event_id_cnty"]) == ["B-0", "B-1"]
    assert svc.store.read(FilterSpec(), ("event_id_cnty",), uploads=()).empty
    f = svc.store.facets(uploads=(a,))
    assert (f.count, f.first, f.last, f.actors) == (3, dt.date(2023, 5, 1), dt.date(2023, 5, 1), ("Protesters (Kosovo)",))
    v2 = svc.data_version()
    svc.undo(a)  # anything but an upload: readers must read everything again
    assert svc.added_uploads(v0) is None and svc.added_uploads(v2) is None
    assert svc.added_uploads(svc.data_version()) == ()
    assert svc.added_uploads("another-store:0:1") is None and svc.added_uploads("garbage") is None


def test_extend_for_map_equals_a_fresh_selection_after_an_upload(svc, tmp_path):
    """The previous answer plus the upload's rows is what selecting again gives (filters applied to
    the new rows too); crossing the cluster limit, or a marker-sized answer, means select again."""
    first = ([{"event_id_cnty": f"P-{i}", "actor1": "Group Pi", "fatalities": str(i % 3)} for i in range(30)]
             + [{"event_id_cnty": f"Q-{i}", "actor1": "Group Q"} for i in range(10)])
    svc.ingest_file(acled_csv(tmp_path / "1.csv", first))
    spec = FilterSpec(actors=("Group Pi",), min_fatalities=1)
    before = svc.select_for_map(spec, ("event_date",), marker_rows=5, cluster_rows=100).incidents
    assert len(before) == 20  # fatalities 1 or 2 of 30
    version = svc.data_version()
    second = ([{"event_id_cnty": f"P2-{i}", "actor1": "Other", "assoc_actor_1": "Group Pi; X", "fatalities": "1"}
               for i in range(4)] + [{"event_id_cnty": f"P3-{i}", "actor1": "Group Pi", "fatalities": "0"} for i in range(6)]
              + [{"event_id_cnty": "P-1", "actor1": "Group Pi", "fatalities": "1"}])  # P-1: stored already
    svc.ingest_file(acled_csv(tmp_path / "2.csv", second))
    uploads = svc.added_uploads(version)
    reads = []
    real = svc.store.read
    svc.store.read = lambda *a, **k: reads.append(k.get("uploads")) or real(*a, **k)
    grown = svc.extend_for_map(before, spec, uploads, marker_rows=5, cluster_rows=100)
    assert reads == [uploads]  # only the upload's rows were read
    svc.store.read = real
    fresh = svc.select_for_map(spec, ("event_date",), marker_rows=5, cluster_rows=100).incidents
    assert len(grown) == 24 and sorted(grown["event_id_cnty"]) == sorted(fresh["event_id_cnty"])
    assert list(grown.columns) == list(before.columns) and len(before) == 20  # previous left as it was
    assert svc.extend_for_map(before, spec, uploads, marker_rows=5, cluster_rows=22) is None  # 20 -> 24 > 22
    assert svc.extend_for_map(before, spec, uploads, marker_rows=25, cluster_rows=100) is None  # markers
    facets = svc.extend_facets(svc.facets(), ())
    assert facets.count == svc.facets().count
