"""Bundled data is real and sourced: every incident and site links to a public report."""

import csv
import json
import re
from datetime import date

import pandas as pd
import pytest

from geodata.ingest.bundled import load_bundled_incidents
from geodata.geo.routes import load_routes
from geodata.settings import BUNDLED_DIR
from geodata.geo.sites import load_sites


def test_every_incident_has_an_http_source_url_and_a_source():
    inc = load_bundled_incidents()
    assert len(inc) == len(_read("incidents.csv")) >= 25  # the loader keeps every row of the file
    assert inc["source_url"].str.match(r"^https?://\S+$").all()
    assert inc["source"].str.len().gt(0).all()
    assert inc["event_id_cnty"].is_unique


def test_incidents_span_2021_to_2025_in_the_four_northern_municipalities():
    inc = load_bundled_incidents()
    years = set(pd.to_datetime(inc["event_date"]).dt.year)
    assert {2021, 2022, 2023, 2024}.issubset(years) and max(years) <= 2025
    assert {"North Mitrovica", "Zveçan", "Zubin Potok", "Leposaviq"}.issubset(set(inc["admin2"]))


def test_banjska_attack_is_a_sequence_of_events():
    inc = load_bundled_incidents()
    banjska = inc[(inc["event_date"] == pd.Timestamp("2023-09-24"))]
    subs = set(banjska["sub_event_type"])
    assert "Armed clash" in subs and "Disrupted weapons use" in subs
    assert banjska["location"].str.contains("Banjska").sum() >= 3
    assert banjska["fatalities"].sum() >= 4


def test_key_episodes_are_present():
    inc = load_bundled_incidents()
    dates = set(inc["event_date"].dt.strftime("%Y-%m-%d"))
    assert {"2023-05-29", "2024-11-29"}.issubset(dates)
    assert inc["location"].str.contains("Jarinje").any()
    # Varage has no sourced coordinates: the row is placed on Zubin Potok town and names the village in its notes.
    canal = inc.loc[inc["event_date"] == pd.Timestamp("2024-11-29")]
    assert canal["notes"].str.contains("Varage").any() and set(canal["geo_precision"]) == {2}


def test_sites_include_required_monasteries_with_three_names():
    sites = load_sites()
    assert len(sites) >= 10
    names = " ".join(sites["name_en"])
    for needed in ("Banjska", "Sokolica", "Dečani", "Peć", "Gračanica", "Devič", "Ljeviš"):
        assert needed in names, needed
    assert sites[["name_en", "name_sq", "name_sr"]].apply(lambda c: c.str.len().gt(0)).all().all()
    assert sites["source_url"].str.startswith("https://").all()
    assert sites["unesco_status"].str.contains("World Heritage").sum() == 4


def test_routes_are_marked_illustrative_in_the_data_itself():
    path = BUNDLED_DIR / "patrol_routes.geojson"
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw.get("illustrative") is True
    assert all(f["properties"]["illustrative"] is True for f in raw["features"])
    routes = load_routes(path)
    assert len(routes) >= 3 and routes["illustrative"].all()
    assert set(routes.geom_type) == {"LineString"}


def test_users_own_routes_file_replaces_the_bundled_one(tmp_path, monkeypatch):
    """CONFLICTMAP_ROUTES names a GeoPackage of the user's routes; every consumer then uses it."""
    import geopandas as gpd
    from shapely.geometry import LineString

    from tests.bundle import load_bundle
    from geodata.settings import get_settings

    own = gpd.GeoDataFrame({"name": ["My route"]}, geometry=[LineString([(20.86, 42.89), (20.84, 42.91)])], crs="EPSG:4326")
    path = tmp_path / "routes.gpkg"
    own.to_file(path, driver="GPKG")
    monkeypatch.setenv("CONFLICTMAP_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CONFLICTMAP_ROUTES", str(path))
    bundle = load_bundle(get_settings())
    assert list(bundle.routes["name"]) == ["My route"]
    assert not bundle.routes_illustrative  # a user's file is not labelled illustrative unless it says so
    assert set(bundle.incidents["nearest_route"]) == {"My route"}


# --- Sources per incident, verification status and sequences (issue 13) -------------------------------------

