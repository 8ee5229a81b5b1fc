"""Sources, verification statuses, duplicate suggestions and decisions: the pure-Python domain (no store)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from geodata.curation.joined import Curation, annotate, for_export, sources_text
from geodata.curation.duplicates import (
    DecisionLog,
    DuplicateError,
    apply_merges,
    notes_similarity,
    suggest_duplicates,
)
from geodata.ingest.bundled import load_bundled_incidents
from geodata.curation.sources import (
    Source,
    independent_outlets,
    parse_sources,
    read_sources_file,
)
from geodata.curation.verification import (
    VerificationError,
    VerificationLog,
    check_transition,
    parse_verification,
)

FIX = Path(__file__).resolve().parent / "data" / "analyst"
WHEN = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def bundled():
    return load_bundled_incidents()


def test_sources_file_loads_and_bad_rows_are_reported_with_line_column_reason(bundled):
    ids = set(bundled["event_id_cnty"])
    good = read_sources_file(FIX / "incident_sources.csv", ids)
    assert good.errors == [] and len(good.sources) == 5
    assert good.sources.iloc[0]["published"] == dt.date(2023, 9, 24)
    raw = pd.DataFrame([
        ["CM-XKX-0024", "https://kossev.info/a", "KoSSev", "2023-09-24", "en", ""],
        ["CM-XKX-0024", "javascript:alert(1)", "X", "", "", ""],
        ["CM-XKX-9999", "https://example.org/", "Y", "", "", ""],
        ["CM-XKX-0025", "https://efe.com/b", "EFE", "24/09/2023", "english", "ftp://archive"],
        ["CM-XKX-0024", "https://kossev.info/a", "KoSSev", "", "", ""],
    ], columns=["event_id_cnty", "url", "outlet", "published", "language", "archive_url"])
    res = parse_sources(raw, ids)
    assert len(res.sources) == 1
    got = {(e.line, e.column) for e in res.errors}
    assert got == {(3, "url"), (4, "event_id_cnty"), (5, "published"), (5, "language"), (5, "archive_url"), (6, "url")}
    assert all(e.reason for e in res.errors)


def test_independent_outlets_groups_same_outlet_or_same_site():
    s = [Source("X", "https://kossev.info/a", "KoSSev"), Source("X", "https://www.kossev.info/b", "Kossev TV"),
         Source("X", "https://efe.com/c", "EFE")]
    assert independent_outlets(s) == 2
    assert independent_outlets(s[:1]) == 1
    # One wire story under two names on one site is still one source.
    wire = [Source("X", "https://voanews.com/a", "Voice of America (Reuters)"), Source("X", "https://voanews.com/b", "VOA")]
    assert independent_outlets(wire) == 1


def test_status_changes_are_checked_recorded_and_undoable():
    log = VerificationLog()
    with pytest.raises(VerificationError, match="two or more independent"):
        log.change("CM-XKX-0024", "corroborated", "ana", "two outlets", outlets=1)
    c1 = log.change("CM-XKX-0024", "corroborated", "ana", "KoSSev and EFE", outlets=2, at=WHEN)
    c2 = log.change("CM-XKX-0024", "disputed", "ben", "figures differ", at=WHEN)
    assert (c1.old_status, c1.new_status, c1.who, c1.why, c1.at) == ("reported", "corroborated", "ana", "KoSSev and EFE", WHEN)
    assert log.status("CM-XKX-0024") == "disputed"
    with pytest.raises(VerificationError, match="required"):
        log.change("CM-XKX-0024", "verified", "ana", "  ")
    with pytest.raises(VerificationError, match="cannot become"):
        check_transition("retracted", "verified")
    u = log.undo("CM-XKX-0024", "ana", "mistake")
    assert u.undoes == c2.change_id and log.status("CM-XKX-0024") == "corroborated"
    # History only grows: three entries, the first two unchanged.
    assert [c.change_id for c in log.history("CM-XKX-0024")] == [1, 2, 3]
    assert log.changes[1] == c2
    log.undo("CM-XKX-0024", "ana")  # undoes c1 (c2 is already undone)
    assert log.status("CM-XKX-0024") == "reported"
    with pytest.raises(VerificationError):
        log.undo("CM-XKX-0001", "ana")


def test_verification_table_validation():
    raw = pd.DataFrame({"event_id_cnty": ["CM-XKX-0028", "CM-XKX-0028", "CM-XKX-0001"],
                        "status": ["disputed", "verified", "sure"], "reason": ["counts differ", "x", ""]})
    valid, issues = parse_verification(raw, {"CM-XKX-0028", "CM-XKX-0001"})
    assert list(valid["event_id_cnty"]) == ["CM-XKX-0028"]
    assert {(i.line, i.column) for i in issues} == {(3, "event_id_cnty"), (4, "status")}


def test_duplicate_suggestions_across_datasets(bundled):
    # The same real event from two datasets: CM-XKX-0024 as an "upload" with shifted coordinates
    # (1 km) and a date one day later must be suggested; an unrelated row must not.
    base = bundled.copy()
    twin = base[base["event_id_cnty"] == "CM-XKX-0024"].copy()
    twin["event_id_cnty"] = "ACLED-1"
    twin["origin"] = "upload:7"
    twin["event_date"] = twin["event_date"] + pd.Timedelta(days=1)
    twin = twin.set_geometry(twin.geometry.translate(xoff=0.0124))  # ≈ 1.0 km east at 43° N
    both = pd.concat([base, twin], ignore_index=True)
    sug = suggest_duplicates(both)
    pairs = {(r.a, r.b): r for r in sug.itertuples()}
    assert ("ACLED-1", "CM-XKX-0024") in pairs
    hit = pairs[("ACLED-1", "CM-XKX-0024")]
    assert "1 day apart" in hit.reasons and "shared actors" in hit.reasons and 0.9 < hit.km_apart < 1.1
    # Only cross-dataset pairs: no bundled/bundled pair, even Banjska's same-day rows.
    assert all("ACLED-1" in (r.a, r.b) for r in sug.itertuples())
    assert not suggest_duplicates(base).shape[0]
    assert suggest_duplicates(base, across_datasets=False).shape[0] > 0
    # A decided pair is not suggested again.
    again = suggest_duplicates(both, exclude={frozenset(("ACLED-1", "CM-XKX-0024"))})
    assert ("ACLED-1", "CM-XKX-0024") not in {(r.a, r.b) for r in again.itertuples()}


def test_notes_similarity():
    assert notes_similarity("Armed men attacked a police patrol near Banjska", "police patrol attacked near Banjska") == 1.0
    assert notes_similarity("barricades", "weapons seized") == 0.0


def test_confirm_merges_sources_and_keeps_aliases_undo_restores(bundled):
    log = DecisionLog()
    ids = set(bundled["event_id_cnty"])
    d = log.decide("confirm", "CM-XKX-0034", "CM-XKX-0035", "ana", "same report", known_ids=ids)
    with pytest.raises(DuplicateError, match="already"):
        log.decide("dismiss", "CM-XKX-0035", "CM-XKX-0034", "ana", "x", known_ids=ids)
    with pytest.raises(DuplicateError, match="unknown"):
        log.decide("dismiss", "CM-XKX-0034", "NOPE", "ana", "x", known_ids=ids)
    sources = read_sources_file(FIX / "incident_sources.csv").sources
    extra = pd.DataFrame([{"event_id_cnty": "CM-XKX-0035", "url": "https://example.org/only-35", "outlet": "Z",
                           "published": None, "language": "", "archive_url": ""}])
    merged_inc, merged_src = apply_merges(bundled, pd.concat([sources, extra], ignore_index=True), log.aliases())
    assert "CM-XKX-0035" not in set(merged_inc["event_id_cnty"])
    row = merged_inc[merged_inc["event_id_cnty"] == "CM-XKX-0034"].iloc[0]
    assert row["aliases"] == "CM-XKX-0035"
    kept = merged_src[merged_src["event_id_cnty"] == "CM-XKX-0034"]
    assert sorted(kept["url"]) == ["https://example.org/only-35", "https://voanews.com/a/7882675.html"]
    u = log.undo(d.decision_id, "ana", "not the same")
    assert log.aliases() == {} and u.undoes == d.decision_id
    log.undo(u.decision_id, "ana", "it was the same after all")  # undo the undo: merged again
    assert log.aliases() == {"CM-XKX-0035": "CM-XKX-0034"}
    assert [x.action for x in log.decisions] == ["confirm", "undo", "undo"]


def test_annotate_and_export_shapes(bundled):
    cur = Curation(sources=read_sources_file(FIX / "incident_sources.csv").sources,
                   statuses={"CM-XKX-0028": "disputed"}, reasons={"CM-XKX-0028": "counts differ"})
    from geodata.curation.sequences import load_bundled_sequences
    cur = Curation(cur.sources, cur.statuses, cur.reasons, load_bundled_sequences(FIX / "sequences.csv"))
    out = annotate(bundled, cur).set_index("event_id_cnty")
    assert out.loc["CM-XKX-0028", "verification_status"] == "disputed"
    assert out.loc["CM-XKX-0001", "verification_status"] == "reported"
    assert out.loc["CM-XKX-0024", "source_count"] == 2
    # No listed sources: the incident's own source_url is its one source.
    assert out.loc["CM-XKX-0001", "sources"][0]["url"].startswith("https://prishtinainsight.com/")
    assert (out.loc["CM-XKX-0027", "sequence"], out.loc["CM-XKX-0027", "sequence_step"]) == ("Banjska attack, 24 Sep 2023", 3)
    assert out.loc["CM-XKX-0001", "sequence_step"] == 0
    csv = for_export(out.reset_index(), "csv")
    assert "KoSSev (2023-09-24, en) <https://kossev.info/" in csv.set_index("event_id_cnty").loc["CM-XKX-0024", "sources"]
    gpkg = for_export(out.reset_index(), "gpkg")
    assert len(json.loads(gpkg.set_index("event_id_cnty").loc["CM-XKX-0024", "sources"])) == 2
    assert sources_text([]) == ""


def test_bundled_curation_files_are_entirely_valid(bundled, caplog):
    """The bundled curation files load without a single bad row."""
    from geodata.curation.sequences import BUNDLED_SEQUENCES, parse_sequences
    from geodata.curation.sources import BUNDLED_SOURCES
    from geodata.curation.verification import BUNDLED_VERIFICATION

    def read(path):
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")

    ids = set(bundled["event_id_cnty"])
    res = read_sources_file(BUNDLED_SOURCES, ids)
    assert res.errors == [] and len(res.sources) >= len(ids)
    assert parse_verification(read(BUNDLED_VERIFICATION), ids)[1] == []
    seqs, issues = parse_sequences(read(BUNDLED_SEQUENCES), ids)
    assert issues == [] and len(seqs) >= 5
    from geodata.curation.joined import bundled_curation

    cur = bundled_curation()
    assert len(cur.sources) >= len(ids) and len(cur.sequences) >= 5
    assert "rows left out" not in caplog.text


def test_bundled_loader_keeps_good_rows_and_logs_bad_ones(tmp_path, caplog):
    from geodata.curation.sources import load_bundled_sources

    f = tmp_path / "incident_sources.csv"
    f.write_text("event_id_cnty,url,outlet,published,language,archive_url\n"
                 "CM-XKX-0001,https://prishtinainsight.com/a,Prishtina Insight,,en,\n"
                 "CM-XKX-0001,https://example.org/it's,X,,en,\n", encoding="utf-8")
    got = load_bundled_sources(f)
    assert list(got["url"]) == ["https://prishtinainsight.com/a"]
    assert "line 3 url: not an http(s) URL" in caplog.text


def test_steps_of_one_sequence_are_never_suggested_as_duplicates():
    import geopandas as gpd

    from geodata.curation.duplicates import sequence_pairs, suggest_duplicates

    rows = pd.DataFrame({"event_id_cnty": ["A-1", "A-2", "A-3"], "event_date": ["2023-09-24"] * 3,
                         "latitude": [42.9733, 42.9714, 42.9720], "longitude": [20.7808, 20.7825, 20.7810],
                         "actor1": ["Police"] * 3, "notes": ["armed clash at Banjska"] * 3})
    gdf = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows.longitude, rows.latitude), crs="EPSG:4326")
    every = suggest_duplicates(gdf, across_datasets=False)
    assert len(every) == 3
    seq = suggest_duplicates(gdf, across_datasets=False, sequences=[["A-1", "A-2", "A-1"]])
    assert {frozenset((r.a, r.b)) for r in seq.itertuples()} == {frozenset(("A-1", "A-3")), frozenset(("A-2", "A-3"))}
    assert sequence_pairs([["x", "y", "z"]]) == {frozenset(p) for p in (("x", "y"), ("x", "z"), ("y", "z"))}
