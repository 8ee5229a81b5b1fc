"""The columnar copy (DuckDB) answers counts, filter choices and lean reads exactly as the store does,
stays fresh after uploads (appended) and other changes (rebuilt), and hands every read it cannot
answer exactly to the store. Both back-ends."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.synthetic import generate, write_acled_csv
from geodata.model.actor import maintenance
from geodata.model.filters import FilterSpec
from geodata.ingest import ingest_file
from geodata.query.pushdown import AGGREGATE_COLUMNS, LEAN_COLUMNS
from geodata.model.schema import EVENT_TYPES
from geodata.store import open_store
from geodata.store.columnar import MIRROR_COLUMNS, ColumnarMirror, Reads, reads_for
from geodata.store.records import Proximity


@pytest.fixture
def filled(store_url, tmp_path):
    rows = generate(2_000, seed=5)
    rows.loc[:150, "assoc_actor_1"] = "Synthetic actor 10; Synthetic actor 150"
    rows.loc[151:170, "assoc_actor_1"] = "Synthetic actor 1"
    rows.loc[171:180, "actor2"] = "50% off_the_record \\ actor"  # LIKE wildcards and the escape character
    store = open_store(store_url)
    with maintenance():
        ingest_file(write_acled_csv(rows, tmp_path / "acled.csv"), store)
    yield store, Reads(store, ColumnarMirror())
    store.close()


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    key = ["event_id_cnty"] if "event_id_cnty" in a else list(a.columns)
    a = a.sort_values(key, kind="stable").reset_index(drop=True)
    b = b.sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=True)


SPECS = [
    FilterSpec(),
    FilterSpec(start=dt.date(2018, 1, 1), end=dt.date(2021, 12, 31), event_types=("Protests", "Battles")),
    FilterSpec(actors=("Synthetic actor 1",)),
    FilterSpec(actors=("50% off_the_record \\ actor",)),
    FilterSpec(min_fatalities=2, sub_event_types=("Armed clash",)),
]


@pytest.mark.parametrize("spec", SPECS)
def test_the_copy_reads_and_counts_what_the_store_does(filled, spec):
    store, reads = filled
    for columns in (AGGREGATE_COLUMNS, LEAN_COLUMNS, (*LEAN_COLUMNS, "municipality", "actor1", "assoc_actor_1")):
        _same(reads.read(spec, columns), store.read(spec, columns))
    assert reads.count(spec) == store.count(spec)
    # A proximity read is a superset decided by the bounding box (PostGIS narrows it further with the
    # metric shape; the exact distance is applied after the read either way).
    area = "POLYGON ((470000 4750000, 500000 4750000, 500000 4770000, 470000 4770000, 470000 4750000))"
    near = Proximity(bbox=(20.5, 42.9, 20.8, 43.1), metric_wkt=area, radius_m=0.0)
    got = set(reads.read(spec, ("event_id_cnty",), near)["event_id_cnty"])
    want = set(store.read(spec, ("event_id_cnty",), near)["event_id_cnty"])
    assert want <= got and len(got) == reads.count(spec, near)
    if store.dialect == "sqlite":
        assert got == want
    assert reads.mirror is not None and reads.mirror.rows == store.count()


def test_the_copy_gives_the_filter_choices_of_the_store(filled):
    store, reads = filled
    assert reads.facets() == store.facets()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.none() | st.dates(dt.date(2015, 1, 1), dt.date(2025, 1, 1)),
       days=st.none() | st.integers(0, 3000),
       types=st.lists(st.sampled_from(sorted(EVENT_TYPES)), max_size=2, unique=True),
       fatalities=st.integers(0, 5),
       actors=st.lists(st.sampled_from(["Synthetic actor 1", "Synthetic actor 10", "nobody"]), max_size=2, unique=True))
def test_any_filter_counts_the_same_in_the_copy_and_the_store(filled, start, days, types, fatalities, actors):
    store, reads = filled
    end = start + dt.timedelta(days=days) if start is not None and days is not None else None
    spec = FilterSpec(start=start, end=end, event_types=tuple(types), min_fatalities=fatalities, actors=tuple(actors))
    assert reads.count(spec) == store.count(spec)
    assert len(reads.read(spec, AGGREGATE_COLUMNS)) == store.count(spec)


def test_the_copy_follows_uploads_undo_and_status_changes(filled, tmp_path):
    store, reads = filled
    assert reads.count() == 2_000
    extra = generate(300, seed=99)
    extra["event_id_cnty"] = [f"SYNTH-EXTRA-{i}" for i in range(len(extra))]
    with maintenance():
        upload_id = ingest_file(write_acled_csv(extra, tmp_path / "extra.csv"), store).upload_id
    assert reads.count() == store.count() == 2_300
    _same(reads.read(None, LEAN_COLUMNS), store.read(None, LEAN_COLUMNS))
    assert reads.facets() == store.facets()
    with maintenance():
        store.undo_upload(upload_id)
    assert reads.count() == store.count() == 2_000
    assert not reads.read(None, ("event_id_cnty",))["event_id_cnty"].str.startswith("SYNTH-EXTRA").any()


def test_reads_the_copy_cannot_answer_exactly_go_to_the_store(filled):
    store, reads = filled
    assert not ColumnarMirror.answers(None, None)  # every column: notes are not copied
    assert not ColumnarMirror.answers(None, ("event_id_cnty", "notes"))
    assert not ColumnarMirror.answers(FilterSpec(statuses=("verified",)), ("event_id_cnty",))
    assert not ColumnarMirror.answers(None, ("event_id_cnty",), order=True)
    assert not ColumnarMirror.answers(None, ("event_id_cnty",), uploads=(1,))
    assert ColumnarMirror.answers(None, MIRROR_COLUMNS)
    _same(reads.read(None, None, order=True), store.read(None, None, order=True))
    assert reads.count(FilterSpec(statuses=("verified",))) == store.count(FilterSpec(statuses=("verified",)))


def test_a_copy_is_kept_only_for_large_stores(filled, store_url):
    store, _ = filled
    assert reads_for(store, "small:" + store_url, min_rows=2_001).mirror is None
    large = reads_for(store, "large:" + store_url, min_rows=2_000)
    assert large.mirror is not None
    assert reads_for(store, "large:" + store_url, min_rows=2_000).mirror is large.mirror  # one per store
    for other in ("a", "b"):  # a process that serves other stores keeps only the newest copies
        reads_for(store, other + store_url, min_rows=0)
    assert reads_for(store, "large:" + store_url, min_rows=10**9).mirror is None


def test_the_service_answers_through_the_copy_from_the_configured_size(tmp_path):
    from geodata.service.incidents import IncidentService
    from geodata.settings import get_settings

    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path), "CONFLICTMAP_ANALYTIC_ROWS": "1"})
    with IncidentService(settings) as svc:
        n = svc.count()
        assert svc._reads().mirror is not None
        for spec in (FilterSpec(event_types=("Battles",)), FilterSpec(start=dt.date(2023, 9, 24), end=dt.date(2023, 9, 24)),
                     FilterSpec(actors=("Police Forces of Kosovo (2008-)",)), FilterSpec(statuses=("reported",)), FilterSpec(text="Banjska")):
            assert svc.count(spec) == len(svc.select(spec, ("event_id_cnty",)).incidents) > 0, spec
        assert svc.facets().count == n


def test_a_curation_change_keeps_the_copy_and_an_undo_rebuilds_it(filled, tmp_path):
    """A status change or a duplicate decision leaves the copied rows as they were (no rebuild: at a
    million that is a 3 s read); an undo changes them (rebuilt); answers stay equal to the store's."""
    from geodata.service.curation import seed_bundled_curation

    store, reads = filled
    full_reads = []
    real_read = store.read

    def counting(*args, **kwargs):
        if kwargs.get("uploads") is None:
            full_reads.append(args)
        return real_read(*args, **kwargs)

    store.read = counting
    reads.count()
    built = len(full_reads)
    eid = str(real_read(None, ("event_id_cnty",))["event_id_cnty"].iloc[0])
    with maintenance():
        curation = seed_bundled_curation(store)
        curation.change_status(eid, "disputed", "ana", "two reports differ")
    assert reads.count() == store.count() and len(full_reads) == built  # not rebuilt
    _same(reads.read(FilterSpec(event_types=("Battles",)), LEAN_COLUMNS),
          real_read(FilterSpec(event_types=("Battles",)), LEAN_COLUMNS))
    extra = generate(5, seed=8)
    extra["event_id_cnty"] = [f"SYNTH-LATE-{i}" for i in range(5)]
    with maintenance():
        upload_id = ingest_file(write_acled_csv(extra, tmp_path / "late.csv"), store).upload_id
        curation.change_status(eid, "verified", "ana", "checked")
    assert reads.count() == store.count() == 2_005 and len(full_reads) == built  # appended, not rebuilt
    with maintenance():
        store.undo_upload(upload_id)
    assert reads.count() == store.count() == 2_000 and len(full_reads) == built + 1  # rebuilt


