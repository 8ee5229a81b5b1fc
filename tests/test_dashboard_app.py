"""The Streamlit dashboard through AppTest: filters, URL state, map arguments, notices, pages.

Every expected count is computed with :func:`geodata.model.filters.apply_filters` on the same data the
app loads (same settings), never hard-coded.
"""

from __future__ import annotations

import json
import os
import re
import sys
import types
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from dashboard import state as S  # noqa: E402
from geodata.query import playback  # noqa: E402
from geodata.geo.boundaries import HOW_TO_GET_BOUNDARIES  # noqa: E402
from geodata.model.filters import FilterSpec, actor_options, apply_filters  # noqa: E402
from tests.bundle import load_bundle  # noqa: E402
from geodata.model.selection import Selection  # noqa: E402
from geodata.settings import get_settings  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
APP = str(REPO / "dashboard" / "app.py")
COUNT = re.compile(r"\*\*([\d,]+) of ([\d,]+) incidents\*\*")


@pytest.fixture
def env(clean_env):
    """An empty data folder, no boundaries, no store, no tiles: only the bundled data."""
    return clean_env


@pytest.fixture
def bundle(env):
    """The layers exactly as the app loads them under ``env``."""
    return load_bundle(get_settings())


PAGES = {"map": "views/map.py", "analysis": "views/analysis.py", "upload": "views/upload.py",
         "export": "views/export.py"}


