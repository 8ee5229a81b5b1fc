"""The Map page mounts its map once (issue 17, item 1), seen in headless Chromium (network cut).

A value set inside the map's window (its iframe document) survives a filter change: the map was
updated in place, not rebuilt. The layer control's "Incidents (N)" follows the new selection, the
choropleth and buffers are layers of the selection, and the reader's pan and zoom are kept. Counts
come from the data (:func:`geodata.model.filters.apply_filters` on the bundled layers), never hard-coded.
"""

from __future__ import annotations

import re

import pytest

from geodata.model.filters import FilterSpec, apply_filters
from tests.bundle import load_bundle
from geodata.settings import get_settings
from tests.test_browser_dashboard import CHROMIUM, CHROMIUM_ARGS, MAP_IFRAME, offline_router
from tests.test_browser_dashboard import server  # noqa: F401  (module fixture: one dashboard for this file)


def _label(frame) -> int:
    text = frame.locator(".leaflet-control-layers-overlays").inner_text()
    m = re.search(r"Incidents \(([\d,]+)\)", text)
    assert m, text
    return int(m.group(1).replace(",", ""))


def test_filter_change_updates_the_mounted_map(server):  # noqa: F811
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from playwright.sync_api import sync_playwright

    port, env = server
    bundle = load_bundle(get_settings(env))
    total = len(bundle.incidents)
    protests = len(apply_filters(bundle.incidents, FilterSpec(event_types=("Protests",)), bundle.routes, bundle.sites))
    assert 0 < protests < total
    blocked: list[tuple[str, str]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.route("**/*", offline_router(blocked))
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            frame_el = page.locator(MAP_IFRAME).first
            frame_el.wait_for(timeout=60_000)
            frame = page.frame_locator(MAP_IFRAME)
            frame.locator(".leaflet-control-layers-overlays").wait_for(timeout=60_000)
            page.wait_for_function(
                """(sel) => { const f = document.querySelector(sel); if (!f) return false;
                   const t = f.contentDocument.querySelector('.leaflet-control-layers-overlays');
                   return t && /Incidents \\(/.test(t.innerText); }""", arg=MAP_IFRAME, timeout=60_000)
            assert _label(frame) == total
            layers = frame.locator(".leaflet-control-layers-overlays").inner_text()
            assert "Municipalities" in layers  # the choropleth is a layer of the selection

            # Mark the map's document, zoom in (the reader's view), then change a filter.
            handle = frame_el.element_handle()
            doc = handle.content_frame()
            doc.evaluate("() => { window.__cm_probe = 17; }")
            doc.locator(".leaflet-control-zoom-in").click()
            page.wait_for_timeout(800)
            zoom_before = doc.evaluate("() => (window.map_div || Object.values(window).find(v => v && v.getZoom))"
                                       ".getZoom()")

            box = page.get_by_test_id("stSidebarUserContent").get_by_role("combobox", name="Event type", exact=True)
            box.click()
            page.keyboard.type("Protests")
            page.keyboard.press("Enter")
            page.keyboard.press("Escape")
            page.wait_for_function(
                """([sel, n]) => { const f = document.querySelector(sel); if (!f) return false;
                   const t = f.contentDocument.querySelector('.leaflet-control-layers-overlays');
                   return t && t.innerText.includes('Incidents (' + n + ')'); }""",
                arg=[MAP_IFRAME, f"{protests:,}"], timeout=60_000)
            doc = page.locator(MAP_IFRAME).first.element_handle().content_frame()
            assert doc.evaluate("() => window.__cm_probe") == 17, "the map was rebuilt (its document is new)"
            assert _label(page.frame_locator(MAP_IFRAME)) == protests
            zoom_after = doc.evaluate("() => (window.map_div || Object.values(window).find(v => v && v.getZoom))"
                                      ".getZoom()")
            assert zoom_after == zoom_before
            assert not [b for b in blocked if "127.0.0.1" in b[1]]
        finally:
            browser.close()


def test_a_map_first_shown_as_hexagons_can_take_markers_later():
    """The mounted map loads no new scripts: its base carries the incident layer's assets whatever the first
    representation was (a map first shown as hexagons failed with 'L.markerClusterGroup is not a function'
    once a filter brought clusters or markers)."""
    import geopandas as gpd

    from layers.map import MapInputs, build_map

    empty = gpd.GeoDataFrame({"event_type": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    html = build_map(MapInputs(incidents=empty, geography=False), representation="aggregate",
                     dynamic_incidents=True, dynamic_selection=True).get_root().render()
    assert "leaflet.markercluster" in html and "MarkerCluster.css" in html


def _label_texts(doc) -> list[str]:
    return doc.evaluate("() => Array.from(document.querySelectorAll('.cm-label span')).map(s => s.textContent)")


def test_a_language_switch_renames_places_in_the_mounted_map(server):  # noqa: F811
    """Issue 17 item 1: "Place names in" Shqip and then Srpski change the place labels and the sites'
    names in place, and "Municipalities show" Fatalities changes the legend; the map's document
    survives. The legend shows only the drawn representation's and metric's rows."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from playwright.sync_api import sync_playwright

    from geodata.geo.places import load_places

    places = load_places().set_index("place_id")
    zvecan = places.loc["PLACE-002"]  # Zvečan / Zveçan / Zvečan; North Mitrovica / Mitrovicë e Veriut / Severna Mitrovica
    north = places.loc["PLACE-001"]
    from geodata.geo.sites import load_sites

    banjska = load_sites().set_index("site_id").loc["SITE-001"]  # Banjska Monastery / Manastiri i Banjskës
    port, _env = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.route("**/*", offline_router([]))
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.locator(MAP_IFRAME).first.wait_for(timeout=60_000)
            page.frame_locator(MAP_IFRAME).locator(".cm-label span").first.wait_for(timeout=60_000)
            doc = page.locator(MAP_IFRAME).first.element_handle().content_frame()
            assert north["name_en"] in _label_texts(doc)
            # The legend shows the rows of the representation drawn (40 incidents: markers) only.
            shown = doc.evaluate("""() => Array.from(document.querySelectorAll('.cm-legend .cm-rep'))
                .filter(e => getComputedStyle(e).display !== 'none').map(e => e.textContent)""")
            assert any("Verification status" in t for t in shown) and any("Dashed circle" in t for t in shown)
            assert not any("Hexagons" in t for t in shown)

            def metric_sections():
                return doc.evaluate("""() => Array.from(document.querySelectorAll('.cm-legend .cm-metric'))
                    .filter(e => getComputedStyle(e).display !== 'none').map(e => e.textContent)""")

            assert [t.split(" in selection")[0] for t in metric_sections()] == ["Municipalities: incidents"]
            doc.evaluate("() => { window.__cm_probe = 41; }")
            for lang, column in (("Shqip", "name_sq"), ("Srpski", "name_sr")):
                page.get_by_test_id("stSidebarUserContent").get_by_text(lang, exact=True).click()
                page.wait_for_function(
                    """([sel, name]) => { const f = document.querySelector(sel); if (!f) return false;
                       return Array.from(f.contentDocument.querySelectorAll('.cm-label span'))
                           .some(s => s.textContent === name); }""",
                    arg=[MAP_IFRAME, north[column]], timeout=60_000)
                doc = page.locator(MAP_IFRAME).first.element_handle().content_frame()
                assert doc.evaluate("() => window.__cm_probe") == 41, f"the map was rebuilt for {lang}"
                texts = _label_texts(doc)
                assert north["name_en"] not in texts or north["name_en"] == north[column]
                assert zvecan[column] in texts or zvecan["name_en"] not in texts
                titles = doc.evaluate("() => Array.from(document.querySelectorAll('.cm-site')).map(e => e.title)")
                assert banjska[column] in titles and banjska["name_en"] not in titles  # the sites too
            # The choropleth's metric: the legend follows, the map stays.
            page.get_by_test_id("stSidebarUserContent").get_by_text("Fatalities", exact=True).click()
            page.wait_for_function(
                """(sel) => { const f = document.querySelector(sel); if (!f) return false;
                   return f.contentDocument.body.classList.contains('cm-metric-is-fatalities'); }""",
                arg=MAP_IFRAME, timeout=60_000)
            doc = page.locator(MAP_IFRAME).first.element_handle().content_frame()
            assert doc.evaluate("() => window.__cm_probe") == 41, "the map was rebuilt for the metric"
            assert [t.split(" in selection")[0] for t in metric_sections()] == ["Municipalities: fatalities"]
        finally:
            browser.close()


def test_the_base_map_is_the_same_for_every_representation():
    """A selection crossing a size limit (markers → clusters → hexagons) keeps the mounted map:
    streamlit-folium keys its component on the base map's script, which no longer depends on the
    representation; the incident group flags which legend rows to show."""
    import geopandas as gpd

    from layers.map import MapInputs, build_map, incident_group

    empty = gpd.GeoDataFrame({"event_type": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")

    def script(representation: str, metric: str = "incidents") -> str:
        m = build_map(MapInputs(incidents=empty, geography=False), representation=representation, metric=metric,
                      dynamic_incidents=True, dynamic_selection=True, dynamic_view=True)
        return re.sub(r"_[0-9a-f]{32}", "_ID", m.get_root().render())  # element ids differ per build

    assert script("markers") == script("cluster") == script("aggregate") == script("markers", "fatalities")
    html = script("markers")
    assert "cm-rep cm-rep-aggregate" in html and "cm-rep cm-rep-markers" in html and ".cm-rep,.cm-metric{display:none}" in html
    import folium

    holder = folium.Map()
    incident_group(empty, "aggregate").add_to(holder)
    flag = holder.get_root().render()
    assert "cm-mode-" in flag and '"aggregate"' in flag
