"""The analyst tables (migration 6) on SQLite and PostGIS, and the upgrade of a previous-release store (schema 2)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from geodata.curation.joined import annotate
from geodata.curation.duplicates import DuplicateError
from geodata.ingest.bundled import read_incident_table
from geodata.model.schema import INCIDENT_COLUMNS
from geodata.curation.sequences import load_bundled_sequences
from geodata.settings import BUNDLED_DIR
from geodata.curation.sources import read_sources_file
from geodata.store import StoreError, open_store
from geodata.store.curation_sql import CurationStore
from geodata.store.migrations import MIGRATIONS
from geodata.store.records import UploadMeta, row_columns
from geodata.curation.verification import VerificationError, load_bundled_verification

FIX = Path(__file__).resolve().parent / "data" / "analyst"


@pytest.fixture(scope="module")
def bundled_valid():
    return read_incident_table(BUNDLED_DIR / "incidents.csv").valid


def _filled(url, valid):
    store = open_store(url)
    store.add_upload(valid, UploadMeta("incidents.csv", "x" * 64, "acled", len(valid), 0, 0))
    return store


def _seed_fixtures(cs: CurationStore) -> None:
    cs.seed_bundled(read_sources_file(FIX / "incident_sources.csv").sources,
                    load_bundled_verification(FIX / "verification.csv"),
                    load_bundled_sequences(FIX / "sequences.csv"), "fixture-1")


def test_curation_round_trip_both_backends(store_url, bundled_valid):
    store = _filled(store_url, bundled_valid)
    cs = CurationStore(store)
    v0 = store.data_version()
    _seed_fixtures(cs)
    assert store.data_version() != v0
    assert not cs.seed_bundled(pd.DataFrame(), pd.DataFrame(), [], "fixture-1")  # once per version
    # Seeded: sources, statuses (by the bundled-data "who"), sequences.
    assert len(cs.sources(["CM-XKX-0024"])) == 2
    # A source without a publication date or archive reads back as None / "".
    cs.add_sources(pd.DataFrame([{"event_id_cnty": "CM-XKX-0001", "url": "https://example.org/undated", "outlet": "X",
                                  "published": None, "language": "", "archive_url": ""}]))
    undated = cs.sources(["CM-XKX-0001"]).iloc[0]
    assert undated["published"] is None and undated["archive_url"] == "" and len(cs.curation().sources) == 6
    assert cs.status("CM-XKX-0028") == "disputed" and cs.status("CM-XKX-0001") == "reported"
    assert [q.sequence_id for q in cs.sequences()] == ["banjska-2023", "canal-2024"]
    assert cs.sequences()[0].event_ids == ("CM-XKX-0024", "CM-XKX-0025", "CM-XKX-0027", "CM-XKX-0026")
    # Status change with who/why, checked against the sources; then undo.
    with pytest.raises(VerificationError, match="independent"):
        cs.change_status("CM-XKX-0034", "corroborated", "ana", "two reports")  # one outlet (VOA)
    with pytest.raises(VerificationError, match="no incident"):
        cs.change_status("CM-XKX-9999", "verified", "ana", "x")
    c = cs.change_status("CM-XKX-0028", "verified", "ana", "checked police statement of 15 May")
    assert (c.old_status, c.new_status, c.who) == ("disputed", "verified", "ana")
    assert cs.status("CM-XKX-0028") == "verified"
    u = cs.undo_status("CM-XKX-0028", "ben", "too early")
    assert u.undoes == c.change_id and cs.status("CM-XKX-0028") == "disputed"
    assert [h.new_status for h in cs.history("CM-XKX-0028")] == ["disputed", "verified", "disputed"]
    # The history refuses to be rewritten, whoever tries.
    with pytest.raises(StoreError, match="append-only"), store._write("tamper") as cur:
        cur.execute("DELETE FROM verification_history")
    assert len(cs.history("CM-XKX-0028")) == 3
    # A bundled status that changes later does not overwrite an analyst's decision.
    changed = load_bundled_verification(FIX / "verification.csv").assign(status="retracted", reason="r")
    cs.seed_bundled(pd.DataFrame(columns=["event_id_cnty", "url", "outlet", "published", "language", "archive_url"]),
                    changed, [], "fixture-2")
    assert cs.status("CM-XKX-0028") == "disputed"  # last changed by an analyst (ben's undo): kept
    assert cs.status("CM-XKX-0024") == "retracted"  # only ever set by the bundled data: follows it
    store.close()


def test_merge_confirm_dismiss_undo_in_store(store_url, bundled_valid):
    store = _filled(store_url, bundled_valid)
    cs = CurationStore(store)
    _seed_fixtures(cs)
    d = cs.decide("confirm", "CM-XKX-0034", "CM-XKX-0035", "ana", "same Reuters report")
    assert cs.aliases() == {"CM-XKX-0035": "CM-XKX-0034"}
    with pytest.raises(DuplicateError):
        cs.decide("dismiss", "CM-XKX-0035", "CM-XKX-0034", "ana", "x")
    dis = cs.decide("dismiss", "CM-XKX-0024", "CM-XKX-0025", "ana", "ambush and shootout are two events")
    inc = store.read()
    ann = annotate(inc, cs.curation())
    assert "CM-XKX-0035" not in set(ann["event_id_cnty"])
    assert ann.set_index("event_id_cnty").loc["CM-XKX-0034", "aliases"] == "CM-XKX-0035"
    cs.undo_decision(d.decision_id, "ben", "different events")
    assert cs.aliases() == {}
    assert [x.action for x in cs.decisions().decisions] == ["confirm", "dismiss", "undo"]
    assert cs.decisions().decided_pairs() == {frozenset(("CM-XKX-0024", "CM-XKX-0025"))}
    cs.undo_decision(dis.decision_id, "ben", "reconsider")
    assert cs.decisions().decided_pairs() == set()
    store.close()


def _release_2_sqlite(path: Path, valid: pd.DataFrame) -> None:
    """A store as the previous release (schema 2) left it: its two migrations and one upload."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)")
    for m in MIGRATIONS:
        if m.version <= 2:
            for stmt in m.sqlite:
                conn.execute(stmt)
            conn.execute("INSERT INTO schema_version VALUES (?, ?, '2026-11-01T00:00:00+00:00')", (m.version, m.description))
    conn.execute("INSERT INTO uploads (file_name, sha256, format, uploaded_at, rows_read, accepted) "
                 "VALUES ('incidents.csv', 'abc', 'acled', '2026-11-01T00:00:00+00:00', ?, ?)", (len(valid), len(valid)))
    cols = row_columns(valid)[: 2 + len(INCIDENT_COLUMNS)]
    names = ("upload_id", "dedup_key", "source_line") + INCIDENT_COLUMNS
    conn.executemany(f"INSERT INTO incidents ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                     [(1, *r) for r in zip(*cols)])
    conn.close()


def _release_2_postgres(url: str, valid: pd.DataFrame) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
                     "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        for m in MIGRATIONS:
            if m.version <= 2:
                for stmt in m.postgres:
                    conn.execute(stmt)
                conn.execute("INSERT INTO schema_version (version, description) VALUES (%s, %s)", (m.version, m.description))
        conn.execute("INSERT INTO uploads (file_name, sha256, format, uploaded_at, rows_read, accepted) "
                     "VALUES ('incidents.csv', 'abc', 'acled', now(), %s, %s)", (len(valid), len(valid)))
        cols = row_columns(valid)[: 2 + len(INCIDENT_COLUMNS)]
        names = ("upload_id", "dedup_key", "source_line") + INCIDENT_COLUMNS
        marks = ", ".join(["%s"] * len(names))
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO incidents ({', '.join(names)}, geom) VALUES ({marks}, "
                            "ST_SetSRID(ST_MakePoint(%s, %s), 4326))",
                            [(1, *r, r[names.index("longitude") - 1], r[names.index("latitude") - 1]) for r in zip(*cols)])


def test_previous_release_store_upgrades_in_place_and_loses_nothing(store_url, bundled_valid, tmp_path):
    if store_url.startswith("sqlite"):
        _release_2_sqlite(Path(store_url[len("sqlite:///"):]), bundled_valid)
    else:
        _release_2_postgres(store_url, bundled_valid)
    store = open_store(store_url)
    assert {1, 2, 6} <= store.applied_versions()
    before = bundled_valid.sort_values("event_id_cnty").reset_index(drop=True)
    after = store.read().sort_values("event_id_cnty").reset_index(drop=True)
    assert len(after) == len(before) and len(before) >= 37
    for col in ("event_id_cnty", "notes", "actor1", "source_url", "location"):
        assert after[col].astype(str).tolist() == before[col].astype(str).tolist(), col
    assert after["fatalities"].astype(int).tolist() == before["fatalities"].astype(int).tolist()
    assert (after["latitude"].round(6) == before["latitude"].astype(float).round(6)).all()
    uploads = store.list_uploads()
    assert uploads["file_name"].tolist() == ["incidents.csv"] and int(uploads["accepted"].iloc[0]) == len(before)
    # The new tables work on the upgraded store.
    cs = CurationStore(store)
    _seed_fixtures(cs)
    cs.change_status("CM-XKX-0012", "disputed", "ana", "shots near KFOR patrol, no return fire")
    assert cs.status("CM-XKX-0012") == "disputed"
    store.close()
    reopened = open_store(store_url)
    assert reopened.count() == len(before) and CurationStore(reopened).status("CM-XKX-0012") == "disputed"
    reopened.close()


def test_status_filter_is_evaluated_in_the_store(store_url, bundled_valid):
    from geodata.model.filters import FilterSpec, filter_mask

    store = _filled(store_url, bundled_valid)
    cs = CurationStore(store)
    _seed_fixtures(cs)  # 0024 corroborated, 0028 disputed
    cs.change_status("CM-XKX-0012", "disputed", "ana", "no return fire")
    got = store.read(FilterSpec(statuses=("disputed",)))
    assert sorted(got["event_id_cnty"]) == ["CM-XKX-0012", "CM-XKX-0028"]
    assert "incident_status" in store.last_query
    assert store.count(FilterSpec(statuses=("reported",))) == len(bundled_valid) - 3
    battles = set(bundled_valid.loc[bundled_valid["event_type"] == "Battles", "event_id_cnty"])
    assert store.count(FilterSpec(statuses=("corroborated", "disputed"), event_types=("Battles",))) == len(
        {"CM-XKX-0012", "CM-XKX-0024", "CM-XKX-0028"} & battles) > 0
    # The same selection in memory, from the annotated frame, and through the URL.
    spec = FilterSpec.from_mapping({"status": ["disputed"]})
    assert spec.statuses == ("disputed",) and spec.to_query_params() == {"status": ["disputed"]}
    ann = annotate(store.read(), cs.curation())
    assert sorted(ann[filter_mask(ann, spec)]["event_id_cnty"]) == ["CM-XKX-0012", "CM-XKX-0028"]
    store.close()


def test_bundled_curation_is_seeded_once_whatever_is_bundled(tmp_path, bundled_valid):
    """The real bundled files (when present) land in the store exactly; reopening seeds nothing twice."""
    from geodata.curation.sequences import load_bundled_sequences as sequences
    from geodata.curation.sources import load_bundled_sources
    from geodata.store.curation_sql import open_curation

    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    store = _filled(url, bundled_valid)
    cs = open_curation(store)
    files = load_bundled_sources()
    assert len(cs.sources()) == len(files.drop_duplicates(["event_id_cnty", "url"]))
    expected = {r.event_id_cnty: r.status for r in load_bundled_verification().itertuples() if r.status != "reported"}
    assert {k: v[0] for k, v in cs.statuses().items()} == expected
    assert [q.event_ids for q in cs.sequences()] == [q.event_ids for q in sorted(sequences(), key=lambda q: q.sequence_id)]
    n = len(cs.history())
    version = store.data_version()
    open_curation(store)
    assert len(cs.history()) == n and store.data_version() == version
    store.close()


def test_a_merge_cycle_is_refused_and_nothing_vanishes(store_url, bundled_valid):
    """A←B, B←C, then C←A would make a cycle in which all three vanish (issue 18, row 7)."""
    store = _filled(store_url, bundled_valid)
    cs = CurationStore(store)
    a, b, c = "CM-XKX-0001", "CM-XKX-0002", "CM-XKX-0003"
    cs.decide("confirm", a, b, "ana", "same")
    cs.decide("confirm", b, c, "ana", "same")
    with pytest.raises(DuplicateError, match="cycle"):
        cs.decide("confirm", c, a, "ana", "same")
    assert cs.aliases() == {b: a, c: a}
    ann = annotate(store.read(), cs.curation())
    assert a in set(ann["event_id_cnty"])
    store.close()