def run_app(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if query:
        at.query_params.update(query)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def goto(at: AppTest, page: str) -> AppTest:
    """Switch to one of the dashboard's pages (as the navigation does) and rerun."""
    at.switch_page(PAGES[page]).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def table_rows(at: AppTest):
    """The Analysis page's incident table."""
    goto(at, "analysis")
    return at.dataframe[-1].value


def shown_count(at: AppTest) -> tuple[int, int]:
    """The sidebar's "N of M incidents"."""
    for md in at.sidebar.markdown:
        match = COUNT.fullmatch(md.value)
        if match:
            return int(match.group(1).replace(",", "")), int(match.group(2).replace(",", ""))
    raise AssertionError("no 'N of M incidents' in the sidebar")


def map_args(at: AppTest) -> dict:
    """The streamlit-folium component's arguments."""
    comps = at.get("component_instance")
    assert len(comps) == 1
    return json.loads(comps[0].proto.json_args)


def drawn_incidents(args: dict) -> int:
    """Number of incident points in the map's incident layer payload."""
    match = re.search(r"var d = (\{.*?\});\n", args["feature_group"], re.S)
    assert match, "no incident payload in the map"
    return len(json.loads(match.group(1))["lat"])


def expected(bundle, spec: FilterSpec) -> int:
    return len(apply_filters(bundle.incidents, spec, bundle.routes, bundle.sites))


def test_app_runs_and_shows_every_incident(bundle):
    at = run_app()
    total = len(bundle.incidents)
    assert shown_count(at) == (total, total)
    assert drawn_incidents(map_args(at)) == total
    assert not at.tabs  # pages, not tabs: the Map page computes no table
    assert not at.dataframe
    assert len(table_rows(at)) == total
    assert not at.get("component_instance")  # the Analysis page draws no map


def _filter_cases(bundle):
    inc = bundle.incidents
    actors = actor_options(inc)
    # An actor that appears only as an associated actor proves associated actors are matched.
    assoc_only = [a for a in actors if not (inc["actor1"].eq(a) | inc["actor2"].eq(a)).any()]
    first = inc["event_date"].min().date()
    mid = (inc["event_date"].min() + (inc["event_date"].max() - inc["event_date"].min()) / 2).date()
    return [
        ("f_actors", [assoc_only[0] if assoc_only else actors[0]],
         FilterSpec(actors=(assoc_only[0] if assoc_only else actors[0],))),
        ("f_types", ["Protests"], FilterSpec(event_types=("Protests",))),
        ("f_subtypes", ["Arrests"], FilterSpec(sub_event_types=("Arrests",))),
        ("f_munis", ["Zubin Potok"], FilterSpec(municipalities=("Zubin Potok",))),
        ("f_minfat", 1, FilterSpec(min_fatalities=1)),
        ("f_text", "Banjska", FilterSpec(text="Banjska")),
        ("f_dates", (first, mid), FilterSpec(end=mid)),
        ("f_routes", [bundle.routes["name"].iloc[0]], FilterSpec(near_routes=(bundle.routes["name"].iloc[0],))),
        ("f_sites", [bundle.sites["name_en"].iloc[0]], FilterSpec(near_sites=(bundle.sites["name_en"].iloc[0],))),
    ]


@pytest.mark.parametrize("case", range(9), ids=["actor", "type", "subtype", "municipality", "min_fatalities",
                                                "text", "dates", "near_route", "near_site"])
def test_each_filter_changes_the_count(bundle, case):
    key, value, spec = _filter_cases(bundle)[case]
    total = len(bundle.incidents)
    want = expected(bundle, spec)
    assert want < total, "the case must restrict the bundled data, or it proves nothing"
    at = run_app()
    widget = {"f_actors": at.multiselect, "f_types": at.multiselect, "f_subtypes": at.multiselect,
              "f_munis": at.multiselect, "f_routes": at.multiselect, "f_sites": at.multiselect,
              "f_minfat": at.number_input, "f_text": at.text_input, "f_dates": at.date_input}[key](key=key)
    widget.set_value(value).run()
    assert not at.exception, [e.message for e in at.exception]
    assert shown_count(at) == (want, total)
    args = map_args(at)
    assert drawn_incidents(args) == want
    # The URL now describes the selection: opening it restores the same spec.
    assert FilterSpec.from_mapping(dict(at.query_params)) == spec
    if key in ("f_routes", "f_sites"):
        assert "Proximity buffer" in args["layer_control"]


def test_query_parameters_restore_filters_and_view(bundle):
    spec = FilterSpec(event_types=("Strategic developments", "Protests"), text="police", min_fatalities=0)
    view = S.ViewOptions(basemap="none", metric="fatalities", step="week")
    at = run_app(S.query_params(spec, view))
    assert shown_count(at) == (expected(bundle, spec), len(bundle.incidents))
    assert at.multiselect(key="f_types").value == ["Strategic developments", "Protests"]
    assert at.text_input(key="f_text").value == "police"
    assert at.radio(key=S.W_BASEMAP).value == "none"
    assert at.session_state[S.W_METRIC] == "fatalities"  # kept (no switch without municipalities)
    assert at.radio(key=S.W_STEP).value == "week"
    assert "tile.openstreetmap.org" not in map_args(at)["script"]
    assert FilterSpec.from_mapping(dict(at.query_params)) == spec


def test_stale_or_malformed_link_still_opens(bundle):
    at = run_app({"actor": ["Nobody at all"], "minfat": "many", "start": "not-a-date", "map": "custom"})
    total = len(bundle.incidents)
    assert shown_count(at) == (total, total)
    assert at.radio(key=S.W_BASEMAP).value == "osm"  # no CONFLICTMAP_TILES: custom is refused, the default used


def test_reset_button_restores_everything(bundle):
    at = run_app({"type": "Protests", "q": "Jarinje"})
    assert shown_count(at)[0] == expected(bundle, FilterSpec(event_types=("Protests",), text="Jarinje"))
    next(b for b in at.sidebar.button if b.label == "Reset filters").click().run()
    total = len(bundle.incidents)
    assert shown_count(at) == (total, total)
    assert FilterSpec.from_mapping(dict(at.query_params)) == FilterSpec()


def test_map_assets_come_from_the_app_not_a_cdn(bundle):
    args = map_args(run_app())
    links = args["js_links"] + args["css_links"]
    assert links, "the map must load Leaflet from somewhere"
    assert not [u for u in links if "http" in u or u.startswith("//")], links
    vendor = REPO / "dashboard" / "static" / "vendor"
    for url in links:
        assert url.startswith("/app/static/vendor/")
        assert (vendor / url.rsplit("/", 1)[1]).is_file(), f"{url} is not served"
    assert not re.search(r"<(script|link)[^>]+(src|href)=[\"']?(https?:)?//", args["header"] + args["html"])
    assert (REPO / ".streamlit" / "config.toml").read_text().count("enableStaticServing = true") == 1


def test_boundaries_missing_notice(bundle):
    assert bundle.municipalities is None
    at = run_app()
    # A set-up hint, out of the way: in the sidebar's "Set-up notes", as plain text; no metric switch.
    assert not at.warning
    assert any(HOW_TO_GET_BOUNDARIES in t.value for t in at.sidebar.expander[-1].text)
    assert at.sidebar.expander[-1].label == "Set-up notes"
    assert not [r for r in at.radio if r.key == S.W_METRIC]
    # Developer text (environment variables, shell commands) only inside "Set-up notes".
    shown = [e.value for kind in ("caption", "markdown", "warning", "info", "error") for e in at.get(kind)]
    shown += [e.value for kind in ("caption", "markdown") for e in at.sidebar.get(kind)]
    assert not [v for v in shown if "CONFLICTMAP_" in v or "python -m" in v], shown
    assert any("CONFLICTMAP_TILES" in t.value for t in at.sidebar.expander[-1].text)
    args = map_args(at)
    assert "Municipalities" not in args["layer_control"]
    assert "Patrol routes" in args["layer_control"] and "Religious sites" in args["layer_control"]


def test_choropleth_with_official_boundaries(env, adm2_path):
    env.setenv("CONFLICTMAP_BOUNDARIES", str(adm2_path))
    b = load_bundle(get_settings())
    at = run_app()
    assert not any(HOW_TO_GET_BOUNDARIES in t.value for t in at.text)
    args = map_args(at)
    assert "Municipalities (incidents)" in args["layer_control"]
    assert "Municipalities: incidents in selection" in args["html"] + args["script"]
    at.radio(key=S.W_METRIC).set_value("fatalities").run()
    args = map_args(at)
    assert "Municipalities (fatalities)" in args["layer_control"]
    assert at.query_params.get("metric") in ("fatalities", ["fatalities"])
    # Municipality filter uses the names from the coordinates (geoBoundaries names).
    at.multiselect(key="f_munis").set_value(["Zveçan"]).run()
    spec = FilterSpec(municipalities=("Zveçan",))
    assert shown_count(at)[0] == len(apply_filters(b.incidents, spec, b.routes, b.sites))


def test_playback_swaps_incidents_without_remounting_the_map(bundle):
    at = run_app()
    before = map_args(at)
    at.radio(key="pb_mode").set_value("Within period").run()
    options = playback.periods(bundle.incidents["event_date"], "month")
    assert at.select_slider(key="pb_period").value == options[0]
    busiest = bundle.incidents["event_date"].dt.to_period("M").value_counts().idxmax().start_time.date()
    at.select_slider(key="pb_period").set_value(busiest).run()
    args = map_args(at)
    want = len(playback.select_period(bundle.incidents, busiest, "month", cumulative=False))
    assert drawn_incidents(args) == want < len(bundle.incidents)
    assert args["key"] == before["key"], "the map's script changed: it would be remounted"
    # Next period, and cumulative mode.
    next(b for b in at.button if b.key == "pb_next").click().run()
    nxt = playback.step(options, busiest, 1)
    assert at.select_slider(key="pb_period").value == nxt
    at.radio(key="pb_mode").set_value("Up to period").run()
    assert drawn_incidents(map_args(at)) == len(playback.select_period(bundle.incidents, nxt, "month", True))


def test_clicked_incident_details(bundle):
    at = run_app()
    target = bundle.incidents.iloc[5]
    key = map_args(at)["key"]
    at.session_state[key] = {"last_object_clicked": {"lat": target.geometry.y + 0.0005, "lng": target.geometry.x}}
    at.run()
    assert not at.exception
    from geodata.query.analysis import nearest_incident

    row = nearest_incident(bundle.incidents, target.geometry.y + 0.0005, target.geometry.x)
    details = at.dataframe[0].value
    assert row["event_id_cnty"] in details["value"].tolist()


def test_upload_and_export_panels_are_optional(bundle, monkeypatch):
    import dashboard

    for name in ("upload_panel", "export_panel"):
        monkeypatch.setitem(sys.modules, f"dashboard.{name}", None)  # the import raises ImportError
        monkeypatch.delattr(dashboard, name, raising=False)  # an earlier import left it on the package
    at = run_app()
    assert "Upload is not available in this build" in [i.value for i in goto(at, "upload").info]
    assert "Export is not available in this build" in [i.value for i in goto(at, "export").info]


def test_upload_and_export_panels_are_called(bundle, monkeypatch):
    calls: dict[str, object] = {}
    up, ex = types.ModuleType("dashboard.upload_panel"), types.ModuleType("dashboard.export_panel")
    up.render = lambda settings, shown=None: calls.setdefault("upload", settings)
    ex.render = lambda ctx: calls.setdefault("export", ctx)
    import dashboard

    for name, module in (("upload_panel", up), ("export_panel", ex)):
        monkeypatch.setitem(sys.modules, f"dashboard.{name}", module)
        monkeypatch.setattr(dashboard, name, module, raising=False)
    at = run_app({"type": "Protests"})
    assert not calls  # the Map page renders neither panel
    goto(at, "upload")
    goto(at, "export")
    assert calls["upload"] == get_settings()
    ctx = calls["export"]
    assert isinstance(ctx, Selection)
    assert ctx.spec == FilterSpec(event_types=("Protests",))
    assert len(ctx.incidents) == expected(bundle, ctx.spec)
    assert ctx.tiles == "osm" and ctx.metric == "incidents"  # the default basemap (falls back offline)
    assert ctx.notes == (HOW_TO_GET_BOUNDARIES,) and ctx.municipalities is None
    assert len(ctx.routes) == len(bundle.routes) and len(ctx.sites) == len(bundle.sites)


def test_date_range_widget_is_bounded_by_the_data(bundle):
    at = run_app()
    first, last = bundle.incidents["event_date"].min().date(), bundle.incidents["event_date"].max().date()
    widget = at.date_input(key="f_dates")
    assert tuple(widget.value) == (first, last)
    assert (widget.proto.min, widget.proto.max) == (first.isoformat(), last.isoformat())


def test_empty_selection_still_renders(bundle):
    at = run_app({"q": "no incident mentions this zzqx"})
    assert shown_count(at) == (0, len(bundle.incidents))
    assert drawn_incidents(map_args(at)) == 0
    assert at.metric[0].value == "0"
    at.radio(key="pb_mode").set_value("Within period").run()  # no periods: playback shows nothing to step
    assert not at.exception
    assert not at.select_slider


def test_configured_tile_server_is_offered(env, bundle):
    env.setenv("CONFLICTMAP_TILES", "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png")
    env.setenv("CONFLICTMAP_TILES_ATTRIBUTION", "Local tiles <b>test</b>")
    at = run_app({"map": "custom"})
    assert at.radio(key=S.W_BASEMAP).value == "custom"
    script = map_args(at)["script"]
    assert "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png" in script
    assert "<b>test</b>" not in script  # attribution is escaped


def test_basemap_defaults_to_tiles(env, bundle):
    """OpenStreetMap by default (the map falls back to the offline geography when tiles fail); the
    configured tile server instead when there is one; "No basemap" stays selectable and in the URL."""
    at = run_app()
    assert at.radio(key=S.W_BASEMAP).value == "osm" and "map" not in at.query_params
    assert "tile.openstreetmap.org" in map_args(at)["script"]
    at.radio(key=S.W_BASEMAP).set_value("none").run()
    assert at.query_params["map"] in ("none", ["none"])
    assert "tile.openstreetmap.org" not in map_args(at)["script"]
    env.setenv("CONFLICTMAP_TILES", "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png")
    custom = run_app()
    assert custom.radio(key=S.W_BASEMAP).value == "custom" and "map" not in custom.query_params
    assert "http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png" in map_args(custom)["script"]
    custom.radio(key=S.W_BASEMAP).set_value("osm").run()
    assert custom.query_params["map"] in ("osm", ["osm"])  # not the default here: the link must say so


def test_many_incidents_are_clustered_with_local_assets(bundle, monkeypatch):
    import layers.incidents

    monkeypatch.setattr(layers.incidents, "MARKER_LIMIT", 10)  # the bundled data now counts as "many"
    args = map_args(run_app())
    assert '"cluster"' in args["feature_group"] and "markerClusterGroup" in args["feature_group"]
    links = args["js_links"] + args["css_links"]
    assert any("markercluster" in u for u in links), links
    assert not [u for u in links if "http" in u], links
    vendor = REPO / "dashboard" / "static" / "vendor"
    assert all((vendor / u.rsplit("/", 1)[1]).is_file() for u in links)
    assert drawn_incidents(args) == len(bundle.incidents)


def test_real_upload_and_export_panels_render_in_their_tabs(bundle):
    pytest.importorskip("dashboard.upload_panel", reason="the upload panel is not in this build")
    pytest.importorskip("dashboard.export_panel", reason="the export panel is not in this build")
    at = run_app({"type": "Battles"})
    assert goto(at, "upload").get("file_uploader"), "the Upload page shows no file uploader"
    labels = [d.proto.label for d in goto(at, "export").get("download_button")]
    assert "Map (standalone HTML)" in labels and "CSV (Excel)" in labels
    assert not [i.value for i in at.info if "not available" in i.value]


def test_new_uploads_appear_without_restarting(env, tmp_path):
    """Incidents ingested into the store (here by the command line) show on the next rerun."""
    import subprocess

    corpus = REPO / "tests" / "data" / "ingest" / "acled_current_bom.csv"
    if not corpus.is_file():
        pytest.skip(f"ingest corpus {corpus} is not in this build")
    at = run_app()
    before = shown_count(at)[1]
    done = subprocess.run([sys.executable, "-m", "geodata", "ingest", str(corpus)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    at.run()
    after = load_bundle(get_settings()).incidents
    assert after["origin"].str.startswith("upload").any()
    assert shown_count(at) == (len(after), len(after)) and len(after) > before


def test_sequences_page_is_in_the_navigation_and_keeps_its_link(bundle):
    """The Sequences page runs inside the app; ?seq=&step= survives the sidebar's URL rewrite."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"seq": "SEQ-004", "step": "2"})  # the bundled Banjska attack
    at.switch_page("views/sequences.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="seq_choice").value == "SEQ-004"
    assert "Step 2 of 4" in [t.value for t in at.text]
    assert at.query_params["seq"] == "SEQ-004" and at.query_params["step"] == "2"
    assert not at.warning  # "step=2" is the page's step, not an unknown timeline step
    at.button(key="seq_next").click().run()
    assert "Step 3 of 4" in [t.value for t in at.text] and at.query_params["step"] == "3"


def test_clicked_incident_shows_the_curation_section_and_records_a_status(bundle):
    at = run_app()
    target = bundle.incidents[bundle.incidents["event_id_cnty"] == "CM-XKX-0012"].iloc[0]
    key = map_args(at)["key"]
    at.session_state[key] = {"last_object_clicked": {"lat": target.geometry.y, "lng": target.geometry.x}}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    shown = [t.value for t in at.text]
    assert any(t.startswith("Verification status: ") for t in shown)
    assert any(t.startswith("Sources (") for t in shown)
    assert "Possible duplicates" in shown
    event_id = at.dataframe[0].value.set_index("field").loc["Event id", "value"]
    from geodata.service.curation import CurationService

    with CurationService(get_settings()) as svc:
        before = svc.history(event_id)
        choice = at.selectbox(key="cur_new").value  # the first allowed transition
        at.text_input(key="cur_who").set_value("Test Analyst")
        at.text_area(key="cur_why").set_value("checked two reports")
        at.button[[b.label for b in at.button].index("Record status change")].click().run()
        assert not at.exception, [e.message for e in at.exception]
        after = svc.history(event_id)
    assert len(after) == len(before) + 1 and after[-1].who == "Test Analyst"
    assert after[-1].why == "checked two reports" and after[-1].new_status == choice
    assert any(t.startswith("Recorded: ") for t in [s.value for s in at.success])


def test_verification_status_filter_url_and_reset(bundle):
    from geodata.service.curation import with_curation

    annotated = with_curation(bundle.incidents)
    want = int((annotated["verification_status"].fillna("reported") == "disputed").sum())
    assert 0 < want < len(bundle.incidents)  # the bundled data marks some rows disputed (issue 13)
    at = run_app()
    assert at.multiselect(key=S.W_STATUS).options == [s.capitalize() for s in S.STATUSES]
    at.multiselect(key=S.W_STATUS).set_value(["disputed"]).run()
    assert shown_count(at) == (want, len(bundle.incidents))
    assert at.query_params["status"] in ("disputed", ["disputed"])
    linked = run_app({"status": ["disputed", "nonsense"]})
    assert linked.multiselect(key=S.W_STATUS).value == ["disputed"]
    assert shown_count(linked) == (want, len(bundle.incidents))
    assert any("nonsense" in w.value for w in linked.warning)
    linked.button[[b.label for b in linked.button].index("Reset filters")].click().run()
    assert linked.multiselect(key=S.W_STATUS).value == []
    assert shown_count(linked) == (len(bundle.incidents), len(bundle.incidents))


def test_table_tells_precision_status_and_one_spelling(bundle):
    from geodata.service.curation import with_curation
    from geodata.geo.placenames import display_name
    from geodata.model.precision import precision_columns

    rows = table_rows(run_app()).set_index("event_id_cnty")
    assert len(rows) == len(bundle.incidents)
    want = precision_columns(bundle.incidents).set_index(bundle.incidents["event_id_cnty"])
    assert rows["date as known"].to_dict() == want["date_as_known"].to_dict()
    assert rows["location precision"].to_dict() == want["location_precision"].to_dict()
    assert rows["location precision"].nunique() > 1  # the bundled rows are not all exact
    status = with_curation(bundle.incidents).set_index("event_id_cnty")
    assert rows["verification_status"].to_dict() == status["verification_status"].to_dict()
    assert rows["source_count"].to_dict() == status["source_count"].to_dict()
    assert rows["sequence"].to_dict() == status["sequence"].to_dict()
    assert set(rows["municipality"]) == {display_name(m) for m in bundle.incidents["municipality"]}


def test_proximity_count_tells_within_from_possibly(bundle):
    from geodata.model.precision import proximity_classes, proximity_text

    sites = bundle.sites
    km = 2.0
    # A site where some incident is only possibly within the distance (approximate location), if any.
    best = None
    for name in sites["name_en"]:
        classes = proximity_classes(bundle.incidents, sites[sites["name_en"] == name], km)
        if (classes == "within").any():
            best = (name, classes)
            if (classes == "possibly").any():
                break
    assert best is not None
    name, classes = best
    assert (classes == "possibly").any()  # Banjska Monastery: 4 within 2 km, 3 possibly (town-level rows)
    at = run_app({"site": name, "km": str(km)})
    shown = [t.value for t in at.sidebar.text]
    assert proximity_text(classes, km) in shown
    assert shown_count(at)[0] == int((classes == "within").sum())


def test_display_language_names_places_everywhere(bundle):
    from geodata.geo.placenames import display_name

    munis = sorted(set(bundle.incidents["municipality"].dropna()))
    at = run_app()
    assert at.radio(key=S.W_LANG).value == "en" and "lang" not in at.query_params
    english = at.multiselect(key=S.W_MUNIS).options
    assert english == [display_name(m, "en") for m in english]  # English spellings offered by default
    at.radio(key=S.W_LANG).set_value("sq").run()
    assert at.query_params["lang"] in ("sq", ["sq"])
    sq = {display_name(m, "sq") for m in munis}
    assert sq != {display_name(m, "en") for m in munis}  # the test would not tell the languages apart otherwise
    albanian = at.multiselect(key=S.W_MUNIS).options
    assert albanian == [display_name(m, "sq") for m in english] and albanian != english
    assert "Zveçan" in map_args(at)["script"]
    rows = table_rows(at)
    assert set(rows["municipality"]) == sq
    linked = run_app({"lang": "sr"})
    assert linked.radio(key=S.W_LANG).value == "sr"
    assert set(table_rows(linked)["municipality"]) == {display_name(m, "sr") for m in munis}
    bad = run_app({"lang": "xx"})
    assert bad.radio(key=S.W_LANG).value == "en" and any("lang" in w.value for w in bad.warning)


def test_filter_summary_spells_places_as_the_map_does(bundle):
    # Issue 21 item 6: the sidebar summary, the Analysis caption and the export/PNG titles (FilterSpec.describe)
    # said "Zveçan" while the map said "Zvečan".
    canonical = next(m for m in bundle.incidents["municipality"].dropna().unique() if "Zve" in m)
    at = run_app({"muni": canonical})
    summary = [c.value for c in at.sidebar.caption if "municipality" in c.value]
    assert summary and "Zvečan" in summary[0] and "Zveçan" not in summary[0]
    goto(at, "analysis")
    caption = [c.value for c in at.caption if "municipality" in c.value]
    assert caption and "Zvečan" in caption[0] and "Zveçan" not in caption[0]
    assert "Zveçan" in FilterSpec(municipalities=(canonical,)).describe("sq")
    assert "Zvečan" in FilterSpec(municipalities=(canonical,)).describe()  # export-html and export-png titles


def test_where_text_uses_one_spelling():
    from geodata.geo.placenames import where

    assert where("Banjska", "Zveçan") == "Banjska, Zvečan"
    assert where("Zvecan", "Zveçan") == "Zvečan"
    assert where(None, float("nan")) == ""
    assert where("Banjska", "Zveçan", "sq").endswith("Zveçan")


def test_bogus_link_notice_is_plain_words_and_one_short_paragraph(bundle):
    # Issue 21 item 8: no `c="abc"` / `z="99"` jargon, and no bullet list pushing the map below the fold.
    at = run_app({"c": "abc", "z": "99"})
    (notice,) = [w.value.replace("\\", "") for w in at.warning if "link" in w.value]
    assert "the map position in the link could not be read (“abc”)" in notice
    assert "the map zoom in the link could not be read (“99”)" in notice
    assert "=" not in notice and "c“" not in notice and "z“" not in notice
    assert "\n" not in notice and not notice.lstrip().startswith("-")
    many = run_app({"c": "abc", "z": "99", "minfat": "lots", "actor": ["Nobody"], "start": "2099-01-01"})
    (notice,) = [w.value for w in many.warning if "link" in w.value]
    assert "\n" not in notice and notice.count("; ") == 4  # five problems in one paragraph
    last = bundle.incidents["event_date"].max().date().isoformat()
    one_day = run_app({"start": "2099-01-01"})
    (why,) = [w.value.replace("\\", "") for w in one_day.warning if "link" in w.value]  # Markdown escapes off
    assert f"after the last day with data ({last})" in why and "that one day only" in why


def test_clicked_incident_details_use_one_spelling(bundle):
    """Issue 21 item 6: the details table names places as the map does ("Zvečan" in English, never "Zveçan")."""
    from geodata.geo.placenames import where

    at = run_app()
    zv = bundle.incidents[bundle.incidents["municipality"].astype(str).str.contains("Zve")]
    target = zv.iloc[0]
    key = map_args(at)["key"]
    at.session_state[key] = {"last_object_clicked": {"lat": target.geometry.y, "lng": target.geometry.x}}
    at.run()
    assert not at.exception
    details = at.dataframe[0].value.set_index("field")["value"]
    assert "Zveçan" not in details["Where"]
    assert details["Where"] == where(target["location"], target["municipality"], "en")