SOURCE_COLUMNS = ["event_id_cnty", "url", "outlet", "published", "language", "archive_url"]
VERIFICATION_COLUMNS = ["event_id_cnty", "status", "reason"]
SEQUENCE_COLUMNS = ["sequence_id", "sequence_name", "step", "event_id_cnty", "relation", "summary"]
STATUSES = {"reported", "corroborated", "verified", "disputed", "retracted"}
RELATIONS = {"start", "followed_by", "led_to", "response_to", "part_of"}
HTTP = re.compile(r"^https?://\S+$", re.IGNORECASE)


def _read(name: str) -> list[dict[str, str]]:
    """Rows of a bundled CSV as plain dicts (read with the csv module, independent of the project's loaders)."""
    with open(BUNDLED_DIR / name, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _header(name: str) -> list[str]:
    with open(BUNDLED_DIR / name, newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


@pytest.fixture(scope="module")
def incident_ids() -> list[str]:
    return [r["event_id_cnty"] for r in _read("incidents.csv")]


def test_incident_ids_follow_the_scheme_without_gaps(incident_ids):
    numbers = sorted(int(i.removeprefix("CM-XKX-")) for i in incident_ids if re.fullmatch(r"CM-XKX-\d{4}", i))
    assert len(numbers) == len(incident_ids) and numbers == list(range(1, len(numbers) + 1))


def test_every_incident_has_its_own_source_among_several_well_formed_sources(incident_ids):
    assert _header("incident_sources.csv") == SOURCE_COLUMNS
    rows = _read("incident_sources.csv")
    by_id: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_id.setdefault(r["event_id_cnty"], []).append(r)
    assert set(by_id) == set(incident_ids)  # every incident has a row, and no row names an unknown incident
    own = {r["event_id_cnty"]: r["source_url"] for r in _read("incidents.csv")}
    for eid, srcs in by_id.items():
        assert own[eid] in {s["url"] for s in srcs}, eid
        assert len({s["url"] for s in srcs}) == len(srcs), f"duplicate source for {eid}"
    for r in rows:
        assert HTTP.match(r["url"]) and r["outlet"].strip(), r
        assert r["archive_url"] == "" or HTTP.match(r["archive_url"]), r
        assert re.fullmatch(r"[a-z]{2}", r["language"]), r
        if r["published"]:
            assert date.fromisoformat(r["published"]).isoformat() == r["published"], r
    assert sum(len(s) > 1 for s in by_id.values()) >= len(by_id) // 2  # most incidents have further reports


def test_every_incident_has_exactly_one_verification_status_and_disputes_say_why(incident_ids):
    assert _header("verification.csv") == VERIFICATION_COLUMNS
    rows = _read("verification.csv")
    assert sorted(r["event_id_cnty"] for r in rows) == sorted(incident_ids)
    assert {r["status"] for r in rows} <= STATUSES
    assert not [r for r in rows if r["status"] == "verified"]  # verifying is an analyst's act, not bundled data
    for r in rows:
        if r["status"] in ("disputed", "retracted"):
            assert len(r["reason"].strip()) >= 20, r
    sources = _read("incident_sources.csv")
    for r in rows:
        if r["status"] == "corroborated":  # two or more sources, by definition
            assert sum(s["event_id_cnty"] == r["event_id_cnty"] for s in sources) >= 2, r


def test_sequences_reference_existing_incidents_with_consecutive_steps(incident_ids):
    assert _header("sequences.csv") == SEQUENCE_COLUMNS
    rows = _read("sequences.csv")
    assert {r["event_id_cnty"] for r in rows} <= set(incident_ids)
    assert {r["relation"] for r in rows} <= RELATIONS
    by_seq: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_seq.setdefault(r["sequence_id"], []).append(r)
    assert len(by_seq) >= 5
    for sid, steps in by_seq.items():
        assert [int(s["step"]) for s in steps] == list(range(1, len(steps) + 1)), sid
        assert len({s["sequence_name"] for s in steps}) == 1 and steps[0]["sequence_name"].strip()
        assert [s["relation"] == "start" for s in steps] == [True] + [False] * (len(steps) - 1), sid
        assert all(s["summary"].strip() for s in steps)
        assert len({s["event_id_cnty"] for s in steps}) == len(steps), sid


def test_banjska_sequence_runs_ambush_monastery_arrests_seizure():
    inc = load_bundled_incidents().set_index("event_id_cnty")
    seq = [r for r in _read("sequences.csv") if r["sequence_name"].startswith("Banjska attack")]
    kinds = [inc.loc[r["event_id_cnty"], "sub_event_type"] for r in seq]
    assert kinds == ["Armed clash", "Armed clash", "Arrests", "Disrupted weapons use"]
    assert "Monastery" in inc.loc[seq[1]["event_id_cnty"], "location"]
    names = {r["sequence_name"] for r in _read("sequences.csv")}
    for needed in ("licence-plate", "December 2022", "May 2023", "canal"):
        assert any(needed in n for n in names), needed


def test_a_point_at_exact_precision_names_one_place():
    """geo_precision 1 means the point is the named place's own: one point, one place name."""
    places: dict[tuple[str, str], set[str]] = {}
    for r in _read("incidents.csv"):
        if r["geo_precision"] == "1":
            places.setdefault((r["latitude"], r["longitude"]), set()).add(r["location"])
    assert places and all(len(names) == 1 for names in places.values()), places


def test_fact_check_corrections_stay_in_the_data():
    inc = load_bundled_incidents().set_index("event_id_cnty")
    status = {r["event_id_cnty"]: r["status"] for r in _read("verification.csv")}
    mill = inc.loc["CM-XKX-0037", "notes"]
    assert "chest pieces (vests or rigs) for carrying weapons" in mill and "mistranslation" in mill
    assert status["CM-XKX-0037"] == "reported"  # two outlets relaying one police statement
    assert inc.loc["CM-XKX-0012", "event_type"] != "Battles" and status["CM-XKX-0012"] == "disputed"
    closures = inc[(inc["event_date"] == pd.Timestamp("2024-08-30"))]
    assert set(closures["admin2"]) == {"North Mitrovica", "Zubin Potok", "Leposaviq", "Zveçan"}
    assert not inc["source_url"].str.contains("wikipedia.org").any()  # no incident rests on Wikipedia alone


def test_issue_18_fact_check_corrections_stay_in_the_data():
    """The second fact-check (issue 18): each correction, as geodata/data/SOURCES.md logs it."""
    inc = load_bundled_incidents().set_index("event_id_cnty")
    status = {r["event_id_cnty"]: r["status"] for r in _read("verification.csv")}
    sources = _read("incident_sources.csv")
    seizure = inc.loc["CM-XKX-0026", "notes"]
    assert "29 loaded hand-held rocket launchers" in seizure and "29 mortars'" in seizure  # named as the mistranslation
    assert "one armoured vehicle was shown on 25 September" in seizure and "26 September" in seizure
    assert "no report found supports" not in seizure and "Monday 25 September" in seizure
    cache = inc.loc["CM-XKX-0028", "notes"]
    assert "RFE/RL (28 May 2024)" in cache and "no longer part of this row" in cache
    assert status["CM-XKX-0028"] == "corroborated"
    assert not [r for r in sources if r["event_id_cnty"] == "CM-XKX-0028"
                and ("usmuslims.com" in r["url"] or "koha.net" in r["url"])]
    assert "stun grenades in central Leposavic" in inc.loc["CM-XKX-0017", "notes"]
    assert (inc.loc["CM-XKX-0040", "event_type"], inc.loc["CM-XKX-0040", "sub_event_type"]) == (
        "Protests", "Protest with intervention")
    assert not [r for r in sources if "fakti.bg" in r["url"]]
    steps = {(r["sequence_id"], r["event_id_cnty"]): r for r in _read("sequences.csv")}
    arrest = steps[("SEQ-003", "CM-XKX-0021")]
    assert arrest["relation"] != "response_to" and "step 4" in arrest["summary"]


def test_the_sources_log_lists_each_incident_as_the_data_holds_it():
    """geodata/data/SOURCES.md's table of incident sources names each bundled incident's date, sub-event
    type and source URL as incidents.csv holds them (a recoded row, such as 0040, is recoded in both)."""
    rows = pd.read_csv(BUNDLED_DIR / "incidents.csv", dtype=str, keep_default_na=False).set_index("event_id_cnty")
    listed = {}
    for line in (BUNDLED_DIR / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"\| (CM-XKX-\d{4}) \| (\S+) \| .*? \| (.*?) \| (\S+) \|$", line)
        if m:
            listed[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    assert set(listed) == set(rows.index)
    for eid, (day, sub_event, url) in listed.items():
        assert (day, sub_event, url) == (rows.loc[eid, "event_date"], rows.loc[eid, "sub_event_type"],
                                         rows.loc[eid, "source_url"]), eid
