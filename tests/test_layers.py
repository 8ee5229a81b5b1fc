"""Folium layers: escaping, safe links, representation by size, offline assets."""

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from geodata.ingest.bundled import load_bundled_incidents, to_geodataframe
from geodata.geo.routes import load_routes
from geodata.settings import BUNDLED_DIR
from geodata.geo.sites import load_sites
from layers.assets import external_references, inline_assets
from layers.html import esc, safe_link, safe_url, script_json
from layers.incidents import CLUSTER_LIMIT, MARKER_LIMIT, build_payload, choose_representation, popup_html
from layers.map import MapInputs, build_map

REPO = Path(__file__).resolve().parents[1]
HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'`${x}'


def test_no_module_outside_the_streamlit_ui_imports_streamlit():
    """Every module of geodata and layers, and the dashboard's command line, imports without Streamlit."""
    code = ("import importlib, pkgutil, sys, geodata, layers\n"
            "for pkg in (geodata, layers):\n"
            "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
            "        if m.name != 'geodata.__main__':\n"
            "            importlib.import_module(m.name)\n"
            "import dashboard.cli\n"
            "print('streamlit' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_esc_and_links():
    assert "<" not in esc(HOSTILE) and "&lt;script&gt;" in esc(HOSTILE)
    assert safe_url("javascript:alert(1)") is None and safe_url("data:text/html,x") is None
    assert safe_link("javascript:alert(1)", "x") == "x"
    assert safe_link("https://a.example/?q=<b>") == "https://a.example/?q=&lt;b&gt;"  # refused: shown as text
    assert safe_link("https://a.example/?q=1&r=2", "r").startswith('<a href="https://a.example/?q=1&amp;r=2"')
    assert "</script" not in script_json({"a": "</script><script>alert(1)</script>"})


def test_popup_escapes_every_user_value():
    inc = load_bundled_incidents().head(1).copy()
    for col in ("notes", "actor1", "actor2", "location", "source", "event_id_cnty"):
        inc[col] = HOSTILE
    html = popup_html(inc.iloc[0])
    assert "<script>" not in html and "<img" not in html
    assert html.count("&lt;script&gt;") >= 5


@pytest.mark.parametrize("n, mode", [(0, "markers"), (MARKER_LIMIT, "markers"), (MARKER_LIMIT + 1, "cluster"),
                                     (CLUSTER_LIMIT, "cluster"), (CLUSTER_LIMIT + 1, "aggregate")])
def test_representation_thresholds(n, mode):
    assert choose_representation(n) == mode


def test_payload_modes_carry_the_right_fields():
    inc = load_bundled_incidents()
    markers = build_payload(inc)
    assert markers.mode == "markers" and len(markers.data["popup"]) == len(inc)
    cluster = build_payload(inc, "cluster")
    assert "popup" not in cluster.data and len(cluster.data["d"]) == len(inc)
    agg = build_payload(inc, "aggregate")
    assert sum(agg.data["n"]) == len(inc) and sum(agg.data["f"]) == int(inc["fatalities"].sum())


@pytest.mark.parametrize("lang", ["en", "sr"])
def test_marker_popups_are_those_of_each_row(lang):
    """The payload builds popups and tooltips from plain row dicts (fast); they must be exactly what
    :func:`popup_html` and :func:`tooltip_text` give for each pandas row, curation and enrichment included."""
    from geodata.geo.enrich import enrich_incidents
    from geodata.model.selection import Selection
    from geodata.service.curation import curated
    from layers.incidents import tooltip_text

    routes, sites = load_routes(BUNDLED_DIR / "patrol_routes.geojson"), load_sites()
    inc = curated(Selection(incidents=enrich_incidents(load_bundled_incidents(), None, routes, sites))).incidents
    assert {"verification_status", "sources", "nearest_route", "dist_site_m"} <= set(inc.columns)
    payload = build_payload(inc, "markers", lang)
    assert payload.data["popup"] == [popup_html(r, lang) for _, r in inc.iterrows()]
    assert payload.data["tip"] == [tooltip_text(r, lang) for _, r in inc.iterrows()]


def test_map_inlines_to_a_standalone_file_without_cdn_links():
    inc = load_bundled_incidents()
    m = build_map(MapInputs(inc, None, load_routes(BUNDLED_DIR / "patrol_routes.geojson"), load_sites()),
                  title=HOSTILE)
    raw = m.get_root().render()
    assert external_references(raw)  # folium's output does reference CDNs…
    html = inline_assets(raw)
    assert external_references(html) == []  # …and the inlined file does not
    assert "L.map(" in html and "cm-legend" in html
    assert "<script>alert(1)</script>" not in html
    assert html.count('"cm-incident"') == 1  # one template, data-driven markers


def test_cluster_map_inlines_markercluster():
    inc = load_bundled_incidents()
    html = inline_assets(build_map(MapInputs(inc), representation="cluster").get_root().render())
    assert external_references(html) == [] and "markerClusterGroup" in html and "MarkerClusterGroup" in html


@pytest.mark.parametrize("mode", ["markers", "cluster", "aggregate"])
def test_incident_layer_renders_the_same_page_as_folium_would(mode, monkeypatch):
    """IncidentLayer hands its rendered script to the page as text (no Jinja compile of the payload);
    the page is exactly what folium's own render chain gives."""
    import copy

    import folium
    from folium.elements import JSCSSMixin

    from layers.incidents import IncidentLayer, incident_layer

    inc = load_bundled_incidents()
    m = folium.Map(location=[42.9, 20.8], zoom_start=9)
    incident_layer(inc, mode).add_to(m)
    ours, theirs = copy.deepcopy(m), copy.deepcopy(m)
    html = ours.get_root().render()
    layer = next(c for c in ours._children.values() if isinstance(c, IncidentLayer))
    assert type(ours.get_root().script._children[layer.get_name()]).__name__ == "_Text"  # not compiled
    monkeypatch.setattr(IncidentLayer, "render", JSCSSMixin.render)  # folium's chain
    assert theirs.get_root().render() == html
    assert "var d = {" in html