def test_the_copy_is_kept_between_runs_and_only_for_its_own_store(filled, tmp_path):
    """A new process starts from the snapshot (no full read of the store), applies what changed since,
    and never takes a snapshot of another life of the store (same id and step, other rows)."""
    store, _ = filled
    snapshots = tmp_path / "columnar"
    first = ColumnarMirror(snapshots)
    assert first.count(store) == 2_000 and first.saved(timeout=60)
    assert len(list(snapshots.glob("copy-*.parquet"))) == 1

    full_reads = []
    real_read = store.read

    def counting(*args, **kwargs):
        if kwargs.get("uploads") is None and kwargs.get("limit") is None:
            full_reads.append(args)
        return real_read(*args, **kwargs)

    store.read = counting
    extra = generate(7, seed=12)
    extra["event_id_cnty"] = [f"SYNTH-NEXT-{i}" for i in range(7)]
    with maintenance():
        ingest_file(write_acled_csv(extra, tmp_path / "next.csv"), store)
    restarted = Reads(store, ColumnarMirror(snapshots))  # as a new server process would
    assert restarted.count() == 2_007 and full_reads == []  # the snapshot plus the upload's rows
    store.read = real_read
    _same(restarted.read(None, LEAN_COLUMNS), store.read(None, LEAN_COLUMNS))
    assert restarted.facets() == store.facets()

    # Another life of the store (a backup restored, then changed) with the same id and step but other rows.
    for path in snapshots.glob("copy-*.parquet"):
        path.unlink()
    assert ColumnarMirror(snapshots).count(store) == 2_007  # writes a snapshot at the current step
    assert ColumnarMirror(snapshots).saved(timeout=60)
    import duckdb

    (path,) = snapshots.glob("copy-*.parquet")
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_parquet('{path}') LIMIT 100) TO '{path}.tmp' (FORMAT parquet)")
    path.with_name(path.name + ".tmp").replace(path)
    assert ColumnarMirror(snapshots).count(store) == 2_007


