"""build_map extensions used by the dashboard: dynamic incident group, maxZoom, jQuery kept."""

from __future__ import annotations

import folium

from geodata.ingest.bundled import load_bundled_incidents
from layers.assets import JQUERY_JS, localize_links
from layers.map import MAX_ZOOM, MapInputs, build_map, incident_group, layer_control


def _children(m: folium.Map, cls) -> list:
    return [c for c in m._children.values() if isinstance(c, cls)]


def test_dynamic_incidents_leave_layer_and_control_to_the_caller():
    inc = load_bundled_incidents()
    static = build_map(MapInputs(inc))
    dynamic = build_map(MapInputs(inc), dynamic_incidents=True)
    assert _children(static, folium.LayerControl) and not _children(dynamic, folium.LayerControl)
    assert "cm-incident" in static.get_root().render()
    assert "cm-incident" not in dynamic.get_root().render()
    group = incident_group(inc.iloc[:5], "markers")
    assert group.layer_name == "Incidents (5)"
    group.add_to(dynamic)
    layer_control().add_to(dynamic)
    html = dynamic.get_root().render()
    assert html.count("cm-incident") == 1 and '"Incidents (5)"' in html


def test_map_sets_max_zoom_for_clusters_without_tiles():
    html = build_map(MapInputs(load_bundled_incidents()), representation="cluster").get_root().render()
    assert f'"maxZoom": {MAX_ZOOM}' in html and "markerClusterGroup" in html


def test_jquery_is_kept_and_served_locally_for_popups():
    m = build_map(MapInputs(load_bundled_incidents()))
    assert ("jquery", JQUERY_JS) in m.default_js
    links = localize_links(m, "/app/static/vendor/")
    assert any(u.endswith("jquery-3.7.1.min.js") and u.startswith("/app/static/vendor/") for u in links)