def test_a_broken_or_unwritable_snapshot_only_costs_a_read(filled, tmp_path):
    store, _ = filled
    snapshots = tmp_path / "columnar"
    snapshots.mkdir()
    version = store.data_version().replace(":", "-")
    (snapshots / f"copy-{version}.parquet").write_bytes(b"not parquet")
    mirror = ColumnarMirror(snapshots)
    assert mirror.count(store) == 2_000 and mirror.saved(timeout=60)
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("x")
    other = ColumnarMirror(blocked / "columnar")
    assert other.count(store) == 2_000 and other.saved(timeout=60)
    assert blocked.read_text() == "x"


def test_a_small_store_is_counted_once_per_data_version(filled, store_url, tmp_path):
    """Every service call asks whether to use a copy: a store below the size is counted once per data
    version (a dashboard rerun makes several calls), and again after a change."""
    store, _ = filled
    counts = []
    real_count = store.count

    def counting(*args, **kwargs):
        counts.append(args)
        return real_count(*args, **kwargs)

    store.count = counting
    key = "small-once:" + store_url
    for _ in range(5):
        assert reads_for(store, key, min_rows=10**6).mirror is None
    assert len(counts) == 1
    extra = generate(3, seed=21)
    extra["event_id_cnty"] = [f"SYNTH-ONCE-{i}" for i in range(3)]
    with maintenance():
        ingest_file(write_acled_csv(extra, tmp_path / "once.csv"), store)
    assert reads_for(store, key, min_rows=10**6).mirror is None and len(counts) == 2
